// Stochastic gradient descent, with heavy-ball momentum and Nesterov's variant:
// the first method of the course (d2l 11.3-11.4, 11.6) and PyTorch's torch.optim.SGD.
//
//   g_t = grad + wd x_{t-1}                          (weight decay, L2 penalty)
//   v_t = beta v_{t-1} + (1 - dampening) g_t         (v_1 = g_1: the first step is not damped)
//   x_t = x_{t-1} - eta v_t                          (heavy ball, Polyak 1964)
//   x_t = x_{t-1} - eta (g_t + beta v_t)             (nesterov: Sutskever et al. 2013)
// Without momentum (beta = 0) this is plain SGD: x_t = x_{t-1} - eta g_t. The course's
// sgd_momentum (v = beta v + g; x -= eta v) is {.momentum = beta}.
#pragma once

#include <tapegrad/optim/optimizer.h>

namespace tg::optim {

/// Options of SGD, with PyTorch's names and defaults (lr: PyTorch 2.2's default).
struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  /// Every option by name: what state_dict() stores and load_state_dict() compares.
  Hyperparameters hyperparameters() const {
    return {{"lr", lr}, {"momentum", momentum}, {"dampening", dampening},
            {"weight_decay", weight_decay}, {"nesterov", nesterov}};
  }
};

/// Stochastic gradient descent with optional momentum: `SGD opt(params, {.lr = 0.1})`.
class SGD : public OptimizerWith<SGDOptions> {
 public:
  /// One group of parameters sharing `options`.
  SGD(std::vector<Tensor> params, SGDOptions options = {});
  /// Several groups, each with its own options.
  explicit SGD(std::vector<ParamGroup<SGDOptions>> groups);
  /// One update of every parameter that has a gradient.
  void step() override;
  using Optimizer::step;
};

}  // namespace tg::optim
