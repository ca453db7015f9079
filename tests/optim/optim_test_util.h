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
struct CourseQuadratic {
  Tensor x = tensor({-5.f, -2.f}, {2}, {.requires_grad = true});
  Tensor loss() const { return (x.pow(2) * tensor({0.1f, 2.f})).sum(); }
  /// The closure of step(closure): zero the grad, evaluate, backward.
  optim::Closure closure() const {
    return [x = x]() mutable {
      x.zero_grad();
      Tensor l = (x.pow(2) * tensor({0.1f, 2.f})).sum();
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
struct FixtureProblem {
  Tensor X, Y, W, b;
  FixtureProblem() {
    const JsonFixture p = optim_fixture()["problem"];
    X = tensor(p["X"].floats(), {4, 3});
    Y = tensor(p["Y"].floats(), {4, 2});
    W = tensor(p["W0"].floats(), {3, 2}, {.requires_grad = true});
    b = tensor(p["b0"].floats(), {2}, {.requires_grad = true});
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
};

/// Checks every element of `actual` against `expected` within atol + rtol |expected|.
inline void check_close(const std::vector<float>& actual, const std::vector<double>& expected,
                        double atol, double rtol) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    INFO("element ", i, ": ", actual[i], " vs ", expected[i]);
    CHECK(std::abs(actual[i] - expected[i]) <= atol + rtol * std::abs(expected[i]));
  }
}

}  // namespace tg::test
