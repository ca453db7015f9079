// 2-D pooling layers: MaxPool2d, AvgPool2d and AdaptiveAvgPool2d, modules over
// functional::max_pool2d / avg_pool2d / adaptive_avg_pool2d (declared in
// nn/functional.h, defined in pool.cpp with their backward and tangent rules).
#pragma once

#include <optional>
#include <string>

#include <tapegrad/autograd/tensor.h>
#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/module.h>

namespace tg::nn {

using functional::Size2;

/// Max over kernel windows; `stride` 0 means stride = kernel_size, as PyTorch's default.
class MaxPool2d : public Module {
 public:
  /// PyTorch's positional order: MaxPool2d(kernel_size, stride, padding, dilation, ceil_mode).
  explicit MaxPool2d(Size2 kernel_size, Size2 stride = 0, Size2 padding = 0, Size2 dilation = 1,
                     bool ceil_mode = false);
  /// max_pool2d(input) with this layer's window.
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  ///< "kernel_size=2, stride=2, padding=0, ..."

  Size2 kernel_size, stride, padding;  ///< the window given to the constructor
  Size2 dilation;                      ///< spacing of the window's taps
  bool ceil_mode;                      ///< keep a last partial window (see max_pool2d)
};

/// Mean over kernel windows, padded zeros included in the divisor unless count_include_pad
/// is false; divisor_override replaces the divisor.
class AvgPool2d : public Module {
 public:
  /// PyTorch's positional order: AvgPool2d(kernel_size, stride, padding, ceil_mode,
  /// count_include_pad, divisor_override).
  explicit AvgPool2d(Size2 kernel_size, Size2 stride = 0, Size2 padding = 0,
                     bool ceil_mode = false, bool count_include_pad = true,
                     std::optional<int64_t> divisor_override = std::nullopt);
  /// avg_pool2d(input) with this layer's window.
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  ///< "kernel_size=2, stride=2, padding=0"

  Size2 kernel_size, stride, padding;       ///< the window given to the constructor
  bool ceil_mode, count_include_pad;        ///< see avg_pool2d
  std::optional<int64_t> divisor_override;  ///< non-zero when given
};

/// Mean pooling to a fixed output size, whatever the input size (e.g. (1, 1): global average).
class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Size2 output_size);
  /// adaptive_avg_pool2d(input, output_size).
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  ///< "output_size=1"

  Size2 output_size;  ///< of each plane
};

}  // namespace tg::nn
