// 2-D convolution: the Conv2d module over functional::conv2d (declared in
// nn/functional.h; one primitive op with forward, backward and tangent rules).
// Inputs are NCHW; the weight is [out, in / groups, kH, kW]. Computed per image as
// im2col + one sgemm, images spread over the OpenMP pool (nn/conv.cpp says why).
#pragma once

#include <string>

#include <tapegrad/autograd/tensor.h>
#include <tapegrad/nn/functional.h>  // declares functional::conv2d and Size2
#include <tapegrad/nn/module.h>

namespace tg::nn {

using functional::Size2;

/// Options of Conv2d, for `Conv2d({.in = 3, .out = 6, .kernel = 5, .padding = 2})`.
struct Conv2dOptions {
  int64_t in = 0;       ///< input channels (PyTorch's in_channels)
  int64_t out = 0;      ///< output channels (out_channels)
  Size2 kernel = 1;     ///< kernel_size
  Size2 stride = 1;     ///< step between windows
  Size2 padding = 0;    ///< zeros added on each side
  Size2 dilation = 1;   ///< spacing between kernel taps
  int64_t groups = 1;   ///< in and out channels split into this many independent groups
  bool bias = true;     ///< whether the layer has a bias
};

/// A 2-D convolution layer with PyTorch's default initialisation: weight from
/// kaiming_uniform_(a = sqrt(5)), i.e. U(+-1/sqrt(fan_in)), and bias U(+-1/sqrt(fan_in)).
class Conv2d : public Module {
 public:
  /// PyTorch's positional order: Conv2d(in_channels, out_channels, kernel_size, ...).
  Conv2d(int64_t in, int64_t out, Size2 kernel, Size2 stride = 1, Size2 padding = 0,
         Size2 dilation = 1, int64_t groups = 1, bool bias = true);
  /// The options-struct form.
  explicit Conv2d(const Conv2dOptions& options);

  /// conv2d(input, weight, bias) with this layer's geometry.
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  ///< "3, 6, kernel_size=(5, 5), stride=(1, 1)"

  Conv2dOptions options;  ///< the geometry given to the constructor
  Tensor weight;          ///< [out, in / groups, kH, kW]
  Tensor bias;            ///< [out], undefined when options.bias is false
};

}  // namespace tg::nn
