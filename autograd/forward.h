// Function transforms over the two modes, as torch.func keeps them together: jvp (forward
// mode, one pass with tangents), vjp and grad_and_value (reverse mode, one backward), hvp
// (reverse over forward: backward through the tangent <grad f, v>), and dense Hessians
// and Jacobians built from those. Each comes in two forms: f of explicit inputs (f(x),
// f({x, y})), and f of tensors it reads in place, such as a module's parameters (f()),
// seen as one flat vector in the order given. optim's second-order methods use the latter.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include <tapegrad/autograd/tangent.h>
#include <tapegrad/autograd/tensor.h>

namespace tg {

using TensorFunction = std::function<Tensor(const std::vector<Tensor>&)>;

/// A function of tensors it reads in place: `[&] { return loss_fn(net(x), y); }` differentiated
/// with respect to net.parameters(). It must only compute (no backward of its own).
using ParamFunction = std::function<Tensor()>;

/// How a Jacobian is computed: n forward passes (one per input element) or m backward passes
/// (one per output element); `automatic` takes the smaller count.
enum class JacobianMode { automatic, forward, reverse };

/// A dual tensor: primal's values carrying `tangent`; gradients still flow back to primal.
/// Only inside a DualLevel (autograd/tangent.h); the tangents go when it ends:
///   { DualLevel level; Tensor y = f(make_dual(x, v)); Tensor jv = y.tangent(); }
Tensor make_dual(const Tensor& primal, const Tensor& tangent);

// ---- functions of explicit inputs ----------------------------------------------------------

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

/// The Jacobian [m, n] of f: R^n -> R^m at x (m = f(x).numel(), n = x.numel()).
Tensor jacobian(const std::function<Tensor(const Tensor&)>& f, const Tensor& x,
                JacobianMode mode = JacobianMode::automatic);

// ---- functions of tensors read in place ------------------------------------------------------
// The params must be leaves. For the call, each is made to require grad and its .grad() is set
// aside (tangents likewise); both are restored afterwards, so a caller's gradients survive.

/// The number of elements of all params together: the length n of the flat vector.
int64_t total_numel(const std::vector<Tensor>& params);

/// f() and J v, each param carrying its tangent from `tangents` for the call.
std::pair<Tensor, Tensor> jvp(const ParamFunction& f, const std::vector<Tensor>& params,
                              const std::vector<Tensor>& tangents);

/// f() and u^T J for each param, by one backward.
std::pair<Tensor, std::vector<Tensor>> vjp(const ParamFunction& f,
                                           const std::vector<Tensor>& params,
                                           const Tensor& cotangent);

/// The gradient of a scalar f() for each param and f()'s value, by one backward
/// (torch.func.grad_and_value).
std::pair<std::vector<Tensor>, Tensor> grad_and_value(const ParamFunction& f,
                                                      const std::vector<Tensor>& params);

/// H v for a scalar f(), v given per param, by reverse-over-forward.
std::vector<Tensor> hvp(const ParamFunction& f, const std::vector<Tensor>& params,
                        const std::vector<Tensor>& v);

/// The dense Hessian [n, n] of a scalar f() over the flat params: column j = H e_j, by n
/// reverse-over-forward passes.
Tensor hessian(const ParamFunction& f, const std::vector<Tensor>& params);

/// The Jacobian [m, n] of f() over the flat params: n forward passes (column j = J e_j) or
/// one tape and m backward passes (row i = e_i^T J).
Tensor jacobian(const ParamFunction& f, const std::vector<Tensor>& params,
                JacobianMode mode = JacobianMode::automatic);

}  // namespace tg
