// DistributedSampler: one epoch order for all ranks (a seeded Fisher-Yates shuffle), padded
// or truncated to a multiple of the number of replicas, then every R-th index from rank r.
#include <tapegrad/data/sampler.h>

#include <algorithm>
#include <numeric>

#include <tapegrad/core/error.h>
#include <tapegrad/core/random.h>

namespace tg::data {

DistributedSampler::DistributedSampler(int64_t dataset_size, DistributedSamplerOptions options)
    : dataset_size_(dataset_size), options_(options) {
  const int64_t n = dataset_size, r = options_.num_replicas;
  check(n >= 1, "DistributedSampler: the dataset is empty (size {})", n);
  check(r >= 1, "DistributedSampler: num_replicas must be at least 1, got {}", r);
  check(options_.rank >= 0 && options_.rank < r,
        "DistributedSampler: invalid rank {}, rank should be in the interval [0, {}]",
        options_.rank, r - 1);
  if (options_.drop_last && n % r != 0) {
    check(n >= r, "DistributedSampler: drop_last with {} examples for {} replicas leaves none", n,
          r);
    num_samples_ = (n - r) / r + ((n - r) % r != 0);  // ceil((n - R) / R), as PyTorch
  } else {
    num_samples_ = n / r + (n % r != 0);
  }
}

std::vector<int64_t> DistributedSampler::indices() const {
  const int64_t n = dataset_size_, r = options_.num_replicas, total = num_samples_ * r;
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t(0));
  if (options_.shuffle) {  // Fisher-Yates with a generator of its own: the same on every rank
    Generator g;
    g.seed(options_.seed + uint64_t(epoch_));
    for (int64_t i = n - 1; i > 0; --i)
      std::swap(order[size_t(i)], order[size_t(g.below(uint64_t(i + 1)))]);
  }
  // Pad by repeating the order from its start (several times if R > n), or cut the tail.
  for (int64_t k = 0; int64_t(order.size()) < total; ++k) {
    int64_t repeated = order[size_t(k % n)];
    order.push_back(repeated);
  }
  order.resize(size_t(total));
  std::vector<int64_t> shard;
  shard.reserve(size_t(num_samples_));
  for (int64_t i = options_.rank; i < total; i += r) shard.push_back(order[size_t(i)]);
  return shard;
}

}  // namespace tg::data
