// Tensor basics: factories, layout, views sharing storage, element access,
// errors, randomness and printing. Expected values are written by hand.
#include <algorithm>
#include <cmath>

#include <tapegrad/core/parallel.h>
#include <tapegrad/core/print.h>
#include <tapegrad/core/random.h>
#include "tests/test_util.h"

using namespace tg;
using tg::test::check_values;

TEST_CASE("factories fill the values PyTorch would") {
  check_values(arange(5), {0, 1, 2, 3, 4});
  check_values(arange(1, 2, 0.25f), {1, 1.25f, 1.5f, 1.75f});
  check_values(linspace(0, 1, 5), {0, 0.25f, 0.5f, 0.75f, 1});
  check_values(eye(2, 3), {1, 0, 0, 0, 1, 0});
  check_values(full({2, 2}, 7), {7, 7, 7, 7});
  Tensor t = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.shape() == Shape{2, 3});
  CHECK(t.strides() == Shape{3, 1});
  CHECK(t.at({1, 2}) == 6);
  CHECK(t.at({-1, 0}) == 4);
  CHECK(scalar_tensor(3).dim() == 0);
  CHECK(scalar_tensor(3).item() == 3);
}

TEST_CASE("factory and access errors name the op and values") {
  CHECK_THROWS_CONTAINING(tensor({1, 2, 3}, {2, 2}), "tensor: 3 values do not fill shape [2, 2]");
  CHECK_THROWS_CONTAINING(zeros({2, 2}).item(), "item: tensor of shape [2, 2] has 4 elements");
  CHECK_THROWS_CONTAINING(zeros({2, 2}).at({2, 0}), "at: index 2 out of range for dim 0 of size 2");
  CHECK_THROWS_CONTAINING(zeros({-1}), "negative size");
  CHECK_THROWS_CONTAINING(arange(0, 1, 0), "arange: step must be finite and non-zero");
  CHECK_THROWS_CONTAINING(zeros({2}).size(3), "size: dim 3 out of range");
}

TEST_CASE("views share storage; contiguous copies") {
  Tensor t = arange(6).reshape({2, 3});
  Tensor tt = t.t();
  CHECK(tt.shape() == Shape{3, 2});
  CHECK(tt.strides() == Shape{1, 3});
  CHECK_FALSE(tt.is_contiguous());
  check_values(tt, {0, 3, 1, 4, 2, 5});
  check_values(t.narrow(1, 1, 2), {1, 2, 4, 5});
  check_values(t.slice(1, 0, 3, 2), {0, 2, 3, 5});
  check_values(t.select(0, 1), {3, 4, 5});
  check_values(t.unsqueeze(0).expand({2, 2, 3}), {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5});
  CHECK(t.unsqueeze(1).shape() == Shape{2, 1, 3});
  CHECK(t.unsqueeze(1).squeeze().shape() == Shape{2, 3});
  CHECK(t.flatten().shape() == Shape{6});
  CHECK(t.reshape({3, -1}).shape() == Shape{3, 2});
  CHECK(t.permute({1, 0}).contiguous().is_contiguous());
  // writing through a view changes the base
  Tensor row = t.select(0, 0);
  row.fill_(9);
  check_values(t, {9, 9, 9, 3, 4, 5});
  Tensor c = tt.contiguous();
  c.fill_(0);
  CHECK(t.at({1, 1}) == 4);
}

TEST_CASE("view errors") {
  CHECK_THROWS_CONTAINING(arange(6).reshape({4, -1}), "reshape: shape [4, -1] is invalid for input of shape [6]");
  CHECK_THROWS_CONTAINING(arange(6).reshape({2, 3}).t().view({6}), "view: tensor of shape [3, 2] with strides [1, 3] is not contiguous");
  CHECK_THROWS_CONTAINING(arange(6).reshape({2, 3}).permute({0, 0}), "permute: dim 0 repeated");
  CHECK_THROWS_CONTAINING(arange(6).narrow(0, 4, 3), "narrow: start 4 and length 3 out of range");
  CHECK_THROWS_CONTAINING(arange(3).expand({2, 4}), "expand: size 3 of dim 0 cannot become 4");
  CHECK_THROWS_CONTAINING(cat({zeros({2, 3}), zeros({2, 4})}, 0), "cat: tensor 1 has shape [2, 4]");
}

TEST_CASE("broadcasting arithmetic and its errors") {
  Tensor a = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  check_values(a + tensor({10, 20, 30}), {11, 22, 33, 14, 25, 36});
  check_values(a * tensor({2, 3}, {2, 1}), {2, 4, 6, 12, 15, 18});
  check_values(a - 1, {0, 1, 2, 3, 4, 5});
  check_values(6 / a, {6, 3, 2, 1.5f, 1.2f, 1});
  check_values(1 - a, {0, -1, -2, -3, -4, -5});
  CHECK_THROWS_CONTAINING(a + zeros({4}), "add: shapes [2, 3] and [4] cannot be broadcast (dim 1: 3 vs 4)");
  CHECK_THROWS_CONTAINING(a.mul(zeros({3, 3})), "mul: shapes [2, 3] and [3, 3] cannot be broadcast");
  // non-contiguous operands
  check_values(a.t() + a.t(), {2, 8, 4, 10, 6, 12});
}

TEST_CASE("elementwise math matches <cmath>") {
  std::vector<float> xs = {-1.5f, -0.25f, 0.5f, 2};
  Tensor x = tensor(xs);
  auto expect = [&](const Tensor& y, float (*f)(float)) {
    std::vector<float> e;
    for (float v : xs) e.push_back(f(v));
    check_values(y, e);
  };
  expect(x.exp(), [](float v) { return std::exp(v); });
  expect(x.abs().log(), [](float v) { return std::log(std::abs(v)); });
  expect(x.abs().sqrt(), [](float v) { return std::sqrt(std::abs(v)); });
  expect(x.sin(), [](float v) { return std::sin(v); });
  expect(x.cos(), [](float v) { return std::cos(v); });
  expect(x.tanh(), [](float v) { return std::tanh(v); });
  expect(x.sigmoid(), [](float v) { return 1 / (1 + std::exp(-v)); });
  expect(x.relu(), [](float v) { return v > 0 ? v : 0.f; });
  expect(x.pow(3), [](float v) { return v * v * v; });
  expect(x.clamp(-1, 1), [](float v) { return std::min(std::max(v, -1.f), 1.f); });
  check_values(x.gt(scalar_tensor(0)), {0, 0, 1, 1});
  check_values(x.maximum(scalar_tensor(0)), {0, 0, 0.5f, 2});
  check_values(where(x.gt(scalar_tensor(0)), x, -x), {1.5f, 0.25f, 0.5f, 2});
  check_values(tensor({-100, 100}).sigmoid(), {0, 1});  // no overflow
  CHECK_THROWS_CONTAINING(x.clamp(1, -1), "clamp: min 1 is greater than max -1");
}

TEST_CASE("reductions") {
  Tensor a = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(a.sum().item() == 21);
  check_values(a.sum({0}), {5, 7, 9});
  check_values(a.sum({1}, true), {6, 15});
  CHECK(a.sum({1}, true).shape() == Shape{2, 1});
  check_values(a.mean({-1}), {2, 5});
  CHECK(a.var().item() == doctest::Approx(3.5));           // unbiased
  CHECK(a.var({}, 0).item() == doctest::Approx(35.0 / 12));  // population
  check_values(a.std({1}), {1, 1});
  auto [values, indices] = tensor({3, 9, 1, 7, 2, 8}, {2, 3}).max(1);
  check_values(values, {9, 8});
  check_values(indices, {1, 2});
  check_values(tensor({3, 9, 1, 7, 2, 8}, {2, 3}).argmin(0), {0, 1, 0});
  CHECK(a.max().item() == 6);
  CHECK(a.min().item() == 1);
  // a big sum stays accurate (double accumulation along the run)
  CHECK(full({1 << 22}, 0.1f).sum().item() == doctest::Approx(0.1 * (1 << 22)).epsilon(1e-6));
  CHECK_THROWS_CONTAINING(a.sum({2}), "sum: dim 2 out of range for a tensor of 2 dims");
  CHECK_THROWS_CONTAINING(tensor({1}).var(), "var: 1 elements with correction 1 leave no degrees of freedom");
}

TEST_CASE("matmul through BLAS, including transposed views and batches") {
  Tensor a = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = tensor({7, 8, 9, 10, 11, 12}, {3, 2});
  check_values(a.matmul(b), {58, 64, 139, 154});
  check_values(b.t().matmul(a.t()), {58, 139, 64, 154});  // (ab)^T = b^T a^T, no copies
  check_values(a.matmul(tensor({1, 1, 1})), {6, 15});
  check_values(tensor({1, 1}).matmul(a), {5, 7, 9});
  CHECK(tensor({1, 2, 3}).matmul(tensor({4, 5, 6})).item() == 32);
  Tensor batch = stack({a, a * 2});
  Tensor c = batch.matmul(b);
  CHECK(c.shape() == Shape{2, 2, 2});
  check_values(c, {58, 64, 139, 154, 116, 128, 278, 308});
  CHECK_THROWS_CONTAINING(zeros({4, 3}).matmul(zeros({4, 1})), "matmul: shapes [4, 3] and [4, 1] are not aligned (3 != 4)");
  CHECK_THROWS_CONTAINING(zeros({2, 2, 3}).matmul(zeros({3, 3, 1})), "matmul: batch sizes 2 and 3 differ");
}

TEST_CASE("matmul: medium products split over threads equal a double-precision reference") {
  // Between 2^18 and 2^27 multiply-adds, gemm splits C by rows (or by columns when it has
  // few rows) over the thread pool: every part, edge and transposed operand must line up.
  struct Case { int64_t m, k, n; bool ta, tb; };
  const Case cases[] = {{70, 300, 50, false, false}, {70, 300, 50, true, true},
                        {8, 400, 200, false, true}, {8, 400, 200, true, false},
                        {256, 400, 120, false, false}, {33, 257, 129, true, false}};
  const int saved_threads = get_num_threads();
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    for (const Case& c : cases) {
      CAPTURE(threads);
      CAPTURE(c.m);
      CAPTURE(c.n);
      CAPTURE(c.ta);
      CAPTURE(c.tb);
      manual_seed(uint64_t(c.m * c.n + threads));
      Tensor a = c.ta ? randn({c.k, c.m}).t() : randn({c.m, c.k});
      Tensor b = c.tb ? randn({c.n, c.k}).t() : randn({c.k, c.n});
      Tensor y = a.matmul(b);
      REQUIRE(y.shape() == Shape{c.m, c.n});
      Tensor ac = a.contiguous(), bc = b.contiguous();
      double worst = 0;
      for (int64_t i = 0; i < c.m; ++i)
        for (int64_t j = 0; j < c.n; ++j) {
          double expected = 0;
          for (int64_t p = 0; p < c.k; ++p)
            expected += double(ac.data()[i * c.k + p]) * double(bc.data()[p * c.n + j]);
          worst = std::max(worst, std::abs(expected - double(y.data()[i * c.n + j])));
        }
      CHECK(worst < 2e-3);  // float rounding over k <= 400 products of N(0, 1); a misplaced block is off by O(1)
    }
  }
  set_num_threads(saved_threads);
}

TEST_CASE("cat and stack") {
  Tensor a = tensor({1, 2, 3, 4}, {2, 2}), b = tensor({5, 6}, {2, 1});
  check_values(cat({a, b}, 1), {1, 2, 5, 3, 4, 6});
  check_values(stack({tensor({1, 2}), tensor({3, 4})}, 1), {1, 3, 2, 4});
}

TEST_CASE("in-place ops") {
  Tensor a = ones({2, 2});
  a += tensor({1, 2});
  a *= 2;
  check_values(a, {4, 6, 4, 6});
  a.sub_(tensor({1, 1, 1, 1}, {2, 2}), 2);
  check_values(a, {2, 4, 2, 4});
  a.copy_(tensor({7, 8}));
  check_values(a, {7, 8, 7, 8});
  CHECK_THROWS_CONTAINING(a.add_(zeros({3})), "add_: shapes [2, 2] and [3] cannot be broadcast");
  CHECK_THROWS_CONTAINING(ones({2}).add_(zeros({2, 2})), "add_: cannot broadcast [2, 2] into the in-place target [2]");
}

TEST_CASE("seeded randomness is reproducible and well distributed") {
  manual_seed(42);
  Tensor a = randn({10000});
  manual_seed(42);
  Tensor b = randn({10000});
  CHECK(allclose(a, b, 0, 0));
  CHECK(std::abs(a.mean().item()) < 0.05f);
  CHECK(std::abs(a.std().item() - 1) < 0.05f);
  Tensor u = rand({10000});
  CHECK(u.min().item() >= 0);
  CHECK(u.max().item() < 1);
  CHECK(std::abs(u.mean().item() - 0.5f) < 0.02f);
  Tensor perm = randperm(100);
  CHECK(perm.dtype() == kInt64);
  std::vector<int64_t> p = perm.to_vector<int64_t>();
  std::vector<bool> seen(100);
  for (int64_t i : p) seen[size_t(i)] = true;
  CHECK(std::count(seen.begin(), seen.end(), true) == 100);
  // generator state round trip
  Generator& g = default_generator();
  std::string state = g.state();
  float first = g.normal();
  g.set_state(state);
  CHECK(g.normal() == first);
}

TEST_CASE("printing looks like PyTorch") {
  CHECK(to_string(tensor({1, 2, 3, 4}, {2, 2})) == "tensor([[1., 2.],\n        [3., 4.]])");
  CHECK(to_string(tensor({0.5f, -1.25f})) == "tensor([ 0.5000, -1.2500])");
  CHECK(to_string(scalar_tensor(3)) == "tensor(3.)");
  CHECK(to_string(ones({2}, {.requires_grad = true})) == "tensor([1., 1.], requires_grad=True)");
  std::string big = to_string(arange(2000));
  CHECK(big == "tensor([   0.,    1.,    2., ..., 1997., 1998., 1999.])");
  CHECK(fmt::format("{}", Shape{2, 3}) == "[2, 3]");
}

TEST_CASE("empty tensors reduce and broadcast without dividing by zero") {
  CHECK(zeros({0, 3}).sum().item() == 0);
  CHECK(zeros({0, 3}).sum({0}).shape() == Shape{3});
  CHECK((zeros({0, 3}) + ones({3})).shape() == Shape{0, 3});
  CHECK(zeros({2, 0}).t().contiguous().numel() == 0);
}
