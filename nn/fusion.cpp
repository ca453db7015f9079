// Conv + BatchNorm folding (see fusion.h).
#include <tapegrad/nn/fusion.h>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/core/error.h>
#include <tapegrad/core/random.h>
#include <tapegrad/nn/functional.h>

namespace tg::nn {

// w' = w * s (s broadcast over each output channel's kernel), b' = (b - mean) * s + beta,
// s = gamma * rsqrt(var + eps).
std::pair<Tensor, Tensor> fuse_conv_bn_weights(const Tensor& conv_w, const Tensor& conv_b,
                                               const Tensor& bn_rm, const Tensor& bn_rv,
                                               float bn_eps, const Tensor& bn_w,
                                               const Tensor& bn_b) {
  check(conv_w.defined() && conv_w.dim() >= 2,
        "fuse_conv_bn_weights: expected a convolution weight [OC, C, ...], got {}",
        conv_w.defined() ? conv_w.shape() : Shape{});
  const int64_t oc = conv_w.size(0);
  auto check_vector = [oc, &conv_w](const Tensor& t, const char* what, bool required) {
    check(t.defined() ? t.dim() == 1 && t.size(0) == oc : !required,
          "fuse_conv_bn_weights: {} of shape {} does not match the weight's {} output channels "
          "(weight {})",
          what, t.defined() ? t.shape() : Shape{}, oc, conv_w.shape());
  };
  check_vector(conv_b, "conv bias", false);
  check_vector(bn_rm, "running_mean", true);
  check_vector(bn_rv, "running_var", true);
  check_vector(bn_w, "bn weight", false);
  check_vector(bn_b, "bn bias", false);
  check(bn_eps >= 0, "fuse_conv_bn_weights: eps must be non-negative, got {}", bn_eps);
  for (const Tensor* t : {&conv_b, &bn_rm, &bn_rv, &bn_w, &bn_b})
    if (t->defined()) check_same_dtype(conv_w.dtype(), t->dtype(), "fuse_conv_bn_weights");

  Tensor scale = (bn_rv + bn_eps).rsqrt();
  if (bn_w.defined()) scale = scale * bn_w;
  Shape per_channel;  // [OC, 1, 1, ...] of the weight's rank
  for (int d = 0; d < conv_w.dim(); ++d) per_channel.push_back(d == 0 ? oc : 1);
  Tensor w = conv_w * scale.view(per_channel);
  Tensor b = (conv_b.defined() ? conv_b - bn_rm : -bn_rm) * scale;
  if (bn_b.defined()) b = b + bn_b;
  return {w, b};
}

Conv2d fuse_conv_bn_eval(const Conv2d& conv, const BatchNorm2d& bn) {
  check(!conv.is_training() && !bn.is_training(),
        "fuse_conv_bn_eval: fusion is only for eval mode (conv training: {}, bn training: {}); "
        "hint: call eval() on both first",
        conv.is_training(), bn.is_training());
  check(bn.track_running_stats,
        "fuse_conv_bn_eval: the BatchNorm has no running statistics (track_running_stats false)");
  check(bn.num_features == conv.options.out,
        "fuse_conv_bn_eval: BatchNorm2d({}) does not match the convolution's {} output channels",
        bn.num_features, conv.options.out);
  // A fresh layer of the same geometry with a bias; its random initialisation is overwritten,
  // so the global generator is put back as a copy of the original module would leave it.
  Conv2dOptions options = conv.options;
  options.bias = true;
  const Generator saved = default_generator();
  Conv2d fused(options);
  default_generator() = saved;
  fused.to(conv.weight.dtype());  // float64 layers fuse into a float64 layer
  NoGradGuard no_grad;
  auto [w, b] = fuse_conv_bn_weights(conv.weight, conv.bias, bn.running_mean, bn.running_var,
                                     bn.eps, bn.weight, bn.bias);
  fused.weight.copy_(w);
  fused.bias.copy_(b);
  fused.eval();
  return fused;
}

namespace {

bool wants_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

// Whether conv_bn may fold: the same values (eval statistics, padding inside conv2d) and no
// weight gradient lost.
bool can_fold(const Conv2d& conv, const BatchNorm& bn) {
  if (bn.is_training() || !bn.track_running_stats) return false;
  if (conv.options.padding_mode != PaddingMode::Zeros) return false;
  if (bn.num_features != conv.options.out) return false;  // let the modules name the mismatch
  if (!is_grad_enabled()) return true;
  return !wants_grad(conv.weight) && !wants_grad(conv.bias) && !wants_grad(bn.weight) &&
         !wants_grad(bn.bias);
}

}  // namespace

Tensor conv_bn(Conv2d& conv, BatchNorm2d& bn, const Tensor& input) {
  if (!can_fold(conv, bn)) return bn(conv(input));
  auto [w, b] = fuse_conv_bn_weights(conv.weight, conv.bias, bn.running_mean, bn.running_var,
                                     bn.eps, bn.weight, bn.bias);
  const Conv2dOptions& o = conv.options;
  return functional::conv2d(input, w, b, o.stride, o.padding, o.dilation, o.groups);
}

}  // namespace tg::nn
