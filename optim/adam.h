// Adam (Kingma & Ba 2015; d2l 11.10) and AdamW (Loshchilov & Hutter 2019): leaky averages
// of the gradient and of its square, both bias-corrected, give a per-coordinate step.
//
//   g_t = grad + wd x_{t-1}                   (Adam's L2 penalty; AdamW: see below)
//   v_t = beta1 v_{t-1} + (1 - beta1) g_t
//   s_t = beta2 s_{t-1} + (1 - beta2) g_t^2
//   s_t = max(s_{t-1}^max, s_t)               (amsgrad: Reddi et al. 2018, keeps the largest)
//   x_t = x_{t-1} - eta v^_t / (sqrt(s^_t) + eps)
//         with v^_t = v_t / (1 - beta1^t),  s^_t = s_t / (1 - beta2^t)   (bias correction)
// AdamW decouples the weight decay from the gradient: x_{t-1} <- (1 - eta wd) x_{t-1} first,
// and g_t = grad. The course's adam is the same rule with {.lr = eta, .eps = 1e-6}.
#pragma once

#include <array>

#include <tapegrad/optim/optimizer.h>

namespace tg::optim {

/// Options of Adam, with PyTorch's names and defaults.
struct AdamOptions {
  double lr = 1e-3;
  std::array<double, 2> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  bool amsgrad = false;
  /// Every option by name: what state_dict() stores and load_state_dict() compares.
  Hyperparameters hyperparameters() const {
    return {{"lr", lr}, {"betas", betas}, {"eps", eps}, {"weight_decay", weight_decay},
            {"amsgrad", amsgrad}};
  }
};

/// Options of AdamW: Adam's, with a default decoupled weight decay of 1e-2.
struct AdamWOptions {
  double lr = 1e-3;
  std::array<double, 2> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
  /// Every option by name: what state_dict() stores and load_state_dict() compares.
  Hyperparameters hyperparameters() const {
    return {{"lr", lr}, {"betas", betas}, {"eps", eps}, {"weight_decay", weight_decay},
            {"amsgrad", amsgrad}};
  }
};

/// Adam: `Adam opt(params, {.lr = 1e-3, .betas = {0.9, 0.999}})`.
class Adam : public OptimizerWith<AdamOptions> {
 public:
  /// One group of parameters sharing `options`.
  Adam(std::vector<Tensor> params, AdamOptions options = {});
  /// Several groups, each with its own options.
  explicit Adam(std::vector<ParamGroup<AdamOptions>> groups);
  /// One update of every parameter that has a gradient.
  void step() override;
  using Optimizer::step;
};

/// AdamW, Adam with decoupled weight decay: `AdamW opt(params, {.weight_decay = 0.05})`.
class AdamW : public OptimizerWith<AdamWOptions> {
 public:
  /// One group of parameters sharing `options`.
  AdamW(std::vector<Tensor> params, AdamWOptions options = {});
  /// Several groups, each with its own options.
  explicit AdamW(std::vector<ParamGroup<AdamWOptions>> groups);
  /// One update of every parameter that has a gradient.
  void step() override;
  using Optimizer::step;
};

}  // namespace tg::optim
