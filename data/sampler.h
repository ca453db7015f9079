// Samplers: the order in which a DataLoader visits a dataset's examples, chosen anew each
// epoch (torch.utils.data.Sampler). DistributedSampler gives each of num_replicas processes a
// disjoint shard of the same epoch order (torch.utils.data.distributed.DistributedSampler);
// it needs no MPI: the caller passes its rank and the number of processes.
//
//   auto sampler = std::make_shared<data::DistributedSampler>(
//       dataset->size(), data::DistributedSamplerOptions{.num_replicas = 2, .rank = 1});
//   data::DataLoader loader(dataset, {.batch_size = 32, .sampler = sampler});
//   for (int64_t epoch = 0; epoch < 10; ++epoch) {
//     sampler->set_epoch(epoch);   // a new shuffle each epoch, the same on every rank
//     for (auto [x, y] : loader) { ... }
//   }
#pragma once

#include <cstdint>
#include <vector>

#include <tapegrad/data/dataset.h>

namespace tg::data {

/// An epoch order of dataset indices.
class Sampler {
 public:
  virtual ~Sampler() = default;
  /// The indices of one epoch, in order (called at the start of every epoch).
  virtual std::vector<int64_t> indices() const = 0;
  /// How many indices an epoch has.
  virtual int64_t size() const = 0;
};

struct DistributedSamplerOptions {
  int64_t num_replicas = 1;  ///< processes taking part (world size)
  int64_t rank = 0;          ///< this process, in [0, num_replicas)
  bool shuffle = true;       ///< a permutation seeded by seed + epoch, else 0..n-1
  uint64_t seed = 0;         ///< the same on every rank
  /// Drop the tail so every rank gets floor-ish equal shards; else pad the order by
  /// repeating its start until it divides evenly (PyTorch's rule).
  bool drop_last = false;
};

/// Rank r's shard of an epoch order: order[r], order[r + R], order[r + 2R], ... for R
/// replicas, after padding or dropping the order to a multiple of R (so every rank has
/// the same number of examples, and the same number of steps).
class DistributedSampler : public Sampler {
 public:
  DistributedSampler(int64_t dataset_size, DistributedSamplerOptions options = {});
  /// PyTorch's spelling: DistributedSampler(dataset, ...) samples dataset.size() examples.
  DistributedSampler(const Dataset& dataset, DistributedSamplerOptions options = {})
      : DistributedSampler(dataset.size(), options) {}
  std::vector<int64_t> indices() const override;
  /// Examples per rank: ceil(n / R), or with drop_last ceil((n - R) / R) when R does not
  /// divide n (PyTorch's num_samples).
  int64_t size() const override { return num_samples_; }
  /// Sets the epoch whose order indices() returns (seeds the shuffle with seed + epoch).
  void set_epoch(int64_t epoch) { epoch_ = epoch; }
  int64_t epoch() const { return epoch_; }
  const DistributedSamplerOptions& options() const { return options_; }

 private:
  int64_t dataset_size_, num_samples_ = 0, epoch_ = 0;
  DistributedSamplerOptions options_;
};

}  // namespace tg::data
