// Yogi's update: one pass over each parameter, its gradient and its moment buffers.
#include <tapegrad/optim/yogi.h>

#include <cmath>

namespace tg::optim {

Yogi::Yogi(std::vector<Tensor> params, YogiOptions options)
    : Yogi(std::vector<ParamGroup<YogiOptions>>{{std::move(params), options}}) {}

Yogi::Yogi(std::vector<ParamGroup<YogiOptions>> groups) : OptimizerWith("Yogi", std::move(groups)) {
  for (const YogiOptions& o : options_) {
    detail::check_lr(name_, o.lr);
    detail::check_beta(name_, "beta1", o.betas[0]);
    detail::check_beta(name_, "beta2", o.betas[1]);
    detail::check_positive(name_, "eps", o.eps);
    detail::check_non_negative(name_, "weight_decay", o.weight_decay);
  }
}

void Yogi::step() {
  for_each_grad([]<typename T>(std::type_identity<T>, const YogiOptions& o, Tensor& p,
                               const Tensor& grad, ParamState& s) {
    T* x = p.data_ptr<T>();
    const T* dx = grad.data_ptr<T>();
    T* m = s.buffer("exp_avg", p).data_ptr<T>();
    T* v = s.buffer("exp_avg_sq", p).data_ptr<T>();
    s.step++;
    const double t = double(s.step), beta1 = o.betas[0], beta2 = o.betas[1];
    const T b1 = beta1, b1c = 1 - beta1, b2c = 1 - beta2, eps = o.eps, wd = o.weight_decay;
    const T step_size = o.lr / (1 - std::pow(beta1, t));
    const T bias2_sqrt = std::sqrt(1 - std::pow(beta2, t));
    for_each_element(p.numel(), [=](int64_t i) {
      T g = dx[i] + wd * x[i];
      T g2 = g * g, diff = v[i] - g2;
      m[i] = b1 * m[i] + b1c * g;
      v[i] -= b2c * T((diff > 0) - (diff < 0)) * g2;
      x[i] -= step_size * m[i] / (std::sqrt(v[i]) / bias2_sqrt + eps);
    });
  });
}

}  // namespace tg::optim
