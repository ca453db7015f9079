// SGD's update: one pass over each parameter, its gradient and its momentum buffer.
#include <tapegrad/optim/sgd.h>

namespace tg::optim {

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : SGD(std::vector<ParamGroup<SGDOptions>>{{std::move(params), options}}) {}

SGD::SGD(std::vector<ParamGroup<SGDOptions>> groups) : OptimizerWith("SGD", std::move(groups)) {
  for (const SGDOptions& o : options_) {
    detail::check_lr(name_, o.lr);
    detail::check_non_negative(name_, "momentum", o.momentum);
    detail::check_non_negative(name_, "weight_decay", o.weight_decay);
    check(!o.nesterov || (o.momentum > 0 && o.dampening == 0),
          "SGD: nesterov momentum needs momentum > 0 and dampening = 0, got momentum {} and "
          "dampening {}",
          o.momentum, o.dampening);
  }
}

void SGD::step() {
  for_each_grad([]<typename T>(std::type_identity<T>, const SGDOptions& o, Tensor& p,
                               const Tensor& grad, ParamState& s) {
    T* x = p.data_ptr<T>();
    const T* dx = grad.data_ptr<T>();
    const T lr = o.lr, wd = o.weight_decay, beta = o.momentum;
    if (beta == 0) {
      for_each_element(p.numel(), [=](int64_t i) { x[i] -= lr * (dx[i] + wd * x[i]); });
      s.step++;
      return;
    }
    T* v = s.buffer("momentum_buffer", p).data_ptr<T>();
    const T damp = s.step == 0 ? T(1) : T(1 - o.dampening);  // v_1 = g_1 (v_0 = 0)
    const bool nesterov = o.nesterov;
    for_each_element(p.numel(), [=](int64_t i) {
      T g = dx[i] + wd * x[i];
      v[i] = beta * v[i] + damp * g;
      x[i] -= lr * (nesterov ? g + beta * v[i] : v[i]);
    });
    s.step++;
  });
}

}  // namespace tg::optim
