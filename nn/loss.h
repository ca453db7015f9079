// Loss modules: loss(input, target) -> a scalar (or per-element values with
// Reduction::None). Each forwards to its form in nn::functional; arguments
// and defaults follow PyTorch (input first, then target; reduction = mean).
#pragma once

#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/module.h>

namespace tg::nn {

/// The base of the loss modules: two inputs and a reduction.
class Loss : public Module {
 public:
  explicit Loss(Reduction reduction) : reduction(reduction) {}  ///< with PyTorch's reduction
  /// The loss of `input` against `target`.
  virtual Tensor forward(const Tensor& input, const Tensor& target) = 0;
  /// Calls forward: `criterion(net(x), y)`.
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  Reduction reduction;  ///< None, Mean (the default) or Sum
};

/// Mean squared error: (input - target)^2.
class MSELoss : public Loss {
 public:
  explicit MSELoss(Reduction reduction = Reduction::Mean) : Loss(reduction) {}  ///< reduction
  Tensor forward(const Tensor& input, const Tensor& target) override;  ///< the functional form
};

/// The course's half squared loss (y_hat - y)^2 / 2 (see functional::squared_loss).
class SquaredLoss : public Loss {
 public:
  explicit SquaredLoss(Reduction reduction = Reduction::Mean) : Loss(reduction) {}  ///< reduction
  Tensor forward(const Tensor& input, const Tensor& target) override;  ///< the functional form
};

/// Mean absolute error: |input - target|.
class L1Loss : public Loss {
 public:
  explicit L1Loss(Reduction reduction = Reduction::Mean) : Loss(reduction) {}  ///< reduction
  Tensor forward(const Tensor& input, const Tensor& target) override;  ///< the functional form
};

/// Quadratic for |input - target| < delta, linear beyond (PyTorch's HuberLoss).
class HuberLoss : public Loss {
 public:
  /// PyTorch's order: HuberLoss(reduction, delta); delta must be positive.
  explicit HuberLoss(Reduction reduction = Reduction::Mean, float delta = 1.0f);
  /// HuberLoss(0.5f): the delta alone, mean reduction.
  explicit HuberLoss(float delta, Reduction reduction = Reduction::Mean)
      : HuberLoss(reduction, delta) {}
  Tensor forward(const Tensor& input, const Tensor& target) override;  ///< the functional form
  float delta;  ///< where the quadratic part turns linear
};

/// Cross-entropy of logits [N, C] against class indices [N] (fused log-softmax + NLL) or
/// class probabilities [N, C]; options as functional::CrossEntropyOptions.
class CrossEntropyLoss : public Loss {
 public:
  /// label_smoothing in [0, 1], as in PyTorch.
  explicit CrossEntropyLoss(Reduction reduction = Reduction::Mean,
                            float label_smoothing = 0.0f);
  /// Every option: `CrossEntropyLoss({.weight = w, .ignore_index = 0})`. A defined weight is
  /// registered as the buffer "weight", as PyTorch does (it is in the state_dict).
  explicit CrossEntropyLoss(const functional::CrossEntropyOptions& options);
  Tensor forward(const Tensor& input, const Tensor& target) override;  ///< the functional form
  float label_smoothing;  ///< weight of the uniform distribution mixed into the target
  Tensor weight;          ///< [C] class weights, or undefined
  int64_t ignore_index;   ///< class-index targets equal to it are not counted
};

/// Negative log-likelihood of log-probabilities [N, C] at class indices [N].
class NLLLoss : public Loss {
 public:
  explicit NLLLoss(Reduction reduction = Reduction::Mean) : NLLLoss({.reduction = reduction}) {}
  /// Every option: `NLLLoss({.weight = w, .ignore_index = 0})`; a defined weight is the buffer
  /// "weight", as in PyTorch.
  explicit NLLLoss(const functional::NLLLossOptions& options);
  Tensor forward(const Tensor& input, const Tensor& target) override;  ///< the functional form
  Tensor weight;         ///< [C] class weights, or undefined
  int64_t ignore_index;  ///< targets equal to it are not counted
};

}  // namespace tg::nn
