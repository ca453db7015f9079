// Activation layers and other parameter-free layers (Flatten, Dropout, Identity),
// as modules for Sequential. Each forwards to its form in nn::functional or to
// the Tensor method of the same name.
#pragma once

#include <cstdint>
#include <string>

#include <tapegrad/nn/module.h>

namespace tg::nn {

/// max(x, 0).
class ReLU : public Module {
 public:
  Tensor forward(const Tensor& input) override;  ///< applies the function elementwise
};

/// tanh(x).
class Tanh : public Module {
 public:
  Tensor forward(const Tensor& input) override;  ///< applies the function elementwise
};

/// 1 / (1 + exp(-x)).
class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& input) override;  ///< applies the function elementwise
};

/// x for x > 0, negative_slope * x otherwise.
class LeakyReLU : public Module {
 public:
  /// PyTorch's default slope 0.01.
  explicit LeakyReLU(float negative_slope = 0.01f) : negative_slope(negative_slope) {}
  Tensor forward(const Tensor& input) override;  ///< functional::leaky_relu
  std::string extra_repr() const override;       ///< "negative_slope=0.01"
  float negative_slope;                          ///< the slope for x <= 0
};

/// Softmax along `dim` (no default: PyTorch's implicit dim is deprecated).
class Softmax : public Module {
 public:
  explicit Softmax(int64_t dim) : dim(dim) {}    ///< along `dim` (negative counts from the end)
  Tensor forward(const Tensor& input) override;  ///< functional::softmax
  std::string extra_repr() const override;       ///< "dim=1"
  int64_t dim;                                   ///< the dim that sums to 1
};

/// Log-softmax along `dim`, computed stably.
class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(int64_t dim) : dim(dim) {}  ///< along `dim`
  Tensor forward(const Tensor& input) override;   ///< functional::log_softmax
  std::string extra_repr() const override;        ///< "dim=1"
  int64_t dim;                                    ///< the dim normalised over
};

/// Merges dims start_dim..end_dim into one: [N, C, H, W] -> [N, C*H*W] by default.
class Flatten : public Module {
 public:
  /// PyTorch's defaults keep the batch dim.
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : start_dim(start_dim), end_dim(end_dim) {}
  Tensor forward(const Tensor& input) override;  ///< input.flatten(start_dim, end_dim)
  std::string extra_repr() const override;       ///< "start_dim=1, end_dim=-1"
  int64_t start_dim, end_dim;                    ///< the first and last dims merged
};

/// Zeroes elements with probability p and scales the others by 1 / (1 - p) in training mode;
/// the identity in eval mode. p must be in [0, 1).
class Dropout : public Module {
 public:
  explicit Dropout(float p = 0.5f);              ///< throws tg::Error unless 0 <= p < 1
  Tensor forward(const Tensor& input) override;  ///< functional::dropout(input, p, is_training())
  std::string extra_repr() const override;       ///< "p=0.5"
  float p;                                       ///< the probability of zeroing an element
};

/// Returns its input: a placeholder where a layer is optional.
class Identity : public Module {
 public:
  Tensor forward(const Tensor& input) override { return input; }  ///< the input itself
};

}  // namespace tg::nn
