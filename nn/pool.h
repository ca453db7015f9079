// 2-D pooling layers: MaxPool2d, AvgPool2d and AdaptiveAvgPool2d, modules over
// functional::max_pool2d / avg_pool2d / adaptive_avg_pool2d (declared in
// nn/functional.h, defined in pool.cpp with their backward and tangent rules).
#pragma once

#include <string>

#include <tapegrad/autograd/tensor.h>
#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/module.h>

namespace tg::nn {

using functional::Size2;

/// Max over kernel windows; `stride` 0 means stride = kernel_size, as PyTorch's default.
class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Size2 kernel_size, Size2 stride = 0, Size2 padding = 0);
  /// max_pool2d(input) with this layer's window.
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  ///< "kernel_size=2, stride=2, padding=0, ..."

  Size2 kernel_size, stride, padding;  ///< the window given to the constructor
};

/// Mean over kernel windows, padded zeros included in the divisor (count_include_pad).
class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Size2 kernel_size, Size2 stride = 0, Size2 padding = 0);
  /// avg_pool2d(input) with this layer's window.
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  ///< "kernel_size=2, stride=2, padding=0"

  Size2 kernel_size, stride, padding;  ///< the window given to the constructor
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
