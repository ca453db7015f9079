// Adadelta (Zeiler 2012; d2l 11.9): RMSProp whose step size is the leaky average of past
// updates, so no learning rate is needed (PyTorch still scales the update by lr = 1).
//
//   g_t   = grad + wd x_{t-1}
//   s_t   = rho s_{t-1} + (1 - rho) g_t^2
//   g'_t  = sqrt(dx_{t-1} + eps) / sqrt(s_t + eps) * g_t
//   dx_t  = rho dx_{t-1} + (1 - rho) g'_t^2
//   x_t   = x_{t-1} - lr g'_t
// The course's adadelta is the same rule with {.rho = rho, .eps = 1e-5} (and lr = 1).
#pragma once

#include <tapegrad/optim/optimizer.h>

namespace tg::optim {

/// Options of Adadelta, with PyTorch's names and defaults.
struct AdadeltaOptions {
  double lr = 1.0;
  double rho = 0.9;
  double eps = 1e-6;
  double weight_decay = 0;
  /// Every option by name: what state_dict() stores and load_state_dict() compares.
  Hyperparameters hyperparameters() const {
    return {{"lr", lr}, {"rho", rho}, {"eps", eps}, {"weight_decay", weight_decay}};
  }
};

/// Adadelta: `Adadelta opt(params, {.rho = 0.9})`.
class Adadelta : public OptimizerWith<AdadeltaOptions> {
 public:
  /// One group of parameters sharing `options`.
  Adadelta(std::vector<Tensor> params, AdadeltaOptions options = {});
  /// Several groups, each with its own options.
  explicit Adadelta(std::vector<ParamGroup<AdadeltaOptions>> groups);
  /// One update of every parameter that has a gradient.
  void step() override;
  using Optimizer::step;
};

}  // namespace tg::optim
