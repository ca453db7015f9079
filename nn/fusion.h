// Folding an eval-mode BatchNorm into the convolution before it (PyTorch's
// torch.nn.utils.fusion). With s = gamma / sqrt(running_var + eps) per output channel,
//   bn(conv(x; w, b)) = conv(x; w * s, (b - running_mean) * s + beta)
// exactly in real arithmetic, so inference makes one pass over each block's output instead of
// two. BasicBlock and CifarResNet fold this way by themselves (conv_bn) when it is safe.
//
//   nn::Conv2d fused = nn::fuse_conv_bn_eval(conv, bn);   // conv and bn in eval mode
#pragma once

#include <utility>

#include <tapegrad/autograd/tensor.h>
#include <tapegrad/nn/conv.h>
#include <tapegrad/nn/norm.h>

namespace tg::nn {

/// The folded (weight, bias) of a convolution (weight [OC, ...], bias [OC] or undefined)
/// followed by a BatchNorm with running statistics bn_rm, bn_rv [OC], bn_eps and optional
/// affine bn_w, bn_b [OC]. PyTorch: torch.nn.utils.fusion.fuse_conv_bn_weights; unlike it
/// (which wraps the results as new Parameters) these are the outputs of Tensor ops: recorded on
/// the tape when an input requires grad, so detach() them for new leaves.
std::pair<Tensor, Tensor> fuse_conv_bn_weights(const Tensor& conv_w, const Tensor& conv_b,
                                               const Tensor& bn_rm, const Tensor& bn_rv,
                                               float bn_eps, const Tensor& bn_w,
                                               const Tensor& bn_b);

/// A new Conv2d with a bias that computes bn(conv(x)) for both modules in eval mode: fresh
/// parameters (the originals are untouched) and the global generator left as it was.
/// PyTorch: torch.nn.utils.fusion.fuse_conv_bn_eval.
Conv2d fuse_conv_bn_eval(const Conv2d& conv, const BatchNorm2d& bn);

/// bn(conv(input)), computed as one convolution with folded weights when that loses nothing:
/// bn in eval mode with running statistics, conv zero-padded, and either grad mode off or no
/// parameter of either module requiring grad (a training loop's gradients reach the real
/// weights). Otherwise the two modules in turn. Used by BasicBlock and CifarResNet.
Tensor conv_bn(Conv2d& conv, BatchNorm2d& bn, const Tensor& input);

}  // namespace tg::nn
