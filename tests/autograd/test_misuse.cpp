// Misuse that used to crash or escape as a non-tg::Error (issue 13, items 2-3):
// undefined tensors given to ops, shapes whose element count overflows int64,
// sizes too large to allocate, and out-of-range row gathers.
#include <doctest/doctest.h>

#include <tapegrad/data/dataloader.h>
#include <tapegrad/data/dataset.h>
#include <tapegrad/tapegrad.h>

#include "tests/test_util.h"

using namespace tg;
namespace F = nn::functional;

namespace {
constexpr const char* kUndefined = "an undefined tensor was used";
}

TEST_CASE("misuse: ops given an undefined tensor throw tg::Error, never crash") {
  Tensor x = randn({2, 3}), w = randn({3}, {.requires_grad = true});
  CHECK_THROWS_CONTAINING(Tensor() + x, kUndefined);
  CHECK_THROWS_CONTAINING(x * Tensor(), kUndefined);
  CHECK_THROWS_CONTAINING(w.grad().sum(), kUndefined);  // before any backward reached w
  CHECK_THROWS_CONTAINING(
      [&] {
        NoGradGuard g;
        w -= 0.1f * w.grad();
      }(),
      kUndefined);
  CHECK_THROWS_CONTAINING(F::conv2d(randn({1, 1, 4, 4}), Tensor()), kUndefined);
  CHECK_THROWS_CONTAINING(F::cross_entropy(randn({2, 3}), Tensor()), kUndefined);
  CHECK_THROWS_CONTAINING(F::linear(randn({2, 3}), Tensor()), "linear: weight is an undefined");
  CHECK_THROWS_CONTAINING(matmul(x, Tensor()), kUndefined);
  CHECK_THROWS_CONTAINING(matmul(Tensor(), x), kUndefined);
  CHECK_THROWS_CONTAINING(cat({x, Tensor()}), kUndefined);
  CHECK_THROWS_CONTAINING(stack({Tensor(), x}), kUndefined);
  CHECK_THROWS_CONTAINING(Tensor().item(), kUndefined);
  CHECK_THROWS_CONTAINING(Tensor().shape(), kUndefined);
  CHECK_THROWS_CONTAINING(Tensor().backward(), "undefined");
  CHECK(to_string(Tensor()) == "tensor(undefined)");
}

TEST_CASE("misuse: element counts past 2^62 are refused, not wrapped") {
  CHECK_THROWS_CONTAINING(zeros({int64_t(1) << 32, int64_t(1) << 32}),
                          "tensor: shape [4294967296, 4294967296] has more than 2^62 elements");
  CHECK_THROWS_CONTAINING(zeros({3, -1}), "negative size");
  Tensor one = ones({1});
  CHECK_THROWS_CONTAINING(one.expand({int64_t(1) << 31, int64_t(1) << 31, 4}),
                          "expand: shape [2147483648, 2147483648, 4] has more than 2^62");
  CHECK_THROWS_CONTAINING(one.reshape({int64_t(1) << 40, int64_t(1) << 40, -1}),
                          "reshape: shape [1099511627776, 1099511627776, -1] has more than 2^62");
  CHECK_THROWS_CONTAINING(one.reshape({int64_t(1) << 31, 0, -1}), "reshape");
}

TEST_CASE("misuse: sizes larger than the machine are refused before allocating") {
  CHECK_THROWS_CONTAINING(zeros({int64_t(1) << 20, int64_t(1) << 20}),
                          "GB, more than this machine's");
  Tensor img = randn({1, 1, 4, 4}), k = randn({1, 1, 3, 3});
  CHECK_THROWS_CONTAINING(F::conv2d(img, k, Tensor(), 1, 2'000'000'000), "more than");
  CHECK_THROWS_CONTAINING(F::adaptive_avg_pool2d(img, {1'000'000, 1'000'000}), "more than");
}

TEST_CASE("misuse: gather_rows checks its indices and handles non-contiguous sources") {
  Tensor source = arange(12).reshape({3, 4});
  std::vector<int64_t> good{2, 0}, past{3}, negative{-1};
  test::check_values(data::gather_rows(source, good), {8, 9, 10, 11, 0, 1, 2, 3});
  CHECK_THROWS_CONTAINING(data::gather_rows(source, past),
                          "gather_rows: index 3 is out of range for 3 rows");
  CHECK_THROWS_CONTAINING(data::gather_rows(source, negative), "index -1 is out of range");
  Tensor columns = source.t();  // [4, 3], not contiguous: row 1 is 1, 5, 9
  std::vector<int64_t> one{1};
  test::check_values(data::gather_rows(columns, one), {1, 5, 9});
}

TEST_CASE("misuse: smaller wrong results of issue 13, item 6") {
  CHECK(tensor(std::vector<float>{5}).shape() == Shape{1});  // 1-D, as the header says
  CHECK(tensor({5}).shape() == Shape{1});
  CHECK(scalar_tensor(5).shape() == Shape{});
  CHECK_THROWS_CONTAINING(arange(0, INFINITY), "arange: start 0 and end inf must be finite");
  CHECK_THROWS_CONTAINING(arange(NAN), "must be finite");
  Tensor w = zeros({2}, {.requires_grad = true});
  CHECK_THROWS_CONTAINING(optim::SGD({w}, {.lr = INFINITY}), "expected a finite lr >= 0");
  CHECK_THROWS_CONTAINING(optim::Adam({w}, {.lr = NAN}), "invalid learning rate");

  auto set = std::make_shared<data::TensorDataset>(arange(6).reshape({6, 1}), arange(6));
  data::DataLoader huge(set, {.batch_size = INT64_MAX - 1});
  CHECK(huge.size() == 1);
  int batches = 0;
  for (auto [x, y] : huge) {
    CHECK(x.shape() == Shape{6, 1});
    ++batches;
  }
  CHECK(batches == 1);
}
