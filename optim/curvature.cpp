// The second-order methods' view of autograd/forward.h: its transforms give float32 or float64
// tensors,
// turned here into the double vectors the dense solves work on, with the checks that name
// the optimizer when its loss or residual function misbehaves.
#include <tapegrad/optim/curvature.h>

#include <cmath>
#include <limits>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/core/error.h>

namespace tg::optim {

namespace {

std::vector<double> doubles(const Tensor& t) { return t.to_vector<double>(); }

}  // namespace

LossDerivatives loss_derivatives(const ParamFunction& loss_fn, const std::vector<Tensor>& params,
                                 const char* op) {
  // The transforms clear the parameters' gradients before every call of f, so a gradient
  // present afterwards means the loss function ran a backward of its own.
  ParamFunction checked = [&] {
    Tensor loss = loss_fn();
    check(loss.defined() && loss.numel() == 1, "{}: the loss function must return a scalar, got {}",
          op, loss.defined() ? fmt::format("{}", loss.shape()) : "an undefined tensor");
    for (const Tensor& p : params)
      check(!p.grad().defined(),
            "{}: the loss function called backward(); it must only compute "
            "the loss (the method differentiates it itself)",
            op);
    return loss;
  };
  auto [gradient, loss] = grad_and_value(checked, params);
  Tensor hessian = tg::hessian(checked, params);
  LossDerivatives d{loss.item<double>(), {}, doubles(hessian)};
  const int64_t n = hessian.size(0);
  for (int64_t i = 0; i < n; ++i) {  // symmetrise away float round-off
    for (int64_t j = i + 1; j < n; ++j) {
      double s = (d.hessian[i * n + j] + d.hessian[j * n + i]) / 2;
      d.hessian[i * n + j] = d.hessian[j * n + i] = s;
    }
  }
  NoGradGuard no_grad;
  for (size_t k = 0; k < params.size(); ++k) {
    for (double v : gradient[k].to_vector<double>()) d.gradient.push_back(v);
    params[k].set_grad(gradient[k]);
  }
  return d;
}

std::vector<double> residual_values(const ParamFunction& residual_fn, const char* op) {
  NoGradGuard no_grad;
  Tensor r = residual_fn();
  check(r.defined() && r.numel() > 0, "{}: the residual function returned no values", op);
  return doubles(r);
}

ResidualDerivatives residual_derivatives(const ParamFunction& residual_fn,
                                         const std::vector<Tensor>& params, JacobianMode mode,
                                         const char* op) {
  ResidualDerivatives d;
  d.n = total_numel(params);
  d.residual = residual_values(residual_fn, op);
  d.m = int64_t(d.residual.size());
  if (mode == JacobianMode::automatic)  // decided here: the residuals are counted already
    mode = d.n <= d.m ? JacobianMode::forward : JacobianMode::reverse;
  d.jacobian = doubles(jacobian(residual_fn, params, mode));
  return d;
}

std::vector<double> solve_dense(std::vector<double> a, std::vector<double> b, const char* op,
                                const char* what) {
  const int64_t n = int64_t(b.size());
  double scale = 0;
  for (double v : a) scale = std::max(scale, std::abs(v));
  const double tiny = double(n) * std::numeric_limits<double>::epsilon() * scale;
  for (int64_t k = 0; k < n; ++k) {
    int64_t pivot = k;
    for (int64_t i = k + 1; i < n; ++i)
      if (std::abs(a[i * n + k]) > std::abs(a[pivot * n + k])) pivot = i;
    check(std::abs(a[pivot * n + k]) > tiny && std::isfinite(a[pivot * n + k]),
          "{}: {} is singular (no usable pivot in column {} of {})", op, what, k, n);
    if (pivot != k) {
      for (int64_t j = 0; j < n; ++j) std::swap(a[k * n + j], a[pivot * n + j]);
      std::swap(b[k], b[pivot]);
    }
    for (int64_t i = k + 1; i < n; ++i) {
      double f = a[i * n + k] / a[k * n + k];
      for (int64_t j = k; j < n; ++j) a[i * n + j] -= f * a[k * n + j];
      b[i] -= f * b[k];
    }
  }
  for (int64_t k = n - 1; k >= 0; --k) {  // back substitution
    for (int64_t j = k + 1; j < n; ++j) b[k] -= a[k * n + j] * b[j];
    b[k] /= a[k * n + k];
  }
  return b;
}

void add_to_params(const std::vector<Tensor>& params, const std::vector<double>& step,
                   double scale) {
  size_t offset = 0;
  for (const Tensor& p : params) {
    dispatch_floating(p.dtype(), "add_to_params", [&]<typename T>(std::type_identity<T>) {
      T* x = p.data_ptr<T>();
      for (int64_t i = 0; i < p.numel(); ++i) x[i] += T(scale * step[offset + i]);
    });
    p.bump_version();
    offset += p.numel();
  }
}

}  // namespace tg::optim
