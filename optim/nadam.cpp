// NAdam's update: the momentum schedule in double once per tensor, then one pass over
// each parameter, its gradient and its moment buffers.
#include <tapegrad/optim/nadam.h>

#include <cmath>

namespace tg::optim {

NAdam::NAdam(std::vector<Tensor> params, NAdamOptions options)
    : NAdam(std::vector<ParamGroup<NAdamOptions>>{{std::move(params), options}}) {}

NAdam::NAdam(std::vector<ParamGroup<NAdamOptions>> groups)
    : OptimizerWith("NAdam", std::move(groups)) {
  for (const NAdamOptions& o : options_) {
    detail::check_lr(name_, o.lr);
    detail::check_beta(name_, "beta1", o.betas[0]);
    detail::check_beta(name_, "beta2", o.betas[1]);
    detail::check_positive(name_, "eps", o.eps);
    detail::check_non_negative(name_, "weight_decay", o.weight_decay);
    detail::check_non_negative(name_, "momentum_decay", o.momentum_decay);
  }
}

void NAdam::step() {
  for_each_grad([]<typename T>(std::type_identity<T>, const NAdamOptions& o, Tensor& p,
                               const Tensor& grad, ParamState& s) {
    T* x = p.data_ptr<T>();
    const T* dx = grad.data_ptr<T>();
    T* m = s.buffer("exp_avg", p).data_ptr<T>();
    T* v = s.buffer("exp_avg_sq", p).data_ptr<T>();
    s.step++;
    const double t = double(s.step), beta1 = o.betas[0], beta2 = o.betas[1];
    const double mu = beta1 * (1 - 0.5 * std::pow(0.96, t * o.momentum_decay));
    const double mu_next = beta1 * (1 - 0.5 * std::pow(0.96, (t + 1) * o.momentum_decay));
    auto [it, fresh] = s.scalars.try_emplace("mu_product", 1.0);
    double& mu_product = it->second;
    mu_product *= mu;
    const T grad_coef = o.lr * (1 - mu) / (1 - mu_product);
    const T avg_coef = o.lr * mu_next / (1 - mu_product * mu_next);
    const T b1 = beta1, b1c = 1 - beta1, b2 = beta2, b2c = 1 - beta2, eps = o.eps;
    const T bias2 = 1 - std::pow(beta2, t), wd = o.weight_decay;
    for_each_element(p.numel(), [=](int64_t i) {
      T g = dx[i] + wd * x[i];
      m[i] = b1 * m[i] + b1c * g;
      v[i] = b2 * v[i] + b2c * g * g;
      T d = std::sqrt(v[i] / bias2) + eps;
      x[i] -= grad_coef * g / d + avg_coef * m[i] / d;
    });
  });
}

}  // namespace tg::optim
