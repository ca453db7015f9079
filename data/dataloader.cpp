// DataLoader: epoch order, then one get_batch per batch.
#include <tapegrad/data/dataloader.h>

#include <algorithm>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/core/random.h>

namespace tg::data {

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  check(dataset_ != nullptr, "DataLoader: dataset is null");
  check(options_.batch_size >= 1, "DataLoader: batch_size must be at least 1, got {}",
        options_.batch_size);
  check(!options_.replacement || options_.shuffle,
        "DataLoader: replacement = true needs shuffle = true (random sampling)");
  check(!options_.sampler || !options_.shuffle,
        "DataLoader: sampler option is mutually exclusive with shuffle (the sampler chooses "
        "the order; DistributedSampler has its own shuffle option)");
}

int64_t DataLoader::size() const {
  int64_t n = options_.sampler ? options_.sampler->size() : dataset_->size();
  int64_t b = options_.batch_size;
  return options_.drop_last ? n / b : n / b + (n % b != 0);  // no n + b - 1: b may be near 2^63
}

DataLoader::Iterator DataLoader::begin() const {
  int64_t n = dataset_->size();
  auto order = std::make_shared<std::vector<int64_t>>();
  if (options_.sampler) {
    *order = options_.sampler->indices();
    check(int64_t(order->size()) == options_.sampler->size(),
          "DataLoader: the sampler gave {} indices but its size() is {}", order->size(),
          options_.sampler->size());
    for (int64_t i : *order)
      check(i >= 0 && i < n, "DataLoader: the sampler gave index {} for a dataset of {} examples",
            i, n);
  } else if (options_.shuffle && options_.replacement) {
    Generator& g = default_generator();
    for (int64_t i = 0; i < n; ++i) order->push_back(int64_t(g.below(uint64_t(n))));
  } else if (options_.shuffle) {
    *order = randperm(n).to_vector<int64_t>();
  } else {
    for (int64_t i = 0; i < n; ++i) order->push_back(i);
  }
  return Iterator(this, std::move(order), 0);
}

DataLoader::Iterator DataLoader::end() const { return Iterator(this, nullptr, size()); }

Batch DataLoader::Iterator::operator*() const {
  const DataLoaderOptions& o = loader_->options_;
  int64_t begin = batch_ * o.batch_size;
  int64_t end = begin + std::min<int64_t>(o.batch_size, int64_t(order_->size()) - begin);
  NoGradGuard no_grad;
  Batch b = loader_->dataset_->get_batch(std::span<const int64_t>(order_->data() + begin, size_t(end - begin)));
  if (o.transform) b.input = o.transform(b.input);
  return b;
}

}  // namespace tg::data
