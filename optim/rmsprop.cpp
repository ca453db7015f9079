// RMSProp's update: one pass over each parameter, its gradient and its averages.
#include <tapegrad/optim/rmsprop.h>

#include <cmath>

namespace tg::optim {

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions options)
    : RMSprop(std::vector<ParamGroup<RMSpropOptions>>{{std::move(params), options}}) {}

RMSprop::RMSprop(std::vector<ParamGroup<RMSpropOptions>> groups)
    : OptimizerWith("RMSprop", std::move(groups)) {
  for (const RMSpropOptions& o : options_) {
    detail::check_lr(name_, o.lr);
    detail::check_beta(name_, "alpha", o.alpha);
    detail::check_positive(name_, "eps", o.eps);
    detail::check_non_negative(name_, "weight_decay", o.weight_decay);
    detail::check_non_negative(name_, "momentum", o.momentum);
  }
}

void RMSprop::step() {
  for_each_grad([]<typename T>(std::type_identity<T>, const RMSpropOptions& o, Tensor& p,
                               const Tensor& grad, ParamState& s) {
    T* x = p.data_ptr<T>();
    const T* dx = grad.data_ptr<T>();
    T* sq = s.buffer("square_avg", p).data_ptr<T>();
    T* avg = o.centered ? s.buffer("grad_avg", p).data_ptr<T>() : nullptr;
    T* buf = o.momentum > 0 ? s.buffer("momentum_buffer", p).data_ptr<T>() : nullptr;
    const T lr = o.lr, a = o.alpha, a1 = 1 - o.alpha, wd = o.weight_decay, eps = o.eps;
    const T mu = o.momentum;
    const bool inside = o.eps_inside_sqrt;
    with_flag(o.centered, [&](auto centered) {
      with_flag(o.momentum > 0, [&](auto momentum) {
        for_each_element(p.numel(), [=](int64_t i) {
          T g = dx[i] + wd * x[i];
          sq[i] = a * sq[i] + a1 * g * g;
          T v = sq[i];
          if constexpr (centered) {
            avg[i] = a * avg[i] + a1 * g;
            v -= avg[i] * avg[i];
          }
          T d = inside ? std::sqrt(v + eps) : std::sqrt(v) + eps;
          if constexpr (momentum) {
            buf[i] = mu * buf[i] + g / d;
            x[i] -= lr * buf[i];
          } else {
            x[i] -= lr * g / d;
          }
        });
      });
    });
    s.step++;
  });
}

}  // namespace tg::optim
