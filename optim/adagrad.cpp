// AdaGrad's update: one pass over each parameter, its gradient and its sum of squares.
#include <tapegrad/optim/adagrad.h>

#include <cmath>

namespace tg::optim {

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions options)
    : Adagrad(std::vector<ParamGroup<AdagradOptions>>{{std::move(params), options}}) {}

Adagrad::Adagrad(std::vector<ParamGroup<AdagradOptions>> groups)
    : OptimizerWith("Adagrad", std::move(groups)) {
  for (const AdagradOptions& o : options_) {
    detail::check_lr(name_, o.lr);
    detail::check_non_negative(name_, "lr_decay", o.lr_decay);
    detail::check_non_negative(name_, "weight_decay", o.weight_decay);
    detail::check_non_negative(name_, "initial_accumulator_value", o.initial_accumulator_value);
    detail::check_positive(name_, "eps", o.eps);
  }
}

void Adagrad::step() {
  for_each_grad([]<typename T>(std::type_identity<T>, const AdagradOptions& o, Tensor& p,
                               const Tensor& grad, ParamState& s) {
    T* x = p.data_ptr<T>();
    const T* dx = grad.data_ptr<T>();
    T* sum = s.buffer("sum", p, o.initial_accumulator_value).data_ptr<T>();
    s.step++;
    const T lr = o.lr / (1 + double(s.step - 1) * o.lr_decay);
    const T wd = o.weight_decay, eps = o.eps;
    if (o.eps_inside_sqrt) {
      for_each_element(p.numel(), [=](int64_t i) {
        T g = dx[i] + wd * x[i];
        sum[i] += g * g;
        x[i] -= lr * g / std::sqrt(sum[i] + eps);
      });
    } else {
      for_each_element(p.numel(), [=](int64_t i) {
        T g = dx[i] + wd * x[i];
        sum[i] += g * g;
        x[i] -= lr * g / (std::sqrt(sum[i]) + eps);
      });
    }
  });
}

}  // namespace tg::optim
