// Newton's step: loss derivatives in double, a dense solve, one update of the parameters.
#include <tapegrad/optim/newton.h>

namespace tg::optim {

Newton::Newton(std::vector<Tensor> params, NewtonOptions options)
    : OptimizerWith("Newton", {{std::move(params), options}}) {
  detail::check_lr(name_, options.lr);
  int64_t n = total_numel(params_[0]);
  check(n <= kMaxParams,
        "Newton: {} parameter elements are too many for an explicit Hessian (at most {}); "
        "hint: use LBFGS",
        n, kMaxParams);
}

void Newton::step() { fail("Newton: step() needs the loss function; call step(loss_fn)"); }

Tensor Newton::step(const Closure& loss_fn) {
  const NewtonOptions& o = options_[0];
  LossDerivatives d = loss_derivatives(loss_fn, params_[0], "Newton");
  std::vector<double> direction(d.gradient.size());
  const int64_t n = int64_t(d.gradient.size());
  if (o.diagonal) {
    for (int64_t i = 0; i < n; ++i) {
      double h = d.hessian[i * n + i];
      check(h != 0,
            "Newton: the Hessian's diagonal entry {} is zero; the diagonal step is "
            "undefined",
            i);
      direction[i] = d.gradient[i] / h;
    }
  } else {
    direction = solve_dense(d.hessian, d.gradient, "Newton", "the Hessian");
  }
  NoGradGuard no_grad;
  add_to_params(params_[0], direction, -o.lr);
  for (ParamState& s : state_[0]) s.step++;
  return scalar_tensor(d.loss, {.dtype = params_[0][0].dtype()});
}

}  // namespace tg::optim
