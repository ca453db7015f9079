// Convolution layers: Conv2d over functional::conv2d (declared in nn/functional.h; one
// primitive op with forward, backward and tangent rules) and Conv1d over functional::conv1d
// (conv2d on a height-1 view). Inputs are NCHW / NCL; the weight is [out, in / groups, kH, kW]
// / [out, in / groups, k]. Computed per image as im2col + one GEMM, images spread over the
// OpenMP pool (nn/conv.cpp says why). padding_mode other than zeros pads with pad() first.
#pragma once

#include <string>
#include <vector>

#include <tapegrad/autograd/tensor.h>
#include <tapegrad/nn/functional.h>  // declares functional::conv2d and Size2
#include <tapegrad/nn/module.h>

namespace tg::nn {

using functional::ConvPadding;
using functional::PaddingMode;
using functional::Size2;

/// Options of Conv2d, for `Conv2d({.in = 3, .out = 6, .kernel = 5, .padding = 2})`.
struct Conv2dOptions {
  int64_t in = 0;       ///< input channels (PyTorch's in_channels)
  int64_t out = 0;      ///< output channels (out_channels)
  Size2 kernel = 1;     ///< kernel_size
  Size2 stride = 1;     ///< step between windows
  ConvPadding padding = 0;  ///< added on each side, or "same" / "valid"
  Size2 dilation = 1;   ///< spacing between kernel taps
  int64_t groups = 1;   ///< in and out channels split into this many independent groups
  bool bias = true;     ///< whether the layer has a bias
  PaddingMode padding_mode = PaddingMode::Zeros;  ///< what the padding holds (PyTorch's)
};

/// A 2-D convolution layer with PyTorch's default initialisation: weight from
/// kaiming_uniform_(a = sqrt(5)), i.e. U(+-1/sqrt(fan_in)), and bias U(+-1/sqrt(fan_in)).
class Conv2d : public Module {
 public:
  /// PyTorch's positional order: Conv2d(in_channels, out_channels, kernel_size, ...).
  Conv2d(int64_t in, int64_t out, Size2 kernel, Size2 stride = 1, ConvPadding padding = 0,
         Size2 dilation = 1, int64_t groups = 1, bool bias = true,
         PaddingMode padding_mode = PaddingMode::Zeros);
  /// The options-struct form.
  explicit Conv2d(const Conv2dOptions& options);

  /// conv2d(input, weight, bias) with this layer's geometry.
  Tensor forward(const Tensor& input) override;
  /// relu(forward(input)) as one op (functional::conv2d_relu); nn::Sequential calls it for a
  /// Conv2d followed by a ReLU.
  Tensor forward_relu(const Tensor& input);
  std::string extra_repr() const override;  ///< "3, 6, kernel_size=(5, 5), stride=(1, 1)"

  Conv2dOptions options;  ///< the geometry given to the constructor
  Tensor weight;          ///< [out, in / groups, kH, kW]
  Tensor bias;            ///< [out], undefined when options.bias is false

 private:
  std::vector<int64_t> pads_;  // pad()'s {left, right, top, bottom} for padding_mode
};

/// Options of Conv1d, for `Conv1d({.in = 2, .out = 4, .kernel = 3, .padding = "same"})`.
struct Conv1dOptions {
  int64_t in = 0;            ///< input channels (PyTorch's in_channels)
  int64_t out = 0;           ///< output channels (out_channels)
  int64_t kernel = 1;        ///< kernel_size
  int64_t stride = 1;        ///< step between windows
  ConvPadding padding = 0;   ///< added on each end (one number), or "same" / "valid"
  int64_t dilation = 1;      ///< spacing between kernel taps
  int64_t groups = 1;        ///< in and out channels split into this many independent groups
  bool bias = true;          ///< whether the layer has a bias
  PaddingMode padding_mode = PaddingMode::Zeros;  ///< what the padding holds (PyTorch's)
};

/// A 1-D convolution layer over [N, C, L] (or [C, L]), PyTorch's Conv1d and its init.
class Conv1d : public Module {
 public:
  /// PyTorch's positional order: Conv1d(in_channels, out_channels, kernel_size, ...).
  Conv1d(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, ConvPadding padding = 0,
         int64_t dilation = 1, int64_t groups = 1, bool bias = true,
         PaddingMode padding_mode = PaddingMode::Zeros);
  /// The options-struct form.
  explicit Conv1d(const Conv1dOptions& options);

  /// conv1d(input, weight, bias) with this layer's geometry.
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  ///< "2, 4, kernel_size=(3,), stride=(1,)"

  Conv1dOptions options;  ///< the geometry given to the constructor
  Tensor weight;          ///< [out, in / groups, k]
  Tensor bias;            ///< [out], undefined when options.bias is false

 private:
  std::vector<int64_t> pads_;  // pad()'s {left, right} for padding_mode
};

}  // namespace tg::nn
