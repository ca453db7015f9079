// Adamax's update: one pass over each parameter, its gradient, its average and its maximum.
#include <tapegrad/optim/adamax.h>

#include <cmath>

namespace tg::optim {

Adamax::Adamax(std::vector<Tensor> params, AdamaxOptions options)
    : Adamax(std::vector<ParamGroup<AdamaxOptions>>{{std::move(params), options}}) {}

Adamax::Adamax(std::vector<ParamGroup<AdamaxOptions>> groups)
    : OptimizerWith("Adamax", std::move(groups)) {
  for (const AdamaxOptions& o : options_) {
    detail::check_lr(name_, o.lr);
    detail::check_beta(name_, "beta1", o.betas[0]);
    detail::check_beta(name_, "beta2", o.betas[1]);
    detail::check_positive(name_, "eps", o.eps);
    detail::check_non_negative(name_, "weight_decay", o.weight_decay);
  }
}

void Adamax::step() {
  for_each_grad([]<typename T>(std::type_identity<T>, const AdamaxOptions& o, Tensor& p,
                               const Tensor& grad, ParamState& s) {
    T* x = p.data_ptr<T>();
    const T* dx = grad.data_ptr<T>();
    T* m = s.buffer("exp_avg", p).data_ptr<T>();
    T* u = s.buffer("exp_inf", p).data_ptr<T>();
    s.step++;
    const T b1 = o.betas[0], b1c = 1 - o.betas[0], b2 = o.betas[1], eps = o.eps;
    const T wd = o.weight_decay;
    const T step_size = o.lr / (1 - std::pow(o.betas[0], double(s.step)));
    for_each_element(p.numel(), [=](int64_t i) {
      T g = dx[i] + wd * x[i];
      m[i] = b1 * m[i] + b1c * g;
      u[i] = std::max(b2 * u[i], std::abs(g) + eps);
      x[i] -= step_size * m[i] / u[i];
    });
  });
}

}  // namespace tg::optim
