// What the full-batch second-order methods need of a loss or residual function of the
// parameters (a tg::ParamFunction: it reads them in place), in double for the dense
// algebra: the gradient and Hessian of a loss, the Jacobian of residuals, with the
// optimizer's own checks and messages. The derivatives themselves come from
// autograd/forward.h (grad_and_value, hessian, jacobian); the dense solve lives here.
#pragma once

#include <cstdint>
#include <vector>

#include <tapegrad/autograd/forward.h>
#include <tapegrad/autograd/tensor.h>

namespace tg::optim {

// tg::ParamFunction, tg::JacobianMode and tg::total_numel (autograd/forward.h) are used here
// unqualified, as tg::optim sits inside tg.

/// f(x), its gradient [n] and its Hessian [n x n] (row-major, symmetrised).
struct LossDerivatives {
  double loss = 0;
  std::vector<double> gradient{};
  std::vector<double> hessian{};
};

/// r(x) [m] and its Jacobian [m x n] (row-major).
struct ResidualDerivatives {
  std::vector<double> residual{};
  std::vector<double> jacobian{};
  int64_t m = 0, n = 0;
};

/// The loss, gradient and Hessian of `loss_fn` at the current parameters (one backward, then
/// n reverse-over-forward passes). `op` names the caller in errors. Leaves each parameter's
/// grad at its gradient.
LossDerivatives loss_derivatives(const ParamFunction& loss_fn, const std::vector<Tensor>& params,
                                 const char* op);

/// The residuals and their Jacobian at the current parameters.
ResidualDerivatives residual_derivatives(const ParamFunction& residual_fn,
                                         const std::vector<Tensor>& params, JacobianMode mode,
                                         const char* op);

/// The residuals only (one forward pass, no tape).
std::vector<double> residual_values(const ParamFunction& residual_fn, const char* op);

/// Solves A x = b for a dense n x n row-major A by Gaussian elimination with partial pivoting;
/// throws "<op>: <what> is singular ..." when A has no usable pivot.
std::vector<double> solve_dense(std::vector<double> a, std::vector<double> b, const char* op,
                                const char* what);

/// x <- x + scale * step, where `step` is flat over the parameters (in order).
void add_to_params(const std::vector<Tensor>& params, const std::vector<double>& step,
                   double scale);

}  // namespace tg::optim
