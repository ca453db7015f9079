// Transposed 2-D convolution: the ConvTranspose2d module over functional::conv_transpose2d
// (declared in nn/functional.h, defined in conv_transpose.cpp). Its forward is conv2d's input
// gradient (a GEMM and col2im per image); its backward is conv2d itself for the input and
// conv2d's weight-gradient kernel for the weight. Upsamples by `stride`, as in decoders/GANs.
#pragma once

#include <string>

#include <tapegrad/autograd/tensor.h>
#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/module.h>

namespace tg::nn {

using functional::Size2;

/// Options of ConvTranspose2d, for `ConvTranspose2d({.in = 8, .out = 4, .kernel = 4, .stride = 2,
/// .padding = 1})` (doubles H and W).
struct ConvTranspose2dOptions {
  int64_t in = 0;             ///< input channels (PyTorch's in_channels)
  int64_t out = 0;            ///< output channels (out_channels)
  Size2 kernel = 1;           ///< kernel_size
  Size2 stride = 1;           ///< the upsampling step
  Size2 padding = 0;          ///< removed from each side of the output: dilation (k - 1) - padding
  Size2 output_padding = 0;   ///< added to one side of the output; < stride or < dilation
  int64_t groups = 1;         ///< in and out channels split into this many independent groups
  bool bias = true;           ///< whether the layer has a bias
  Size2 dilation = 1;         ///< spacing between kernel taps
};

/// A transposed 2-D convolution layer, PyTorch's ConvTranspose2d (padding_mode zeros only, as
/// there) with its init: U(+-1/sqrt(fan_in)), fan_in = out / groups * kH * kW.
/// Output size: (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1.
class ConvTranspose2d : public Module {
 public:
  /// PyTorch's positional order: ConvTranspose2d(in, out, kernel_size, stride, padding,
  /// output_padding, groups, bias, dilation).
  ConvTranspose2d(int64_t in, int64_t out, Size2 kernel, Size2 stride = 1, Size2 padding = 0,
                  Size2 output_padding = 0, int64_t groups = 1, bool bias = true,
                  Size2 dilation = 1);
  /// The options-struct form.
  explicit ConvTranspose2d(const ConvTranspose2dOptions& options);

  /// conv_transpose2d(input, weight, bias) with this layer's geometry.
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  ///< "8, 4, kernel_size=(4, 4), stride=(2, 2), ..."

  ConvTranspose2dOptions options;  ///< the geometry given to the constructor
  Tensor weight;                   ///< [in, out / groups, kH, kW]
  Tensor bias;                     ///< [out], undefined when options.bias is false
};

}  // namespace tg::nn
