// conv_transpose2d as one primitive op: the adjoint of conv2d. Per image n and group g, with
// M = IC / g input channels, K = OC / g * KH * KW and P = H * W input pixels:
//   col [K, P] = W_g^T [K, M] . x_ng [M, P],   y_ng = col2im(col)  (+ b)
// which is how conv2d's backward computes its input gradient (nn/conv.cpp), images spread
// over the OpenMP pool in the same way. Backward: dL/dx = conv2d(dL/dy, w) (a recorded op, so
// it differentiates again), dL/dw from conv2d's weight-gradient kernel, dL/db = sum of dL/dy.
#include <tapegrad/nn/conv_transpose.h>

#include <algorithm>

#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/im2col.h>
#include <tapegrad/core/kernels.h>
#include <tapegrad/nn/conv_kernels.h>

namespace tg::nn {

namespace functional {

namespace {

// The validated shapes of one conv_transpose2d call. geom is conv2d's geometry of one group
// from the output [OC / g, OH, OW] back to the input [IC / g, H, W] (its out_h, out_w).
struct TransposeShape {
  kernels::ConvGeometry geom;
  int64_t batch, in_channels, out_channels, groups;
  int64_t m() const { return in_channels / groups; }
  int64_t k() const { return geom.col_rows(); }
  int64_t p() const { return geom.col_cols(); }
  int64_t out_plane() const { return geom.height * geom.width; }
  // col2im is the identity (1x1 kernel, stride 1, no padding, same size): GEMM straight into y.
  bool identity() const {
    return geom.is_identity() && geom.out_h == geom.height && geom.out_w == geom.width;
  }
};

TransposeShape transpose_shape(const Tensor& x, const Tensor& w, const Tensor& b, Size2 stride,
                               Size2 padding, Size2 output_padding, int64_t groups,
                               Size2 dilation) {
  const char* op = "conv_transpose2d";
  check(x.dim() == 4, "{}: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got {}", op,
        x.shape());
  check(w.dim() == 4, "{}: expected a 4-D weight [in, out / groups, kH, kW], got {}", op,
        w.shape());
  check(groups >= 1, "{}: groups must be at least 1, got {}", op, groups);
  check(stride.h >= 1 && stride.w >= 1, "{}: stride must be positive, got ({}, {})", op, stride.h,
        stride.w);
  check(dilation.h >= 1 && dilation.w >= 1, "{}: dilation must be positive, got ({}, {})", op,
        dilation.h, dilation.w);
  check(padding.h >= 0 && padding.w >= 0, "{}: padding must be non-negative, got ({}, {})", op,
        padding.h, padding.w);
  const Size2& op_ = output_padding;
  check(op_.h >= 0 && op_.w >= 0 && (op_.h < stride.h || op_.h < dilation.h) &&
            (op_.w < stride.w || op_.w < dilation.w),
        "{}: output_padding ({}, {}) must be non-negative and smaller than stride ({}, {}) or "
        "dilation ({}, {})", op, op_.h, op_.w, stride.h, stride.w, dilation.h, dilation.w);
  TransposeShape s;
  s.batch = x.size(0), s.in_channels = x.size(1), s.groups = groups;
  s.out_channels = w.size(1) * groups;
  check(w.size(0) == s.in_channels,
        "{}: input has {} channels but weight {} expects {} (weight [in, out / groups, kH, kW]); "
        "input {}", op, s.in_channels, w.shape(), w.size(0), x.shape());
  check(s.in_channels % groups == 0, "{}: input channels {} are not divisible by groups {}", op,
        s.in_channels, groups);
  check(!b.defined() || (b.dim() == 1 && b.size(0) == s.out_channels),
        "{}: bias of shape {} does not match the weight's {} output channels ({} x groups {})", op,
        b.defined() ? b.shape() : Shape{}, s.out_channels, w.size(1), groups);
  kernels::ConvGeometry& g = s.geom;
  g.channels = w.size(1), g.kernel_h = w.size(2), g.kernel_w = w.size(3);
  g.stride_h = stride.h, g.stride_w = stride.w, g.pad_h = padding.h, g.pad_w = padding.w;
  g.dilation_h = dilation.h, g.dilation_w = dilation.w;
  g.out_h = x.size(2), g.out_w = x.size(3);
  g.height = (x.size(2) - 1) * stride.h - 2 * padding.h + dilation.h * (g.kernel_h - 1) + op_.h + 1;
  g.width = (x.size(3) - 1) * stride.w - 2 * padding.w + dilation.w * (g.kernel_w - 1) + op_.w + 1;
  check(g.height >= 1 && g.width >= 1,
        "{}: output size {}x{} is not positive (input {}, weight {}, stride ({}, {}), padding "
        "({}, {}))", op, g.height, g.width, x.shape(), w.shape(), stride.h, stride.w, padding.h,
        padding.w);
  return s;
}

// y = col2im(W^T x) + b per image and group, all contiguous and of one dtype T.
template <typename T>
Tensor forward(const Tensor& x, const Tensor& w, const Tensor& b, const TransposeShape& s) {
  Tensor y = kernels::empty_like(x, {s.batch, s.out_channels, s.geom.height, s.geom.width});
  const int64_t M = s.m(), K = s.k(), P = s.p(), OP = s.out_plane(), C = s.geom.channels;
  const T *xd = x.data_ptr<T>(), *wd = w.data_ptr<T>();
  const T* bd = b.defined() ? b.data_ptr<T>() : nullptr;
  T* yd = y.data_ptr<T>();
  detail::for_each_image(s.batch, [&](int64_t n, int) {
    for (int64_t c = 0; c < s.out_channels; ++c)  // start from the bias: both paths accumulate
      std::fill(yd + (n * s.out_channels + c) * OP, yd + (n * s.out_channels + c + 1) * OP,
                bd ? bd[c] : T(0));
    for (int64_t g = 0; g < s.groups; ++g) {
      const T* xg = xd + (n * s.in_channels + g * M) * P;
      T* yg = yd + (n * s.out_channels + g * C) * OP;
      if (s.identity()) {
        kernels::gemm(true, false, K, P, M, T(1), wd + g * M * K, K, xg, P, T(1), yg, P);
      } else {
        T* col = detail::conv_scratch<T>(K * P, 1);
        kernels::gemm(true, false, K, P, M, T(1), wd + g * M * K, K, xg, P, T(0), col, P);
        kernels::col2im(col, s.geom, yg);
      }
    }
  });
  return y;
}

}  // namespace

// y = conv2d^T(x, w) + b.   dL/dx = conv2d(dL/dy, w),  dL/dw = conv2d's weight gradient with
// input dL/dy and output gradient x,  dL/db = sum of dL/dy over n, h, w.
// Tangent: conv_transpose2d(tx, w) + conv_transpose2d(x, tw) + tb (bilinear).
Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias,
                        Size2 stride, Size2 padding, Size2 output_padding, int64_t groups,
                        Size2 dilation) {
  if (input.dim() == 3)  // unbatched, as PyTorch allows
    return conv_transpose2d(input.unsqueeze(0), weight, bias, stride, padding, output_padding,
                            groups, dilation)
        .squeeze(0);
  TransposeShape s = transpose_shape(input, weight, bias, stride, padding, output_padding,
                                     groups, dilation);
  check_same_dtype(input.dtype(), weight.dtype(), "conv_transpose2d");
  if (bias.defined()) check_same_dtype(input.dtype(), bias.dtype(), "conv_transpose2d");
  Tensor x = input.contiguous(), w = weight.contiguous();
  Tensor b = bias.defined() ? bias.contiguous() : Tensor();
  Tensor y = dispatch_floating(x.dtype(), "conv_transpose2d",
                               [&]<typename T>(std::type_identity<T>) {
    return forward<T>(x, w, b, s);
  });
  record("conv_transpose2d", y, {x, w, b},
         [x, w, stride, padding, dilation, groups](const Tensor& gy, NeedsGrad need) {
           Tensor gx, gw, gb;
           // conv2d's output is larger than x when output_padding >= stride: the extra rows and
           // columns came from no input pixel.
           if (need[0])
             gx = conv2d(gy, w, Tensor(), stride, padding, dilation, groups)
                      .narrow(2, 0, x.size(2))
                      .narrow(3, 0, x.size(3));
           if (need[1])
             gw = detail::conv2d_weight_grad(gy, x, w, stride, padding, dilation, groups);
           if (need[2]) gb = gy.sum({0, 2, 3});
           return grads(gx, gw, gb);
         })
      .saves(x, w)
      .once_differentiable();  // the weight gradient is a raw kernel
  record_tangent(y, {x, w, b}, [&](const Tensor& tx, const Tensor& tw, const Tensor& tb) {
    Tensor t;  // the terms whose tangent is present (record_tangent hands in zeros for the rest)
    auto add = [&t](const Tensor& term) { t = t.defined() ? t + term : term; };
    auto again = [&](const Tensor& a, const Tensor& c) {
      return conv_transpose2d(a, c, Tensor(), stride, padding, output_padding, groups, dilation);
    };
    if (tg::detail::has_tangent(x)) add(again(tx, w));
    if (tg::detail::has_tangent(w)) add(again(x, tw));
    if (tg::detail::has_tangent(b))
      add(tb.view({1, s.out_channels, 1, 1}).expand(y.shape()).contiguous());
    return t;
  });
  return y;
}

}  // namespace functional

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, Size2 kernel, Size2 stride,
                                 Size2 padding, Size2 output_padding, int64_t groups, bool bias,
                                 Size2 dilation)
    : ConvTranspose2d(ConvTranspose2dOptions{in, out, kernel, stride, padding, output_padding,
                                             groups, bias, dilation}) {}

ConvTranspose2d::ConvTranspose2d(const ConvTranspose2dOptions& o) : options(o) {
  const char* layer = "ConvTranspose2d";
  check(o.in > 0 && o.out > 0, "{}: channels must be positive, got in {} and out {}", layer, o.in,
        o.out);
  check(o.kernel.h > 0 && o.kernel.w > 0, "{}: kernel size must be positive, got ({}, {})", layer,
        o.kernel.h, o.kernel.w);
  check(o.groups >= 1, "{}: groups must be at least 1, got {}", layer, o.groups);
  check(o.in % o.groups == 0, "{}: in channels {} are not divisible by groups {}", layer, o.in,
        o.groups);
  check(o.out % o.groups == 0, "{}: out channels {} are not divisible by groups {}", layer, o.out,
        o.groups);
  const Size2& p = o.output_padding;
  check(p.h >= 0 && p.w >= 0 && (p.h < o.stride.h || p.h < o.dilation.h) &&
            (p.w < o.stride.w || p.w < o.dilation.w),
        "{}: output_padding ({}, {}) must be non-negative and smaller than stride ({}, {}) or "
        "dilation ({}, {})", layer, p.h, p.w, o.stride.h, o.stride.w, o.dilation.h, o.dilation.w);
  weight = register_parameter("weight", empty({o.in, o.out / o.groups, o.kernel.h, o.kernel.w}));
  if (o.bias) bias = register_parameter("bias", empty({o.out}));
  detail::init_conv(weight, bias);
}

Tensor ConvTranspose2d::forward(const Tensor& input) {
  const ConvTranspose2dOptions& o = options;
  return functional::conv_transpose2d(input, weight, bias, o.stride, o.padding, o.output_padding,
                                      o.groups, o.dilation);
}

std::string ConvTranspose2d::extra_repr() const {
  const ConvTranspose2dOptions& o = options;
  std::string s = fmt::format("{}, {}, kernel_size=({}, {}), stride=({}, {})", o.in, o.out,
                              o.kernel.h, o.kernel.w, o.stride.h, o.stride.w);
  if (o.padding != Size2(0)) s += fmt::format(", padding=({}, {})", o.padding.h, o.padding.w);
  if (o.dilation != Size2(1)) s += fmt::format(", dilation=({}, {})", o.dilation.h, o.dilation.w);
  if (o.output_padding != Size2(0))
    s += fmt::format(", output_padding=({}, {})", o.output_padding.h, o.output_padding.w);
  if (o.groups != 1) s += fmt::format(", groups={}", o.groups);
  if (!o.bias) s += ", bias=False";
  return s;
}

}  // namespace tg::nn
