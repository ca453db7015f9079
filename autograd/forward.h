// Function transforms over the two modes: jvp (forward mode, one pass with
// tangents), vjp (reverse mode, one backward), hvp (reverse over forward:
// backward through the tangent <grad f, v>) and small dense Hessians.
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include <tapegrad/autograd/tensor.h>

namespace tg {

using TensorFunction = std::function<Tensor(const std::vector<Tensor>&)>;

/// A dual tensor: primal's values carrying `tangent`; gradients still flow back to primal.
Tensor make_dual(const Tensor& primal, const Tensor& tangent);

/// f(x) and J(x) v, by forward mode (tangents pushed through every op).
std::pair<Tensor, Tensor> jvp(const TensorFunction& f, const std::vector<Tensor>& primals,
                              const std::vector<Tensor>& tangents);

/// f(x) and u^T J(x) for each primal, by reverse mode (one backward).
std::pair<Tensor, std::vector<Tensor>> vjp(const TensorFunction& f,
                                           const std::vector<Tensor>& primals,
                                           const Tensor& cotangent);

/// H(x) v for a scalar function f, by reverse-over-forward.
Tensor hvp(const std::function<Tensor(const Tensor&)>& f, const Tensor& x, const Tensor& v);

/// The dense Hessian [n, n] of a scalar f at x (n = x.numel()), one hvp per column.
Tensor hessian(const std::function<Tensor(const Tensor&)>& f, const Tensor& x);

/// The Jacobian [m, n] of f: R^n -> R^m at x, by n forward passes.
Tensor jacobian(const std::function<Tensor(const Tensor&)>& f, const Tensor& x);

}  // namespace tg
