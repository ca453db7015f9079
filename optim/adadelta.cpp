// Adadelta's update: one pass over each parameter, its gradient and its two averages.
#include <tapegrad/optim/adadelta.h>

#include <cmath>

namespace tg::optim {

Adadelta::Adadelta(std::vector<Tensor> params, AdadeltaOptions options)
    : Adadelta(std::vector<ParamGroup<AdadeltaOptions>>{{std::move(params), options}}) {}

Adadelta::Adadelta(std::vector<ParamGroup<AdadeltaOptions>> groups)
    : OptimizerWith("Adadelta", std::move(groups)) {
  for (const AdadeltaOptions& o : options_) {
    detail::check_lr(name_, o.lr);
    detail::check_beta(name_, "rho", o.rho);
    detail::check_positive(name_, "eps", o.eps);
    detail::check_non_negative(name_, "weight_decay", o.weight_decay);
  }
}

void Adadelta::step() {
  for_each_grad([]<typename T>(std::type_identity<T>, const AdadeltaOptions& o, Tensor& p,
                               const Tensor& grad, ParamState& s) {
    T* x = p.data_ptr<T>();
    const T* dx = grad.data_ptr<T>();
    T* sq = s.buffer("square_avg", p).data_ptr<T>();
    T* acc = s.buffer("acc_delta", p).data_ptr<T>();
    const T lr = o.lr, rho = o.rho, rho1 = 1 - o.rho, eps = o.eps, wd = o.weight_decay;
    for_each_element(p.numel(), [=](int64_t i) {
      T g = dx[i] + wd * x[i];
      sq[i] = rho * sq[i] + rho1 * g * g;
      T delta = std::sqrt(acc[i] + eps) / std::sqrt(sq[i] + eps) * g;
      acc[i] = rho * acc[i] + rho1 * delta * delta;
      x[i] -= lr * delta;
    });
    s.step++;
  });
}

}  // namespace tg::optim
