// DataLoader invariants (every example exactly once per epoch without
// replacement, batch sizes, drop_last, a new order each epoch, seeding) and
// the batch transforms, with values worked out by hand.
#include <algorithm>
#include <set>

#include <tapegrad/core/random.h>
#include <tapegrad/data/dataloader.h>
#include "tests/test_util.h"

using namespace tg;
using namespace tg::data;

namespace {

// 10 examples: input row i is [i, 10 i], target i.
std::shared_ptr<TensorDataset> numbered(int64_t n = 10) {
  Tensor x = empty({n, 2}), y = empty({n});
  for (int64_t i = 0; i < n; ++i) {
    x.data()[2 * i] = float(i);
    x.data()[2 * i + 1] = float(10 * i);
    y.data()[i] = float(i);
  }
  return std::make_shared<TensorDataset>(x, y);
}

std::vector<float> epoch_targets(const DataLoader& loader, std::vector<int64_t>* sizes = nullptr) {
  std::vector<float> seen;
  for (auto [x, y] : loader) {
    if (sizes) sizes->push_back(y.size(0));
    for (int64_t i = 0; i < y.size(0); ++i) {
      CHECK(x.at({i, 1}) == 10 * y.at({i}));  // inputs and targets stay paired
      seen.push_back(y.at({i}));
    }
  }
  return seen;
}

}  // namespace

TEST_CASE("dataloader: in order, batch sizes and the last partial batch") {
  DataLoader loader(numbered(), {.batch_size = 4});
  std::vector<int64_t> sizes;
  CHECK(epoch_targets(loader, &sizes) == std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(sizes == std::vector<int64_t>{4, 4, 2});
  CHECK(loader.size() == 3);
  DataLoader dropping(numbered(), {.batch_size = 4, .drop_last = true});
  sizes.clear();
  epoch_targets(dropping, &sizes);
  CHECK(sizes == std::vector<int64_t>{4, 4});
  CHECK(dropping.size() == 2);
}

TEST_CASE("dataloader: shuffling visits every example once and reshuffles each epoch") {
  manual_seed(5);
  DataLoader loader(numbered(100), {.batch_size = 7, .shuffle = true});
  std::vector<float> first = epoch_targets(loader), second = epoch_targets(loader);
  for (auto* epoch : {&first, &second}) {
    std::vector<float> sorted = *epoch;
    std::sort(sorted.begin(), sorted.end());
    for (int i = 0; i < 100; ++i) CHECK(sorted[size_t(i)] == float(i));
  }
  CHECK(first != second);
  manual_seed(5);
  CHECK(epoch_targets(loader) == first);  // the seed fixes the order
}

TEST_CASE("dataloader: sampling with replacement draws size() indices") {
  manual_seed(1);
  DataLoader loader(numbered(50), {.batch_size = 8, .shuffle = true, .replacement = true});
  std::vector<float> seen = epoch_targets(loader);
  CHECK(seen.size() == 50);
  std::set<float> distinct(seen.begin(), seen.end());
  CHECK(distinct.size() < 50);  // P(all distinct) = 50!/50^50, about 3e-21
}

TEST_CASE("dataloader and dataset errors") {
  CHECK_THROWS_CONTAINING(DataLoader(numbered(), {.batch_size = 0}), "DataLoader: batch_size must be at least 1, got 0");
  CHECK_THROWS_CONTAINING(DataLoader(numbered(), {.replacement = true}), "replacement = true needs shuffle = true");
  CHECK_THROWS_CONTAINING(TensorDataset(zeros({3, 2}), zeros({4})), "TensorDataset: 3 inputs but 4 targets");
  CHECK_THROWS_CONTAINING(numbered()->get(10), "TensorDataset: index 10 out of range for 10 examples");
}

TEST_CASE("image dataset converts uint8 CHW pixels to [0, 1] floats") {
  ImageSet set;
  set.count = 2, set.channels = 1, set.height = 1, set.width = 2;
  set.pixels = {0, 255, 51, 102};
  set.labels = {3, 7};
  ImageDataset ds(set);
  Batch b = ds.get(1);
  test::check_values(b.input, {0.2f, 0.4f});
  CHECK(b.target.dtype() == kInt64);  // class indices, as torchvision's datasets give them
  CHECK(b.target.item<int64_t>() == 7);
}

TEST_CASE("the loader stacks int64 labels into an int64 [N] batch; float targets stay float") {
  ImageSet set;
  set.count = 5, set.channels = 1, set.height = 1, set.width = 1;
  set.pixels = {0, 1, 2, 3, 4};
  set.labels = {4, 3, 2, 1, 0};
  auto images = std::make_shared<ImageDataset>(set);
  std::vector<int64_t> labels;
  for (auto [x, y] : DataLoader(images, {.batch_size = 2})) {
    CHECK(y.dtype() == kInt64);
    for (int64_t v : y.to_vector<int64_t>()) labels.push_back(v);
  }
  CHECK(labels == std::vector<int64_t>{4, 3, 2, 1, 0});

  // A TensorDataset keeps each tensor's dtype: int64 labels, float64 inputs.
  Tensor x = arange(6, {.dtype = kFloat64}).reshape({3, 2});
  auto pairs = std::make_shared<TensorDataset>(x, tensor(std::vector<int64_t>{7, 8, 9}, {3}));
  Batch b = pairs->get_batch(std::vector<int64_t>{2, 0});
  CHECK(b.input.dtype() == kFloat64);
  CHECK(b.input.to_vector<double>() == std::vector<double>{4, 5, 0, 1});
  CHECK(b.target.dtype() == kInt64);
  CHECK(b.target.to_vector<int64_t>() == std::vector<int64_t>{9, 7});
  CHECK(numbered()->get(3).target.dtype() == kFloat32);  // regression targets stay float32
}

TEST_CASE("transforms: normalize, crop with padding, flip") {
  Tensor x = tensor({1, 2, 3, 4, 10, 20, 30, 40}, {1, 2, 2, 2});  // one image, 2 channels, 2x2
  test::check_values(normalize({2, 20}, {1, 10})(x), {-1, 0, 1, 2, -1, 0, 1, 2});
  CHECK_THROWS_CONTAINING(normalize({0}, {1})(x), "normalize: batch has 2 channels but 1 means");
  CHECK_THROWS_CONTAINING(normalize({0, 0}, {1, 0}), "standard deviations must be positive");
  // p = 1 always flips: rows reversed left-right
  test::check_values(random_horizontal_flip(1)(x), {2, 1, 4, 3, 20, 10, 40, 30});
  test::check_values(random_horizontal_flip(0)(x), x.to_vector());
  // crop 2 out of the image padded by 1: every output is a 2x2 window of the padded image
  manual_seed(3);
  Tensor padded = zeros({1, 2, 4, 4});
  padded.slice(2, 1, 3).slice(3, 1, 3).copy_(x);
  for (int trial = 0; trial < 20; ++trial) {
    Tensor c = random_crop(2, 1)(x);
    CHECK(c.shape() == Shape{1, 2, 2, 2});
    bool found = false;
    for (int top = 0; top < 3 && !found; ++top)
      for (int left = 0; left < 3 && !found; ++left)
        found = allclose(padded.slice(2, top, top + 2).slice(3, left, left + 2), c);
    CHECK(found);
  }
  CHECK_THROWS_CONTAINING(random_crop(5, 1)(x), "random_crop: crop 5 is larger than the padded image 4x4");
  Tensor both = compose({normalize({2, 20}, {1, 10}), random_horizontal_flip(1)})(x);
  test::check_values(both, {0, -1, 2, 1, 0, -1, 2, 1});
}
