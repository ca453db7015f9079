// NAdam (Dozat 2016, "Incorporating Nesterov Momentum into Adam"): Adam whose step looks
// ahead with the next momentum coefficient, scheduled by momentum_decay psi.
//
//   g_t = grad + wd x_{t-1}
//   mu_t = beta1 (1 - 0.5 * 0.96^(t psi)),   P_t = mu_1 mu_2 ... mu_t
//   v_t = beta1 v_{t-1} + (1 - beta1) g_t,   s_t = beta2 s_{t-1} + (1 - beta2) g_t^2
//   d_t = sqrt(s_t / (1 - beta2^t)) + eps
//   x_t = x_{t-1} - eta (1 - mu_t) / (1 - P_t) g_t / d_t
//                 - eta mu_{t+1} / (1 - P_t mu_{t+1}) v_t / d_t
// This is PyTorch >= 2.0's rule; PyTorch 1.13 multiplied an extra mu_t into P_t mu_{t+1}
// (fixed in pytorch/pytorch#92699).
#pragma once

#include <array>

#include <tapegrad/optim/optimizer.h>

namespace tg::optim {

/// Options of NAdam, with PyTorch's names and defaults.
struct NAdamOptions {
  double lr = 2e-3;
  std::array<double, 2> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum_decay = 4e-3;
  /// Every option by name: what state_dict() stores and load_state_dict() compares.
  Hyperparameters hyperparameters() const {
    return {{"lr", lr}, {"betas", betas}, {"eps", eps}, {"weight_decay", weight_decay},
            {"momentum_decay", momentum_decay}};
  }
};

/// NAdam: `NAdam opt(params, {.lr = 2e-3})`.
class NAdam : public OptimizerWith<NAdamOptions> {
 public:
  /// One group of parameters sharing `options`.
  NAdam(std::vector<Tensor> params, NAdamOptions options = {});
  /// Several groups, each with its own options.
  explicit NAdam(std::vector<ParamGroup<NAdamOptions>> groups);
  /// One update of every parameter that has a gradient.
  void step() override;
  using Optimizer::step;
};

}  // namespace tg::optim
