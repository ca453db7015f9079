// Yogi (Zaheer, Reddi, Sachan, Kale & Kumar 2018, "Adaptive Methods for Nonconvex
// Optimization"; d2l 11.10.3): Adam whose second moment moves by at most (1 - beta2) g^2
// per step, so it cannot blow up or forget too fast. PyTorch has no Yogi: the rule follows
// the course's yogi (with Adam's bias correction), the defaults the paper (lr 1e-2, eps 1e-3).
//
//   v_t = beta1 v_{t-1} + (1 - beta1) g_t
//   s_t = s_{t-1} - (1 - beta2) sign(s_{t-1} - g_t^2) g_t^2
//   x_t = x_{t-1} - eta v^_t / (sqrt(s^_t) + eps)
//         with v^_t = v_t / (1 - beta1^t),  s^_t = s_t / (1 - beta2^t)   (bias correction)
#pragma once

#include <array>

#include <tapegrad/optim/optimizer.h>

namespace tg::optim {

/// Options of Yogi (the paper's and the course's defaults; weight_decay as in Adam).
struct YogiOptions {
  double lr = 1e-2;
  std::array<double, 2> betas = {0.9, 0.999};
  double eps = 1e-3;
  double weight_decay = 0;
  /// Every option by name: what state_dict() stores and load_state_dict() compares.
  Hyperparameters hyperparameters() const {
    return {{"lr", lr}, {"betas", betas}, {"eps", eps}, {"weight_decay", weight_decay}};
  }
};

/// Yogi: `Yogi opt(params, {.lr = 1e-2})`.
class Yogi : public OptimizerWith<YogiOptions> {
 public:
  /// One group of parameters sharing `options`.
  Yogi(std::vector<Tensor> params, YogiOptions options = {});
  /// Several groups, each with its own options.
  explicit Yogi(std::vector<ParamGroup<YogiOptions>> groups);
  /// One update of every parameter that has a gradient.
  void step() override;
  using Optimizer::step;
};

}  // namespace tg::optim
