// Clipping and projections: one pass to measure (norms accumulated in double, so the
// result does not depend on the thread count), one pass to rescale or clamp in place.
#include <tapegrad/optim/clip.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/core/error.h>
#include <tapegrad/core/kernels.h>

namespace tg::optim {

namespace {

// The joint p-norm (p > 0, or infinity) of the elements of `tensors`.
double joint_norm(const std::vector<Tensor>& tensors, double p) {
  double total = 0;
  for (const Tensor& t : tensors) {
    Tensor c = t.contiguous();
    dispatch_floating(c.dtype(), "clip", [&]<typename T>(std::type_identity<T>) {
      const T* x = c.data_ptr<T>();
      for (int64_t i = 0, n = c.numel(); i < n; ++i) {
        double a = std::abs(double(x[i]));
        if (std::isinf(p))
          total = std::max(total, a);
        else if (p == 2)
          total += a * a;
        else if (p == 1)
          total += a;
        else
          total += std::pow(a, p);
      }
    });
  }
  if (std::isinf(p) || p == 1) return total;
  return p == 2 ? std::sqrt(total) : std::pow(total, 1 / p);
}

std::vector<Tensor> grads_of(const std::vector<Tensor>& params) {
  std::vector<Tensor> grads;
  for (const Tensor& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  return grads;
}

}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  check(norm_type > 0, "clip_grad_norm_: invalid norm_type: {} (expected > 0 or infinity)",
        norm_type);
  check(max_norm >= 0, "clip_grad_norm_: invalid max_norm: {} (expected >= 0)", max_norm);
  std::vector<Tensor> grads = grads_of(params);
  double norm = joint_norm(grads, norm_type);
  check(!error_if_nonfinite || std::isfinite(norm),
        "clip_grad_norm_: the total norm of order {} of the gradients is {}; hint: pass "
        "error_if_nonfinite = false to clip anyway",
        norm_type, norm);
  double coef = max_norm / (norm + 1e-6);
  if (coef < 1) {
    NoGradGuard no_grad;
    for (Tensor& g : grads)
      kernels::map_inplace(g, [coef](auto x) { return x * decltype(x)(coef); }, "clip_grad_norm_");
  }
  return norm;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  check(clip_value >= 0, "clip_grad_value_: invalid clip_value: {} (expected >= 0)", clip_value);
  for (Tensor& g : grads_of(params))
    kernels::map_inplace(g, [clip_value](auto x) {
      using T = decltype(x);
      return std::clamp(x, T(-clip_value), T(clip_value));
    }, "clip_grad_value_");
}

double project_l2_ball_(const std::vector<Tensor>& params, double radius) {
  check(radius >= 0, "project_l2_ball_: invalid radius: {} (expected >= 0)", radius);
  double norm = joint_norm(params, 2);
  if (norm > radius) {
    const double c = radius / norm;
    for (const Tensor& p : params)
      kernels::map_inplace(p, [c](auto x) { return x * decltype(x)(c); }, "project_l2_ball_");
  }
  return norm;
}

void project_box_(const std::vector<Tensor>& params, double low, double high) {
  check(low <= high, "project_box_: invalid box: low {} > high {}", low, high);
  for (const Tensor& p : params)
    kernels::map_inplace(p, [low, high](auto x) {
      using T = decltype(x);
      return std::clamp(x, T(low), T(high));
    }, "project_box_");
}

}  // namespace tg::optim
