// What lets an example run alone or as `mpirun -np N example ...` unchanged (docs/distributed.md):
// built with MPI (TAPEGRAD_DISTRIBUTED, set by examples/meson.build) it starts MPI, gives each
// process its shard of the training set (data::DistributedSampler), averages the gradients
// (distributed::DistributedDataParallel) and lets rank 0 alone print, evaluate and save; built
// without MPI, or run as one process, every call is the plain single-process behaviour.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

#include <tapegrad/tapegrad.h>
#ifdef TAPEGRAD_DISTRIBUTED
#include <tapegrad/distributed/collectives.h>
#include <tapegrad/distributed/ddp.h>
#include <tapegrad/distributed/environment.h>
#endif

namespace tg::examples {

class DataParallel {
 public:
  /// Where this process stands; the other ranks' standard output goes to /dev/null.
  DataParallel() {
#ifdef TAPEGRAD_DISTRIBUTED
    rank_ = distributed::rank(), world_ = distributed::world_size();
    if (world_ > 1) set_num_threads(1);  // the processes share the cores (--threads overrides)
#endif
    if (rank_ != 0 && !std::freopen("/dev/null", "w", stdout))
      fail("cannot silence rank {}", rank_);
  }
  int rank() const { return rank_; }
  int world_size() const { return world_; }
  /// Rank 0: it logs, evaluates and writes the checkpoint.
  bool lead() const { return rank_ == 0; }

  /// The loader's options for this process: alone, unchanged; with N processes, its shard of
  /// each epoch's shuffled order (seeded by seed + epoch, see set_epoch).
  data::DataLoaderOptions shard(data::DataLoaderOptions options, int64_t examples, uint64_t seed) {
    if (world_ == 1) return options;
    sampler_ = std::make_shared<data::DistributedSampler>(
        examples,
        data::DistributedSamplerOptions{
            .num_replicas = world_, .rank = rank_, .shuffle = options.shuffle, .seed = seed});
    options.shuffle = false;
    options.sampler = sampler_;
    return options;
  }
  void set_epoch(int64_t epoch) {
    if (sampler_) sampler_->set_epoch(epoch);
  }

  /// From here on, backward averages net's gradients over the processes (after copying rank
  /// 0's parameters to all); call it once the model is built or loaded.
  void wrap(std::shared_ptr<nn::Module> net) {
#ifdef TAPEGRAD_DISTRIBUTED
    if (world_ > 1) ddp_.emplace(std::move(net));
#else
    (void)net;
#endif
  }
  /// net(x), through the wrapper when there is one (it keeps the buffers in step).
  Tensor forward(nn::Module& net, const Tensor& x) {
#ifdef TAPEGRAD_DISTRIBUTED
    if (ddp_) return (*ddp_)(x);
#endif
    return net(x);
  }
  /// Each value summed over the processes (epoch totals: loss, images, correct).
  std::vector<double> sum(std::vector<double> values) const {
#ifdef TAPEGRAD_DISTRIBUTED
    if (world_ > 1) {
      // float64: a float32 total would round counts above 2^24 (16.7M images).
      Tensor t = tensor(values, {int64_t(values.size())}, {.dtype = kFloat64});
      distributed::all_reduce(t);
      values = t.to_vector<double>();
    }
#endif
    return values;
  }

 private:
  int rank_ = 0, world_ = 1;
  std::shared_ptr<data::DistributedSampler> sampler_;
#ifdef TAPEGRAD_DISTRIBUTED
  std::optional<distributed::DistributedDataParallel> ddp_;
#endif
};

/// main's body: train::guarded_main's exit codes, inside MPI when built with it (a rank that
/// fails prints its error and ends the whole job, instead of leaving the others waiting).
inline int main_with(const char* program, int (*run)(int, char**), int argc, char** argv) {
#ifdef TAPEGRAD_DISTRIBUTED
  return distributed::run(argc, argv,
                          [&](int c, char** v) { return train::guarded_main(program, run, c, v); });
#else
  return train::guarded_main(program, run, argc, argv);
#endif
}

}  // namespace tg::examples
