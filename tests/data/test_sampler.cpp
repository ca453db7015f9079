// DistributedSampler: shards against torch.utils.data.DistributedSampler (fixtures/sampler.json,
// by make_sampler_fixtures.py), disjoint and complete shards of one shuffled order, set_epoch,
// the DataLoader's sampler option, and the errors. No MPI: ranks are plain numbers here.
#include <algorithm>
#include <set>

#include <tapegrad/data/dataloader.h>
#include <tapegrad/data/sampler.h>
#include "tests/json_fixture.h"
#include "tests/test_util.h"

using namespace tg;
using namespace tg::data;

namespace {

std::vector<int64_t> shard(int64_t n, int64_t replicas, int64_t rank, bool shuffle, bool drop_last,
                           int64_t epoch = 0, uint64_t seed = 0) {
  DistributedSampler s(n, {.num_replicas = replicas,
                           .rank = rank,
                           .shuffle = shuffle,
                           .seed = seed,
                           .drop_last = drop_last});
  s.set_epoch(epoch);
  std::vector<int64_t> out = s.indices();
  CHECK(int64_t(out.size()) == s.size());
  return out;
}

}  // namespace

TEST_CASE("DistributedSampler: shards, padding and drop_last as torch's (shuffle off)") {
  auto f = test::JsonFixture::load(std::string(TG_TEST_DIR) + "/data/fixtures/sampler.json");
  REQUIRE(f["cases"].size() >= 10);
  for (size_t c = 0; c < f["cases"].size(); ++c) {
    auto k = f["cases"][c];
    std::vector<int64_t> p = k["n_replicas_drop_last"].integers();
    REQUIRE(p.size() == 3);
    for (int64_t rank = 0; rank < p[1]; ++rank) {
      CAPTURE(c);
      CAPTURE(rank);
      CHECK(shard(p[0], p[1], rank, false, p[2] != 0) == k["shards"][size_t(rank)].integers());
    }
  }
}

TEST_CASE("DistributedSampler: shuffled shards are disjoint, complete, and one order per epoch") {
  const int64_t n = 103, replicas = 4;  // 103 = 4 * 25 + 3: padding 1, or dropping 3
  for (bool drop_last : {false, true}) {
    CAPTURE(drop_last);
    std::vector<int64_t> all;
    for (int64_t r = 0; r < replicas; ++r) {
      std::vector<int64_t> s = shard(n, replicas, r, true, drop_last, 3, 7);
      CHECK(s.size() == (drop_last ? 25u : 26u));
      all.insert(all.end(), s.begin(), s.end());
    }
    std::set<int64_t> distinct(all.begin(), all.end());
    if (drop_last) {
      CHECK(distinct.size() == all.size());  // disjoint: 100 distinct examples, 3 left out
      CHECK(all.size() == 100u);
    } else {
      CHECK(distinct.size() == size_t(n));  // complete: every example, one repeated as padding
      CHECK(all.size() == 104u);
    }
    CHECK(*distinct.begin() >= 0);
    CHECK(*distinct.rbegin() < n);
  }
  // The same (seed, epoch) gives the same order; another epoch or seed another one; every
  // rank's shard of one epoch comes from the same permutation (checked above by disjointness).
  CHECK(shard(n, 2, 1, true, false, 5, 1) == shard(n, 2, 1, true, false, 5, 1));
  CHECK(shard(n, 2, 1, true, false, 5, 1) != shard(n, 2, 1, true, false, 6, 1));
  CHECK(shard(n, 2, 1, true, false, 5, 1) != shard(n, 2, 1, true, false, 5, 2));
  std::vector<int64_t> unshuffled = shard(n, 2, 1, false, false);
  CHECK(shard(n, 2, 1, true, false) != unshuffled);
}

TEST_CASE("DistributedSampler: a DataLoader draws each rank's shard, in batches") {
  Tensor x = empty({10, 1}), y = empty({10});
  for (int64_t i = 0; i < 10; ++i) x.data()[i] = y.data()[i] = float(i);
  auto set = std::make_shared<TensorDataset>(x, y);
  std::multiset<float> seen;
  for (int64_t rank = 0; rank < 3; ++rank) {
    auto sampler = std::make_shared<DistributedSampler>(
        10, DistributedSamplerOptions{.num_replicas = 3, .rank = rank, .shuffle = false});
    DataLoader loader(set, {.batch_size = 3, .sampler = sampler});
    CHECK(loader.size() == 2);  // 4 examples per rank: batches of 3 and 1
    std::vector<float> mine;
    for (auto [xb, yb] : loader)
      for (float v : yb.to_vector()) mine.push_back(v);
    std::vector<float> expected;
    for (int64_t i : sampler->indices()) expected.push_back(float(i));
    CHECK(mine == expected);
    seen.insert(mine.begin(), mine.end());
  }
  CHECK(seen.size() == 12u);  // 10 examples and 2 of padding (0 and 1 again, as torch)
  CHECK(seen.count(0.0f) == 2);
  CHECK(seen.count(1.0f) == 2);
  CHECK(seen.count(9.0f) == 1);
  DistributedSampler from_dataset(*set, {.num_replicas = 3, .rank = 2, .shuffle = false});
  CHECK(from_dataset.indices() == std::vector<int64_t>{2, 5, 8, 1});  // torch's, by hand
}

TEST_CASE("DistributedSampler and DataLoader errors") {
  CHECK_THROWS_CONTAINING(
      DistributedSampler(10, {.num_replicas = 2, .rank = 2}),
      "DistributedSampler: invalid rank 2, rank should be in the interval [0, 1]");
  CHECK_THROWS_CONTAINING(DistributedSampler(10, {.num_replicas = 2, .rank = -1}),
                          "DistributedSampler: invalid rank -1");
  CHECK_THROWS_CONTAINING(DistributedSampler(10, {.num_replicas = 0}),
                          "DistributedSampler: num_replicas must be at least 1, got 0");
  CHECK_THROWS_CONTAINING(DistributedSampler(0),
                          "DistributedSampler: the dataset is empty (size 0)");
  CHECK_THROWS_CONTAINING(
      DistributedSampler(2, {.num_replicas = 3, .drop_last = true}),
      "DistributedSampler: drop_last with 2 examples for 3 replicas leaves none");
  Tensor x = zeros({4, 1}), y = zeros({4});
  auto set = std::make_shared<TensorDataset>(x, y);
  auto sampler = std::make_shared<DistributedSampler>(4);
  CHECK_THROWS_CONTAINING(DataLoader(set, {.shuffle = true, .sampler = sampler}),
                          "DataLoader: sampler option is mutually exclusive with shuffle");
  auto too_big = std::make_shared<DistributedSampler>(
      6, DistributedSamplerOptions{.shuffle = false});  // made for another dataset
  DataLoader loader(set, {.batch_size = 2, .sampler = too_big});
  CHECK_THROWS_CONTAINING(loader.begin(),
                          "DataLoader: the sampler gave index 4 for a dataset of 4 examples");
  struct Liar : Sampler {  // says 3, gives 2
    std::vector<int64_t> indices() const override { return {0, 1}; }
    int64_t size() const override { return 3; }
  };
  DataLoader lied(set, {.sampler = std::make_shared<Liar>()});
  CHECK_THROWS_CONTAINING(lied.begin(),
                          "DataLoader: the sampler gave 2 indices but its size() is 3");
}
