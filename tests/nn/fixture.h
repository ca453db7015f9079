// Fixture: reads the PyTorch reference values of the nn suites, named float arrays with
// shapes in JSON files under tests/nn/fixtures/ (written by make_nn_fixtures.py; format in
// its header), and check_close, which compares a result with one and reports the worst element.
//   tg::test::Fixture f("linear.json");  Tensor x = f["x"];
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include <tapegrad/core/error.h>
#include <tapegrad/autograd/tensor.h>
#include "tests/json_fixture.h"

namespace tg::test {

/// The fixture folder of the nn suites.
inline std::string nn_fixture_path(const std::string& file) {
  return std::string(TG_TEST_DIR) + "/nn/fixtures/" + file;
}

/// One fixture file: named arrays, each returned as a fresh tensor.
class Fixture {
 public:
  /// Reads tests/nn/fixtures/<file>; throws tg::Error if it is missing or malformed.
  explicit Fixture(const std::string& file)
      : arrays_(JsonFixture::load(nn_fixture_path(file))["arrays"]) {}

  /// True when the file has an array called `name`.
  bool contains(const std::string& name) const { return arrays_.contains(name); }

  /// The array `name` as a tensor of its shape.
  Tensor operator[](const std::string& name) const {
    const JsonFixture a = arrays_[name];
    std::vector<int64_t> dims = a["shape"].integers();
    std::vector<double> data = a["data"].numbers();  // exact float32 values
    return tensor(std::vector<float>(data.begin(), data.end()), Shape(std::span(dims)));
  }

  /// The single value of a one-element array.
  float scalar(const std::string& name) const { return (*this)[name].item(); }

 private:
  JsonFixture arrays_;
};

/// Empty when `actual` and `expected` have the same shape and agree within
/// atol + rtol * |expected| everywhere; otherwise a description of the worst element.
inline std::string mismatch(const Tensor& actual, const Tensor& expected, float rtol = 1e-5f,
                            float atol = 1e-6f) {
  if (actual.shape() != expected.shape())
    return fmt::format("shape {} differs from the expected {}", actual.shape(), expected.shape());
  std::vector<float> a = actual.to_vector(), e = expected.to_vector();
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double excess = std::abs(double(a[i]) - e[i]) - (atol + rtol * std::abs(e[i]));
    if (std::isnan(a[i]) != std::isnan(e[i])) excess = INFINITY;
    if (excess > worst) worst = excess, at = i;
  }
  if (worst <= 0) return "";
  return fmt::format("element {} is {} but {} was expected (tolerance {} + {} * |expected|)", at,
                     a[at], e[at], atol, rtol);
}

/// Checks (doctest CHECK) that `actual` matches `expected`, printing the worst element if not.
#define TG_CHECK_CLOSE(actual, expected, ...)                                \
  do {                                                                       \
    std::string tg_mismatch_ = tg::test::mismatch(actual, expected __VA_OPT__(,) __VA_ARGS__); \
    CHECK_MESSAGE(tg_mismatch_.empty(), #actual " vs " #expected ": " << tg_mismatch_); \
  } while (0)

}  // namespace tg::test
