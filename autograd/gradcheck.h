// gradcheck: compares the tape's gradient with central finite differences.
// The output is reduced with a fixed random projection u (L = sum(u * f(x)))
// rather than a plain sum, whose gradient can vanish (sum of a softmax is 1).
// Users can call it on their own ops and layers, as every op's test does.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <tapegrad/autograd/tensor.h>

namespace tg {

struct GradcheckOptions {
  float eps = 1e-3f;   ///< finite-difference step
  float atol = 1e-3f;  ///< passes when |analytic - numeric| <= atol + rtol * |numeric|
  float rtol = 1e-2f;
  uint64_t seed = 1234;  ///< for the projection u
};

/// The worst element found, and whether every element passed.
struct GradcheckResult {
  bool ok = true;
  int input = -1;     ///< which input holds the worst element
  int64_t index = -1; ///< flat index of that element
  double analytic = 0, numeric = 0, error = 0;  ///< error = |analytic - numeric| - tolerance
  std::string message;  ///< a one-line report
};

/// Checks d(sum(u * f(inputs)))/d(inputs) from the tape against finite differences.
/// Every input is differentiated (as a fresh leaf copy); f must be deterministic.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, GradcheckOptions options = {});

}  // namespace tg
