// Adamax (Kingma & Ba 2015, section 7.1): Adam with the infinity norm in place of the
// root mean square, so the second moment is a leaky maximum of |g|.
//
//   g_t = grad + wd x_{t-1}
//   v_t = beta1 v_{t-1} + (1 - beta1) g_t
//   u_t = max(beta2 u_{t-1}, |g_t| + eps)
//   x_t = x_{t-1} - eta / (1 - beta1^t) * v_t / u_t
#pragma once

#include <array>

#include <tapegrad/optim/optimizer.h>

namespace tg::optim {

/// Options of Adamax, with PyTorch's names and defaults.
struct AdamaxOptions {
  double lr = 2e-3;
  std::array<double, 2> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  /// Every option by name: what state_dict() stores and load_state_dict() compares.
  Hyperparameters hyperparameters() const {
    return {{"lr", lr}, {"betas", betas}, {"eps", eps}, {"weight_decay", weight_decay}};
  }
};

/// Adamax: `Adamax opt(params, {.lr = 2e-3})`.
class Adamax : public OptimizerWith<AdamaxOptions> {
 public:
  /// One group of parameters sharing `options`.
  Adamax(std::vector<Tensor> params, AdamaxOptions options = {});
  /// Several groups, each with its own options.
  explicit Adamax(std::vector<ParamGroup<AdamaxOptions>> groups);
  /// One update of every parameter that has a gradient.
  void step() override;
  using Optimizer::step;
};

}  // namespace tg::optim
