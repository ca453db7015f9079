// AdaGrad (Duchi, Hazan & Singer 2011; d2l 11.7): a per-coordinate learning rate that
// shrinks with the sum of the squared gradients seen so far.
//
//   g_t = grad + wd x_{t-1},   eta_t = eta / (1 + (t - 1) lr_decay)
//   s_t = s_{t-1} + g_t^2                              (s_0 = initial_accumulator_value)
//   x_t = x_{t-1} - eta_t g_t / (sqrt(s_t) + eps)      (PyTorch, the default)
//   x_t = x_{t-1} - eta_t g_t / sqrt(s_t + eps)        (the course: .eps_inside_sqrt = true)
// The course's adagrad is {.lr = eta, .eps = 1e-6, .eps_inside_sqrt = true}.
#pragma once

#include <tapegrad/optim/optimizer.h>

namespace tg::optim {

/// Options of Adagrad, with PyTorch's names and defaults.
struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0;
  double weight_decay = 0;
  double initial_accumulator_value = 0;
  double eps = 1e-10;
  bool eps_inside_sqrt = false;  ///< the course's sqrt(s + eps) instead of sqrt(s) + eps
  /// Every option by name: what state_dict() stores and load_state_dict() compares.
  Hyperparameters hyperparameters() const {
    return {{"lr", lr}, {"lr_decay", lr_decay}, {"weight_decay", weight_decay},
            {"initial_accumulator_value", initial_accumulator_value}, {"eps", eps},
            {"eps_inside_sqrt", eps_inside_sqrt}};
  }
};

/// AdaGrad: `Adagrad opt(params, {.lr = 0.4})`.
class Adagrad : public OptimizerWith<AdagradOptions> {
 public:
  /// One group of parameters sharing `options`.
  Adagrad(std::vector<Tensor> params, AdagradOptions options = {});
  /// Several groups, each with its own options.
  explicit Adagrad(std::vector<ParamGroup<AdagradOptions>> groups);
  /// One update of every parameter that has a gradient.
  void step() override;
  using Optimizer::step;
};

}  // namespace tg::optim
