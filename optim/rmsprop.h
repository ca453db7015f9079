// RMSProp (Tieleman & Hinton 2012, Coursera lecture 6.5; d2l 11.8): AdaGrad with a leaky
// average of squared gradients, so the step size no longer decays to zero.
//
//   g_t = grad + wd x_{t-1}
//   s_t = gamma s_{t-1} + (1 - gamma) g_t^2                (gamma is PyTorch's alpha)
//   centered (Graves 2013): m_t = gamma m_{t-1} + (1 - gamma) g_t,  s~_t = s_t - m_t^2
//   d_t = sqrt(s~_t) + eps                                 (PyTorch, the default)
//   d_t = sqrt(s~_t + eps)                                 (the course: .eps_inside_sqrt)
//   x_t = x_{t-1} - eta g_t / d_t                          (momentum = 0)
//   b_t = mu b_{t-1} + g_t / d_t,  x_t = x_{t-1} - eta b_t (momentum mu > 0)
// The course's rmsprop is {.lr = eta, .alpha = gamma, .eps = 1e-6, .eps_inside_sqrt = true}.
#pragma once

#include <tapegrad/optim/optimizer.h>

namespace tg::optim {

/// Options of RMSprop, with PyTorch's names and defaults.
struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
  bool eps_inside_sqrt = false;  ///< the course's sqrt(s + eps) instead of sqrt(s) + eps
  /// Every option by name: what state_dict() stores and load_state_dict() compares.
  Hyperparameters hyperparameters() const {
    return {{"lr", lr}, {"alpha", alpha}, {"eps", eps}, {"weight_decay", weight_decay},
            {"momentum", momentum}, {"centered", centered}, {"eps_inside_sqrt", eps_inside_sqrt}};
  }
};

/// RMSProp: `RMSprop opt(params, {.lr = 0.01, .alpha = 0.9})`.
class RMSprop : public OptimizerWith<RMSpropOptions> {
 public:
  /// One group of parameters sharing `options`.
  RMSprop(std::vector<Tensor> params, RMSpropOptions options = {});
  /// Several groups, each with its own options.
  explicit RMSprop(std::vector<ParamGroup<RMSpropOptions>> groups);
  /// One update of every parameter that has a gradient.
  void step() override;
  using Optimizer::step;
};

}  // namespace tg::optim
