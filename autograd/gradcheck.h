// gradcheck: compares the tape's gradient with central finite differences.
// The output is reduced with a fixed random projection u (L = sum(u * f(x)))
// rather than a plain sum, whose gradient can vanish (sum of a softmax is 1).
// Two forms, as in forward.h: f of explicit inputs, and f of tensors it reads in
// place (a layer's input and parameters). Users can call it on their own ops and
// layers, as every op's test does.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <tapegrad/autograd/forward.h>
#include <tapegrad/autograd/tensor.h>

namespace tg {

/// The step and tolerances default by the dtype of the tensors checked. float64 (the default
/// for the inputs form, like PyTorch's gradcheck): eps 1e-6, atol 1e-5, rtol 1e-3. float32:
/// a step of 1e-3 leaves ~1e-4 relative rounding error in each difference quotient of O(1)
/// values, so eps 1e-3, atol 1e-3, rtol 1e-2.
struct GradcheckOptions {
  std::optional<double> eps{};   ///< finite-difference step
  std::optional<double> atol{};  ///< passes when |analytic - numeric| <= atol + rtol * |numeric|
  std::optional<double> rtol{};
  uint64_t seed = 1234;  ///< for the projection u
  /// The inputs form checks copies of the inputs converted to this dtype (unset: their own).
  /// The params form perturbs the tensors in place, in their own dtype.
  std::optional<Dtype> dtype = kFloat64;
};

/// The worst element found, and whether every element passed.
struct GradcheckResult {
  bool ok = true;
  int input = -1;      ///< which tensor of the list holds the worst element
  int64_t index = -1;  ///< flat index of that element
  double analytic = 0, numeric = 0, error = 0;  ///< error = |analytic - numeric| - tolerance
  std::string message;                          ///< a one-line report
};

/// Checks d(sum(u * f(inputs)))/d(inputs) from the tape against finite differences.
/// Every input is differentiated (as a fresh leaf copy); f must be deterministic.
GradcheckResult gradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs,
                          GradcheckOptions options = {});

/// The same for tensors f reads in place: `gradcheck([&] { return net(x); }, {x, w, b})`.
/// Each must be a contiguous leaf; its elements are perturbed in place and restored, and its
/// .grad() is left as it was. A module in training mode may update buffers on each call
/// (BatchNorm's running statistics): that is harmless as long as the output does not read them.
GradcheckResult gradcheck(const ParamFunction& f, const std::vector<Tensor>& params,
                          GradcheckOptions options = {});

/// Second derivatives: gradcheck of x -> dL/dx, L = sum(u * y + w * y^2 / 2) with y = f(x)
/// (so dL/dy depends on x too) and random u, w, computed by the tape with
/// create_graph, so the tape differentiates its own backward pass (reverse over reverse) and
/// is compared with finite differences of first derivatives (PyTorch's gradgradcheck).
/// A once-differentiable op in f makes it throw the tg::Error that names that op.
GradcheckResult gradgradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs,
                              GradcheckOptions options = {});
GradcheckResult gradgradcheck(const ParamFunction& f, const std::vector<Tensor>& params,
                              GradcheckOptions options = {});

}  // namespace tg
