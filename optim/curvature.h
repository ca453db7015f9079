// Derivatives for the full-batch second-order methods, with respect to a list of
// parameter tensors seen as one flat vector x in R^n: the gradient and the dense
// Hessian of a loss (one pass per coordinate j: the tangent e_j gives df/dx_j by forward
// mode, and a backward through that tangent gives the column H e_j), the Jacobian of a
// residual vector (forward or reverse mode), and a dense linear solve, all in double.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <tapegrad/autograd/tensor.h>

namespace tg::optim {

/// A function of the parameters (it reads them directly) returning a loss or residuals.
/// It must only compute: the methods differentiate it themselves, so no zero_grad/backward.
using ParamFunction = std::function<Tensor()>;

/// How a Jacobian is computed: n forward passes (one per parameter element) or m backward
/// passes (one per residual); `automatic` takes the smaller count.
enum class JacobianMode { automatic, forward, reverse };

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

/// The number of elements of all parameters together.
int64_t total_numel(const std::vector<Tensor>& params);

/// The loss, gradient and Hessian of `loss_fn` at the current parameters, in n passes.
/// `op` names the caller in errors. Leaves each parameter's grad at its gradient.
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
