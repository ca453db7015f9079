// conv2d as one primitive op. Per image n and group g, with K = C/g * KH * KW and
// P = OH * OW:   y_n = W [OC, K] . col_n [K, P] (+ b)   where col_n = im2col(x_n).
// Why per image: col_n (235 KB for LeNet's conv1) stays in L2 between im2col and
// the GEMM, the result lands directly in NCHW, and OpenBLAS's small-matrix kernels
// run near peak on these shapes single-threaded, so images are spread over the
// OpenMP pool (one GEMM per thread) rather than one huge, thin, threaded GEMM,
// which measured 5-20x slower. Backward recomputes col_n rather than storing the
// whole batch's (15 MB for conv1 at batch 64): cheaper than the memory traffic.
#include <tapegrad/nn/conv.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/cpu.h>
#include <tapegrad/core/im2col.h>
#include <tapegrad/core/kernels.h>
#include <tapegrad/nn/init.h>

namespace tg::nn {

namespace functional {

namespace {

// A growing scratch buffer per thread (libgomp keeps its threads, so it is reused).
float* scratch(size_t floats, int slot) {
  thread_local std::vector<float> buffers[2];
  std::vector<float>& b = buffers[slot];
  if (b.size() < floats) b.resize(floats);
  return b.data();
}

// Runs body(n, thread) for each image: spread over the OpenMP pool when there is an
// image per thread (OpenBLAS then runs each GEMM single-threaded, as wanted), else
// serially so that OpenBLAS may thread each GEMM itself.
template <typename F>
int for_each_image(int64_t images, F&& body) {
  int threads = omp_get_max_threads();
  if (threads > 1 && images >= threads && !omp_in_parallel()) {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t n = 0; n < images; ++n) body(n, omp_get_thread_num());
    return threads;
  }
  for (int64_t n = 0; n < images; ++n) body(n, 0);
  return 1;
}

// The validated shapes of one conv2d call.
struct ConvShape {
  kernels::ConvGeometry geom;  // of one group: channels = C / groups
  int64_t batch, in_channels, out_channels, groups;
  int64_t k() const { return geom.col_rows(); }
  int64_t p() const { return geom.col_cols(); }
  int64_t out_per_group() const { return out_channels / groups; }
  int64_t image_size() const { return in_channels * geom.height * geom.width; }
  int64_t group_size() const { return geom.channels * geom.height * geom.width; }
};

ConvShape conv_shape(const Tensor& x, const Tensor& w, const Tensor& b, Size2 stride,
                     Size2 padding, Size2 dilation, int64_t groups) {
  check(x.dim() == 4, "conv2d: expected a 4-D input [N, C, H, W], got {}", x.shape());
  check(w.dim() == 4, "conv2d: expected a 4-D weight [out, in / groups, kH, kW], got {}",
        w.shape());
  check(groups >= 1, "conv2d: groups must be at least 1, got {}", groups);
  check(stride.h >= 1 && stride.w >= 1, "conv2d: stride must be positive, got ({}, {})", stride.h,
        stride.w);
  check(padding.h >= 0 && padding.w >= 0, "conv2d: padding must be non-negative, got ({}, {})",
        padding.h, padding.w);
  check(dilation.h >= 1 && dilation.w >= 1, "conv2d: dilation must be positive, got ({}, {})",
        dilation.h, dilation.w);
  ConvShape s;
  s.batch = x.size(0), s.in_channels = x.size(1), s.out_channels = w.size(0), s.groups = groups;
  check(s.in_channels % groups == 0, "conv2d: input channels {} are not divisible by groups {}",
        s.in_channels, groups);
  check(s.out_channels % groups == 0,
        "conv2d: weight {} has {} output channels, not divisible by groups {}", w.shape(),
        s.out_channels, groups);
  check(w.size(1) * groups == s.in_channels,
        "conv2d: input has {} channels but weight expects {} (groups {}); weight {}, input {}",
        s.in_channels, w.size(1) * groups, groups, w.shape(), x.shape());
  check(!b.defined() || (b.dim() == 1 && b.size(0) == s.out_channels),
        "conv2d: bias of shape {} does not match the weight's {} output channels",
        b.defined() ? b.shape() : Shape{}, s.out_channels);
  kernels::ConvGeometry& g = s.geom;
  g.channels = w.size(1), g.height = x.size(2), g.width = x.size(3);
  g.kernel_h = w.size(2), g.kernel_w = w.size(3);
  g.stride_h = stride.h, g.stride_w = stride.w, g.pad_h = padding.h, g.pad_w = padding.w;
  g.dilation_h = dilation.h, g.dilation_w = dilation.w;
  int64_t kh = dilation.h * (g.kernel_h - 1) + 1, kw = dilation.w * (g.kernel_w - 1) + 1;
  int64_t ph = g.height + 2 * padding.h, pw = g.width + 2 * padding.w;
  check(kh <= ph && kw <= pw,
        "conv2d: kernel size (dilated) {}x{} is larger than the padded input {}x{} (input {})", kh,
        kw, ph, pw, x.shape());
  g = g.with_output_size();
  return s;
}

// The column matrix [K, P] of one image and group: the image itself when im2col would copy it
// unchanged, else im2col into this thread's scratch slot 0.
const float* columns(const float* xg, const ConvShape& s) {
  if (s.geom.is_identity()) return xg;
  float* col = scratch(s.k() * s.p(), 0);
  kernels::im2col(xg, s.geom, col);
  return col;
}

// y = conv(x, w) + b, all contiguous.
Tensor forward(const Tensor& x, const Tensor& w, const Tensor& b, const ConvShape& s) {
  Tensor y = empty({s.batch, s.out_channels, s.geom.out_h, s.geom.out_w});
  const int64_t K = s.k(), P = s.p(), M = s.out_per_group();
  const float *xd = x.data(), *wd = w.data(), *bd = b.defined() ? b.data() : nullptr;
  float* yd = y.data();
  for_each_image(s.batch, [&](int64_t n, int) {
    for (int64_t g = 0; g < s.groups; ++g) {
      const float* col = columns(xd + n * s.image_size() + g * s.group_size(), s);
      float* yg = yd + (n * s.out_channels + g * M) * P;
      if (bd) {  // start from the bias and let the GEMM accumulate onto it (beta = 1)
        for (int64_t m = 0; m < M; ++m) std::fill(yg + m * P, yg + (m + 1) * P, bd[g * M + m]);
      }
      kernels::gemm(false, false, M, P, K, 1.0f, wd + g * M * K, K, col, P, bd ? 1.0f : 0.0f, yg,
                    P);
    }
  });
  return y;
}

// dL/dx, dL/dw, dL/db given dL/dy, each only when wanted. Per image:
//   dw += dy_n col_n^T,   dcol_n = W^T dy_n -> col2im -> dx_n,   db += rowsums(dy_n).
// Each thread sums its images' dw (as dw^T) and db in its own part; the parts are added last.
std::array<Tensor, 3> backward(const Tensor& gy, const Tensor& x, const Tensor& w,
                               const ConvShape& s, bool need_x, bool need_w, bool need_b) {
  const int64_t K = s.k(), P = s.p(), M = s.out_per_group(), W = w.numel();
  Tensor gx = need_x ? empty(x.shape()) : Tensor();
  const int threads = omp_get_max_threads();
  // Per-thread partial sums of dw and db, reduced after the loop.
  std::vector<float> partial(need_w || need_b ? threads * (W + s.out_channels) : 0, 0.0f);
  const float *xd = x.data(), *wd = w.data(), *gyd = gy.data();
  float* gxd = need_x ? gx.data() : nullptr;
  int used = for_each_image(s.batch, [&](int64_t n, int t) {
    float* gw = partial.data() + t * (W + s.out_channels);
    float* gb = gw + W;
    if (need_x && !s.geom.is_identity())
      std::fill(gxd + n * s.image_size(), gxd + (n + 1) * s.image_size(), 0.0f);
    for (int64_t g = 0; g < s.groups; ++g) {
      const float* gyg = gyd + (n * s.out_channels + g * M) * P;
      const float* wg = wd + g * M * K;
      if (need_w) {
        const float* col = columns(xd + n * s.image_size() + g * s.group_size(), s);
        // dw^T [K, M] += col [K, P] dy^T [P, M]: this orientation measured 1.3x faster than
        // dw [M, K] += dy col^T on conv2's shape (M = 16, K = 150, P = 100).
        kernels::gemm(false, true, K, M, P, 1.0f, col, P, gyg, P, 1.0f, gw + g * M * K, M);
      }
      if (need_x) {
        float* gxg = gxd + n * s.image_size() + g * s.group_size();
        if (s.geom.is_identity()) {  // col2im is the identity: write dx directly
          kernels::gemm(true, false, K, P, M, 1.0f, wg, K, gyg, P, 0.0f, gxg, P);
        } else {
          float* dcol = scratch(K * P, 1);
          kernels::gemm(true, false, K, P, M, 1.0f, wg, K, gyg, P, 0.0f, dcol, P);
          kernels::col2im(dcol, s.geom, gxg);
        }
      }
      if (need_b) {
        for (int64_t m = 0; m < M; ++m) {
          const float* row = gyg + m * P;
          float sum = 0;  // not through cpu::dispatch: g++ 12 left that copy scalar (10x slower)
#pragma omp simd reduction(+ : sum)
          for (int64_t p = 0; p < P; ++p) sum += row[p];
          gb[g * M + m] += sum;
        }
      }
    }
  });
  Tensor gw, gb;
  if (need_w) gw = zeros(w.shape());
  if (need_b) gb = zeros({s.out_channels});
  for (int t = 0; t < used; ++t) {  // sum the threads' parts, transposing each group's dw^T
    const float* part = partial.data() + t * (W + s.out_channels);
    if (need_w)
      for (int64_t g = 0; g < s.groups; ++g)
        for (int64_t m = 0; m < M; ++m)
          for (int64_t k = 0; k < K; ++k) gw.data()[(g * M + m) * K + k] += part[(g * K + k) * M + m];
    if (need_b)
      for (int64_t i = 0; i < s.out_channels; ++i) gb.data()[i] += part[W + i];
  }
  return {gx, gw, gb};
}

}  // namespace

// y = conv(x, w) + b.   dL/dx = conv^T(dL/dy, w),  dL/dw = sum_n dL/dy_n col_n^T,
// dL/db = sum of dL/dy over n, h, w.   Tangent: conv(tx, w) + conv(x, tw) + tb (bilinear).
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, Size2 stride,
              Size2 padding, Size2 dilation, int64_t groups) {
  if (input.dim() == 3)  // unbatched, as PyTorch allows
    return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0);
  ConvShape s = conv_shape(input, weight, bias, stride, padding, dilation, groups);
  Tensor x = input.contiguous(), w = weight.contiguous();
  Tensor b = bias.defined() ? bias.contiguous() : Tensor();
  Tensor y = forward(x, w, b, s);
  record("conv2d", y, {x, w, b}, [x, w, s](const Tensor& gy, NeedsGrad need) {
    auto [gx, gw, gb] = backward(gy.contiguous(), x, w, s, need[0], need[1], need[2]);
    return grads(gx, gw, gb);
  }).saves(x, w).once_differentiable();
  record_tangent(y, {x, w, b}, [&](const Tensor& tx, const Tensor& tw, const Tensor& tb) {
    // Skip the terms whose tangent is absent (record_tangent hands them in as zeros).
    Tensor t;
    auto add = [&t](const Tensor& term) { t = t.defined() ? t + term : term; };
    if (detail::has_tangent(x)) add(conv2d(tx, w, Tensor(), stride, padding, dilation, groups));
    if (detail::has_tangent(w)) add(conv2d(x, tw, Tensor(), stride, padding, dilation, groups));
    if (detail::has_tangent(b)) add(tb.view({1, s.out_channels, 1, 1}).expand(y.shape()).contiguous());
    return t;
  });
  return y;
}

}  // namespace functional

Conv2d::Conv2d(int64_t in, int64_t out, Size2 kernel, Size2 stride, Size2 padding,
               Size2 dilation, int64_t groups, bool bias)
    : Conv2d(Conv2dOptions{in, out, kernel, stride, padding, dilation, groups, bias}) {}

Conv2d::Conv2d(const Conv2dOptions& o) : options(o) {
  check(o.in > 0 && o.out > 0, "Conv2d: channels must be positive, got in {} and out {}", o.in,
        o.out);
  check(o.kernel.h > 0 && o.kernel.w > 0, "Conv2d: kernel size must be positive, got ({}, {})",
        o.kernel.h, o.kernel.w);
  check(o.groups >= 1, "Conv2d: groups must be at least 1, got {}", o.groups);
  check(o.in % o.groups == 0, "Conv2d: in channels {} are not divisible by groups {}", o.in,
        o.groups);
  check(o.out % o.groups == 0, "Conv2d: out channels {} are not divisible by groups {}", o.out,
        o.groups);
  weight = register_parameter("weight", empty({o.out, o.in / o.groups, o.kernel.h, o.kernel.w}));
  // PyTorch's reset_parameters(): kaiming_uniform_(a = sqrt(5)) gives U(+-1/sqrt(fan_in)).
  init::kaiming_uniform_(weight, std::sqrt(5.0f));
  if (o.bias) {
    float bound = 1 / std::sqrt(float(o.in / o.groups * o.kernel.h * o.kernel.w));
    bias = register_parameter("bias", empty({o.out}));
    init::uniform_(bias, -bound, bound);
  }
}

Tensor Conv2d::forward(const Tensor& input) {
  return functional::conv2d(input, weight, bias, options.stride, options.padding,
                            options.dilation, options.groups);
}

std::string Conv2d::extra_repr() const {
  const Conv2dOptions& o = options;
  std::string s = fmt::format("{}, {}, kernel_size=({}, {}), stride=({}, {})", o.in, o.out,
                              o.kernel.h, o.kernel.w, o.stride.h, o.stride.w);
  if (o.padding != Size2(0)) s += fmt::format(", padding=({}, {})", o.padding.h, o.padding.w);
  if (o.dilation != Size2(1)) s += fmt::format(", dilation=({}, {})", o.dilation.h, o.dilation.w);
  if (o.groups != 1) s += fmt::format(", groups={}", o.groups);
  if (!o.bias) s += ", bias=False";
  return s;
}

}  // namespace tg::nn
