// Shared by the optim suites: the course's 2-D quadratic, the small problem of the PyTorch
// fixtures (tests/optim/fixtures/make_optim_fixtures.py) and a closure helper.
#pragma once

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include <tapegrad/optim/optimizer.h>
#include "tests/json_fixture.h"
#include "tests/test_util.h"

namespace tg::test {

/// The fixture JSON written by make_optim_fixtures.py.
inline const JsonFixture& optim_fixture() {
  static const JsonFixture json =
      JsonFixture::load(std::string(TG_TEST_DIR) + "/optim/fixtures/optim_trajectories.json");
  return json;
}

/// f(x) = 0.1 x1^2 + 2 x2^2 (d2l 11.6-11.10), started at (-5, -2); minimum 0 at the origin.
/// In float32 (the default) or float64: the coefficients are 0.1 and 2 rounded to the dtype.
struct CourseQuadratic {
  explicit CourseQuadratic(Dtype dtype = kFloat32)
      : x(tensor(std::vector<double>{-5, -2}, {2}, {.dtype = dtype, .requires_grad = true})),
        a(tensor(std::vector<double>{0.1, 2}, {2}, {.dtype = dtype})) {}
  Tensor x, a;
  Tensor loss() const { return (x.pow(2) * a).sum(); }
  /// The closure of step(closure): zero the grad, evaluate, backward.
  optim::Closure closure() const {
    return [x = x, a = a]() mutable {
      x.zero_grad();
      Tensor l = (x.pow(2) * a).sum();
      l.backward();
      return l;
    };
  }
  static std::array<double, 2> grad(const std::array<double, 2>& p) {
    return {0.2 * p[0], 4 * p[1]};
  }
  static double value(const std::array<double, 2>& p) {
    return 0.1 * p[0] * p[0] + 2 * p[1] * p[1];
  }
};

/// The fixtures' problem: loss = mean((tanh(X W + b) - Y)^2), W [3, 2], b [2].
/// In float32 (the default) or float64, from the same float32 values.
struct FixtureProblem {
  Tensor X, Y, W, b;
  explicit FixtureProblem(Dtype dtype = kFloat32) {
    const JsonFixture p = optim_fixture()["problem"];
    X = tensor(p["X"].floats(), {4, 3}).to(dtype);
    Y = tensor(p["Y"].floats(), {4, 2}).to(dtype);
    W = tensor(p["W0"].floats(), {3, 2}).to(dtype).requires_grad_();
    b = tensor(p["b0"].floats(), {2}).to(dtype).requires_grad_();
  }
  Tensor loss() const { return (X.matmul(W).add(b).tanh() - Y).pow(2).mean(); }
  optim::Closure closure() const {
    return [X = X, Y = Y, W = W, b = b]() mutable {
      W.zero_grad();
      b.zero_grad();
      Tensor l = (X.matmul(W).add(b).tanh() - Y).pow(2).mean();
      l.backward();
      return l;
    };
  }
  /// W then b, flattened (the fixture's layout).
  std::vector<float> flat() const {
    std::vector<float> v = W.to_vector(), vb = b.to_vector();
    v.insert(v.end(), vb.begin(), vb.end());
    return v;
  }
  /// The same in double (every digit of a float64 run).
  std::vector<double> flat64() const {
    std::vector<double> v = W.to_vector<double>(), vb = b.to_vector<double>();
    v.insert(v.end(), vb.begin(), vb.end());
    return v;
  }
};

/// Checks every element of `actual` against `expected` within atol + rtol |expected|.
template <typename T>
void check_close(const std::vector<T>& actual, const std::vector<double>& expected, double atol,
                 double rtol) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    INFO("element ", i, ": ", actual[i], " vs ", expected[i]);
    CHECK(std::abs(actual[i] - expected[i]) <= atol + rtol * std::abs(expected[i]));
  }
}

}  // namespace tg::test
