// DataLoader: batches of a Dataset, in order or shuffled. Shuffling draws a
// fresh permutation at the start of every epoch (every begin()) from the
// global generator, so manual_seed fixes the whole sequence of epochs; with
// replacement it draws size() indices uniformly instead.
//
//   data::DataLoader loader(dataset, {.batch_size = 64, .shuffle = true});
//   for (int epoch = 0; epoch < 2; ++epoch)
//     for (auto [x, y] : loader) { ... }
// A sampler (data/sampler.h) may choose the order instead, e.g. one shard per process.
#pragma once

#include <memory>
#include <vector>

#include <tapegrad/data/dataset.h>
#include <tapegrad/data/sampler.h>
#include <tapegrad/data/transforms.h>

namespace tg::data {

struct DataLoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;      ///< a new permutation every epoch
  bool replacement = false;  ///< with shuffle: sample indices with replacement
  bool drop_last = false;    ///< drop the last batch if it is smaller than batch_size
  Transform transform{};     ///< applied to each batch's inputs, if set
  /// The epoch order, if set (data/sampler.h; e.g. a DistributedSampler's shard): replaces
  /// shuffle and replacement, which must stay false (PyTorch's rule).
  std::shared_ptr<const Sampler> sampler{};
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options = {});

  /// Batches per epoch.
  int64_t size() const;
  const Dataset& dataset() const { return *dataset_; }
  const DataLoaderOptions& options() const { return options_; }

  class Iterator {
   public:
    Batch operator*() const;
    Iterator& operator++() {
      ++batch_;
      return *this;
    }
    bool operator!=(const Iterator& other) const { return batch_ != other.batch_; }

   private:
    friend class DataLoader;
    Iterator(const DataLoader* loader, std::shared_ptr<const std::vector<int64_t>> order, int64_t batch)
        : loader_(loader), order_(std::move(order)), batch_(batch) {}
    const DataLoader* loader_;
    std::shared_ptr<const std::vector<int64_t>> order_;  // this epoch's example order
    int64_t batch_;
  };

  /// Starts an epoch (drawing a new order when shuffling).
  Iterator begin() const;
  Iterator end() const;

 private:
  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
};

}  // namespace tg::data
