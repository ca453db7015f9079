// Numerics against PyTorch (issue 13, item 5): pow's gradients at base 0, log_softmax and
// cross_entropy at large common offsets and over long rows, ties in max()/min(), sign().
// References: PyTorch's values (tests/autograd/fixtures/make_numerics.py) or the same formula
// evaluated in double here.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <tapegrad/nn/functional.h>
#include <tapegrad/tapegrad.h>

using namespace tg;
namespace F = nn::functional;

namespace {

// The largest |got - want| / |want| over the elements (want in double).
double max_relative_error(const Tensor& got, const std::vector<double>& want) {
  std::vector<float> g = got.to_vector();
  REQUIRE(g.size() == want.size());
  double worst = 0;
  for (size_t i = 0; i < g.size(); ++i)
    worst = std::max(worst, std::abs(double(g[i]) - want[i]) / std::max(std::abs(want[i]), 1e-30));
  return worst;
}

// log_softmax of one row, in double.
std::vector<double> log_softmax_reference(const std::vector<float>& x) {
  double m = -INFINITY, s = 0;
  for (float v : x) m = std::max(m, double(v));
  for (float v : x) s += std::exp(double(v) - m);
  std::vector<double> out;
  for (float v : x) out.push_back(double(v) - m - std::log(s));
  return out;
}

}  // namespace

TEST_CASE("numerics: pow's gradients at base 0 follow PyTorch") {
  Tensor a = tensor({0, 0, 0, 0, 2}, {5}, {.requires_grad = true});
  Tensor b = tensor({0, 1, 2, 0.5f, 3}, {5}, {.requires_grad = true});
  a.pow(b).sum().backward();
  // PyTorch: da [0, 1, 0, inf, 12], db [0, 0, 0, 0, 8 log 2]
  std::vector<float> da = a.grad().to_vector(), db = b.grad().to_vector();
  CHECK(da[0] == 0);
  CHECK(da[1] == 1);
  CHECK(da[2] == 0);
  CHECK(std::isinf(da[3]));
  CHECK(da[4] == doctest::Approx(12));
  for (int i = 0; i < 4; ++i) CHECK(db[i] == 0);
  CHECK(db[4] == doctest::Approx(8 * std::log(2.0)));

  Tensor x = tensor({0, 1, -2}, {3}, {.requires_grad = true});
  x.pow(0).sum().backward();
  CHECK(x.grad().to_vector() == std::vector<float>{0, 0, 0});  // PyTorch: 0, not NaN at 0
}

TEST_CASE("numerics: log_softmax, softmax and cross_entropy at a common offset of 1e4") {
  std::vector<float> row{1e4f + 0.5f, 1e4f - 1.25f, 1e4f + 2.0f, 1e4f};
  Tensor x = tensor(row, {1, 4});
  std::vector<double> want = log_softmax_reference(row);
  CHECK(max_relative_error(F::log_softmax(x, 1), want) < 1e-6);  // was 3e-4
  std::vector<double> p;
  for (double l : want) p.push_back(std::exp(l));
  CHECK(max_relative_error(F::softmax(x, 1), p) < 1e-6);
  CHECK(max_relative_error(F::cross_entropy(x, tensor({2})), {-want[2]}) < 1e-6);
}

TEST_CASE("numerics: long rows (softmax over 65,536, cross_entropy over 50,257 classes)") {
  manual_seed(3);
  for (int64_t n : {int64_t(65536), int64_t(50257)}) {
    Tensor x = randn({1, n}) * 3;
    std::vector<float> row = x.to_vector();
    std::vector<double> want = log_softmax_reference(row);
    std::vector<double> p;
    for (double l : want) p.push_back(std::exp(l));
    INFO("row of ", n);
    CHECK(max_relative_error(F::softmax(x, 1), p) < 3e-6);  // was 7.4e-5; PyTorch 3e-6
    CHECK(max_relative_error(F::cross_entropy(x, tensor({7})), {-want[7]}) < 5e-7);  // was 1e-5
  }
}

TEST_CASE("numerics: max() and min() split the gradient evenly among ties, as PyTorch") {
  Tensor x = tensor({1, 3, 3, 2, 3, 0, 0}, {7}, {.requires_grad = true});
  x.max().backward();
  CHECK(x.grad().to_vector() == std::vector<float>{0, 1 / 3.f, 1 / 3.f, 0, 1 / 3.f, 0, 0});
  x.zero_grad();
  x.min().backward();
  CHECK(x.grad().to_vector() == std::vector<float>{0, 0, 0, 0, 0, 0.5f, 0.5f});
}

TEST_CASE("numerics: sign() backpropagates zeros, as PyTorch") {
  Tensor x = tensor({-2, 0, 3}, {3}, {.requires_grad = true});
  Tensor y = x.sign() * 5 + x;
  y.sum().backward();
  CHECK(x.grad().to_vector() == std::vector<float>{1, 1, 1});
}
