// Small helpers shared by the test suites.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include <tapegrad/core/error.h>
#include <tapegrad/autograd/tensor.h>

namespace tg::test {

/// Checks that `expr` throws tg::Error whose message contains `needle`.
#define CHECK_THROWS_CONTAINING(expr, needle)                                    \
  do {                                                                           \
    std::string message_;                                                        \
    try {                                                                        \
      (void)(expr);                                                              \
    } catch (const tg::Error& e) {                                               \
      message_ = e.what();                                                       \
    }                                                                            \
    INFO("message: ", message_);                                                 \
    CHECK_MESSAGE(message_.find(needle) != std::string::npos, "expected: ", needle); \
  } while (0)

/// Elementwise comparison with a readable failure.
inline void check_values(const Tensor& t, const std::vector<float>& expected, float tol = 1e-5f) {
  std::vector<float> v = t.to_vector();
  REQUIRE(v.size() == expected.size());
  for (size_t i = 0; i < v.size(); ++i) {
    INFO("element ", i);
    CHECK(v[i] == doctest::Approx(expected[i]).epsilon(tol).scale(1));
  }
}

/// Uniform values in [lo, hi] with a random sign when `signed_away` (keeps |x| >= lo).
inline Tensor sample(const Shape& shape, float lo, float hi, bool signed_away = false) {
  Tensor t = rand(shape) * (hi - lo) + lo;
  if (signed_away) t = t * (rand(shape).gt(scalar_tensor(0.5f)) * 2 - 1);
  return t.detach();
}

/// The message of the tg::Error that f() throws, or "(no error)".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace tg::test
