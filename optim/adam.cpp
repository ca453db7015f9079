// Adam's and AdamW's update, shared: one pass over each parameter, its gradient and its
// moment buffers. The scalar factors are computed once per tensor, in double, as PyTorch does.
#include <tapegrad/optim/adam.h>

#include <cmath>

namespace tg::optim {

namespace {

// Validates one group's options for Adam or AdamW.
template <typename Options>
void check_adam_options(const std::string& name, const Options& o) {
  detail::check_lr(name, o.lr);
  detail::check_beta(name, "beta1", o.betas[0]);
  detail::check_beta(name, "beta2", o.betas[1]);
  detail::check_positive(name, "eps", o.eps);
  detail::check_non_negative(name, "weight_decay", o.weight_decay);
}

// One Adam step of one parameter; `decoupled` selects AdamW's weight decay.
template <typename T, typename Options>
void adam_update(const Options& o, bool decoupled, Tensor& p, const Tensor& grad, ParamState& s) {
  T* x = p.data_ptr<T>();
  const T* dx = grad.data_ptr<T>();
  T* m = s.buffer("exp_avg", p).data_ptr<T>();
  T* v = s.buffer("exp_avg_sq", p).data_ptr<T>();
  s.step++;
  const double t = double(s.step), beta1 = o.betas[0], beta2 = o.betas[1];
  const T b1 = beta1, b1c = 1 - beta1, b2 = beta2, b2c = 1 - beta2, eps = o.eps;
  const T step_size = o.lr / (1 - std::pow(beta1, t));     // eta / (1 - beta1^t)
  const T bias2_sqrt = std::sqrt(1 - std::pow(beta2, t));  // sqrt(1 - beta2^t)
  const T wd = decoupled ? T(0) : T(o.weight_decay);
  const T shrink = decoupled ? T(1 - o.lr * o.weight_decay) : T(1);
  with_flag(o.amsgrad, [&](auto amsgrad) {
    T* v_max = amsgrad ? s.buffer("max_exp_avg_sq", p).data_ptr<T>() : nullptr;
    for_each_element(p.numel(), [=](int64_t i) {
      x[i] *= shrink;
      T g = dx[i] + wd * x[i];
      m[i] = b1 * m[i] + b1c * g;
      v[i] = b2 * v[i] + b2c * g * g;
      T s_t = v[i];
      if constexpr (amsgrad) s_t = v_max[i] = std::max(v_max[i], v[i]);
      x[i] -= step_size * m[i] / (std::sqrt(s_t) / bias2_sqrt + eps);
    });
  });
}

}  // namespace

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : Adam(std::vector<ParamGroup<AdamOptions>>{{std::move(params), options}}) {}

Adam::Adam(std::vector<ParamGroup<AdamOptions>> groups) : OptimizerWith("Adam", std::move(groups)) {
  for (const AdamOptions& o : options_) check_adam_options(name_, o);
}

void Adam::step() {
  for_each_grad([]<typename T>(std::type_identity<T>, const AdamOptions& o, Tensor& p,
                               const Tensor& grad, ParamState& s) {
    adam_update<T>(o, false, p, grad, s);
  });
}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : AdamW(std::vector<ParamGroup<AdamWOptions>>{{std::move(params), options}}) {}

AdamW::AdamW(std::vector<ParamGroup<AdamWOptions>> groups)
    : OptimizerWith("AdamW", std::move(groups)) {
  for (const AdamWOptions& o : options_) check_adam_options(name_, o);
}

void AdamW::step() {
  for_each_grad([]<typename T>(std::type_identity<T>, const AdamWOptions& o, Tensor& p,
                               const Tensor& grad, ParamState& s) {
    adam_update<T>(o, true, p, grad, s);
  });
}

}  // namespace tg::optim
