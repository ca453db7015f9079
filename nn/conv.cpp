// conv2d as one primitive op. Per image n and group g, with K = C/g * KH * KW and
// P = OH * OW:   y_n = W [OC, K] . col_n [K, P] (+ b)   where col_n = im2col(x_n).
// Why per image: col_n (235 KB for LeNet's conv1) stays in L2 between im2col and
// the GEMM, the result lands directly in NCHW, and OpenBLAS's small-matrix kernels
// run near peak on these shapes single-threaded, so images are spread over the
// OpenMP pool (one GEMM per thread) rather than one huge, thin, threaded GEMM,
// which measured 5-20x slower. Backward recomputes col_n rather than storing the
// whole batch's (15 MB for conv1 at batch 64): cheaper than the memory traffic.
// Around the op: padding "same"/"valid", conv1d (conv2d on a height-1 view), and the Conv1d
// and Conv2d modules, whose non-zero padding_mode pads with pad() before a padding-0 conv.
#include <tapegrad/nn/conv.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/conv3x3.h>
#include <tapegrad/core/cpu.h>
#include <tapegrad/core/im2col.h>
#include <tapegrad/core/kernels.h>
#include <tapegrad/core/winograd3x3.h>
#include <tapegrad/nn/conv_kernels.h>
#include <tapegrad/nn/init.h>

namespace tg::nn {

namespace functional {

namespace {

using detail::for_each_image;

template <typename T>
T* scratch(size_t elements, int slot) { return detail::conv_scratch<T>(elements, slot); }

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
template <typename T>
const T* columns(const T* xg, const ConvShape& s) {
  if (s.geom.is_identity()) return xg;
  T* col = scratch<T>(s.k() * s.p(), 0);
  kernels::im2col(xg, s.geom, col);
  return col;
}

// A float32 3x3 conv with stride 1, padding 1, no dilation or groups, on a CPU that runs the
// direct kernel (core/conv3x3.h): ResNet's shape, computed without im2col. float64 takes the
// im2col + dgemm path (it is for checking gradients, not for speed).
template <typename T>
bool direct_3x3(const ConvShape& s) {
  const kernels::ConvGeometry& g = s.geom;
  return std::is_same_v<T, float> && s.groups == 1 && g.kernel_h == 3 && g.kernel_w == 3 &&
         g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 1 && g.pad_w == 1 && g.dilation_h == 1 &&
         g.dilation_w == 1 && kernels::conv3x3_available();
}

// A direct_3x3 conv whose image size and channel counts suit the Winograd kernel
// (core/winograd3x3.h): 2.25x fewer multiply-adds, in forward and both gradients. Measured
// against the direct kernel (one thread, 32 x 32 images): at 16 channels in and out 1.5x
// faster both ways, at 8 channels 1.1x (forward) and 1.2x (weight gradient); at 3 input
// channels (a network's first conv) the weight gradient's GEMMs are too thin (0.7x), so that
// conv keeps the direct kernel.
template <typename T>
bool winograd_3x3(const ConvShape& s) {
  return direct_3x3<T>(s) && s.in_channels >= 8 && s.out_channels >= 8 &&
         kernels::winograd3x3_available(s.geom.height, s.geom.width);
}

// v = max(v, 0) over n values in place (the expression of Tensor::relu): conv2d_relu's ReLU,
// applied to each image's output while it is still in cache.
template <typename T>
void relu_in_place(T* v, int64_t n) {
  cpu::dispatch([&](auto) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) v[i] = v[i] > T(0) ? v[i] : T(0);
  });
}

// v[m][p] += bias[m] (if bias), then max(v, 0) (if relu), for rows m < M of P values.
template <typename T>
void add_bias_relu(T* v, int64_t M, int64_t P, const T* bias, bool relu) {
  cpu::dispatch([&](auto) {
    for (int64_t m = 0; m < M; ++m, v += P) {
      const T b = bias ? bias[m] : T(0);
      if (relu) {
#pragma omp simd
        for (int64_t p = 0; p < P; ++p) v[p] = v[p] + b > T(0) ? v[p] + b : T(0);
      } else {
#pragma omp simd
        for (int64_t p = 0; p < P; ++p) v[p] += b;
      }
    }
  });
}

// y [batch, out, H, W] = conv(x, packed) (+ bias) (then ReLU) by the Winograd kernel, in
// groups of winograd3x3_group images spread over the OpenMP pool. `transpose_flip`
// convolutions (the input gradient) map s.out_channels to s.in_channels.
void winograd_conv(const float* x, const float* packed, const float* bias, const ConvShape& s,
                   bool transpose_flip, float* y, bool relu = false) {
  const int64_t H = s.geom.height, W = s.geom.width;
  const int64_t in = transpose_flip ? s.out_channels : s.in_channels;
  const int64_t out = transpose_flip ? s.in_channels : s.out_channels;
  const int64_t group = kernels::winograd3x3_group(H, W), groups = (s.batch + group - 1) / group;
  for_each_image(groups, [&](int64_t g, int) {
    const int64_t n = g * group, images = std::min(group, s.batch - n);
    kernels::winograd3x3(x + n * in * H * W, images, in, H, W, packed, out, bias,
                         y + n * out * H * W);
    if (relu) relu_in_place(y + n * out * H * W, images * out * H * W);
  });
}

// The weight packed by `pack` into size(out, in) floats: pack_conv3x3_weight for
// kernels::conv3x3, pack_winograd3x3_weight (transformed) for kernels::winograd3x3. With
// transpose_flip, for the input gradient: a conv from s.out_channels to s.in_channels.
std::vector<float> packed_weight(const Tensor& w, const ConvShape& s, bool transpose_flip,
                                 int64_t (*size)(int64_t, int64_t),
                                 void (*pack)(const float*, int64_t, int64_t, bool, float*)) {
  const int64_t out = transpose_flip ? s.in_channels : s.out_channels;
  const int64_t in = transpose_flip ? s.out_channels : s.in_channels;
  std::vector<float> packed(size_t(size(out, in)));
  pack(w.data(), s.out_channels, s.in_channels, transpose_flip, packed.data());
  return packed;
}
std::vector<float> packed_3x3(const Tensor& w, const ConvShape& s, bool transpose_flip) {
  return packed_weight(w, s, transpose_flip, kernels::conv3x3_packed_size,
                       kernels::pack_conv3x3_weight);
}
std::vector<float> packed_winograd(const Tensor& w, const ConvShape& s, bool transpose_flip) {
  return packed_weight(w, s, transpose_flip, kernels::winograd3x3_packed_size,
                       kernels::pack_winograd3x3_weight);
}

// y = conv(x, w) + b (then ReLU when `relu`), all contiguous and of one dtype T.
template <typename T>
Tensor forward(const Tensor& x, const Tensor& w, const Tensor& b, const ConvShape& s, bool relu) {
  Tensor y = kernels::empty_like(x, {s.batch, s.out_channels, s.geom.out_h, s.geom.out_w});
  const int64_t K = s.k(), P = s.p(), M = s.out_per_group();
  const T *xd = x.data_ptr<T>(), *wd = w.data_ptr<T>();
  const T* bd = b.defined() ? b.data_ptr<T>() : nullptr;
  T* yd = y.data_ptr<T>();
  if constexpr (std::is_same_v<T, float>) {
    if (winograd_3x3<T>(s)) {
      winograd_conv(xd, packed_winograd(w, s, false).data(), bd, s, false, yd, relu);
      return y;
    }
    if (direct_3x3<T>(s)) {
      const std::vector<float> packed = packed_3x3(w, s, false);
      for_each_image(s.batch, [&](int64_t n, int) {
        kernels::conv3x3(xd + n * s.image_size(), s.in_channels, s.geom.height, s.geom.width,
                         packed.data(), s.out_channels, bd, yd + n * s.out_channels * P);
        if (relu) relu_in_place(yd + n * s.out_channels * P, s.out_channels * P);
      });
      return y;
    }
  }
  for_each_image(s.batch, [&](int64_t n, int) {
    for (int64_t g = 0; g < s.groups; ++g) {
      const T* col = columns(xd + n * s.image_size() + g * s.group_size(), s);
      T* yg = yd + (n * s.out_channels + g * M) * P;
      kernels::gemm(false, false, M, P, K, T(1), wd + g * M * K, K, col, P, T(0), yg, P);
    }
    // The bias (and ReLU) in one pass over the image's output while it is in cache: filling
    // y with the bias for the GEMM to accumulate onto (beta = 1) was a pass of its own, 6% of
    // a LeNet step.
    if (bd || relu) add_bias_relu(yd + n * s.out_channels * P, s.out_channels, P, bd, relu);
  });
  return y;
}

// dL/dx, dL/dw, dL/db given dL/dy, each only when wanted. Per image:
//   dw += dy_n col_n^T,   dcol_n = W^T dy_n -> col2im -> dx_n,   db += rowsums(dy_n).
// Each thread sums its images' dw (as dw^T) and db in its own part; the parts are added last.
template <typename T>
std::array<Tensor, 3> backward(const Tensor& gy, const Tensor& x, const Tensor& w,
                               const ConvShape& s, bool need_x, bool need_w, bool need_b) {
  const int64_t K = s.k(), P = s.p(), M = s.out_per_group(), W = w.numel();
  Tensor gx = need_x ? kernels::empty_like(x) : Tensor();
  const int threads = omp_get_max_threads();
  // Per-thread partial sums of dw and db, reduced after the loop.
  std::vector<T> partial(need_w || need_b ? threads * (W + s.out_channels) : 0, T(0));
  const T *xd = x.data_ptr<T>(), *wd = w.data_ptr<T>(), *gyd = gy.data_ptr<T>();
  T* gxd = need_x ? gx.data_ptr<T>() : nullptr;
  // The direct kernels (float32 only): dx as a conv of dy with the transposed, flipped weight;
  // dw (AVX-512) over each thread's share of the images at once (so its partial is in dw's own
  // layout).
  const bool direct = direct_3x3<T>(s);
  // dx by the Winograd kernel, before the per-image loop (which then leaves dx alone).
  const bool winograd_x = need_x && winograd_3x3<T>(s);
  if constexpr (std::is_same_v<T, float>) {
    if (winograd_x) winograd_conv(gyd, packed_winograd(w, s, true).data(), nullptr, s, true, gxd);
  }
  const std::vector<float> packed =
      direct && need_x && !winograd_x ? packed_3x3(w, s, true) : std::vector<float>();
  const bool direct_w = direct && need_w && kernels::conv3x3_weight_grad_available();
  const bool winograd_w = direct_w && winograd_3x3<T>(s);
  if constexpr (std::is_same_v<T, float>) {
    if (direct_w) {
      const int parts = threads > 1 && s.batch >= threads && !omp_in_parallel() ? threads : 1;
#pragma omp parallel for schedule(static) num_threads(parts)
      for (int part = 0; part < parts; ++part) {
        const int64_t begin = s.batch * part / parts, end = s.batch * (part + 1) / parts;
        const float* xp = xd + begin * s.image_size();
        const float* gyp = gyd + begin * s.out_channels * P;
        float* dw = partial.data() + part * (W + s.out_channels);
        if (winograd_w)
          kernels::winograd3x3_weight_grad(xp, gyp, end - begin, s.in_channels, s.geom.height,
                                           s.geom.width, s.out_channels, dw);
        else
          kernels::conv3x3_weight_grad(xp, gyp, end - begin, s.in_channels, s.geom.height,
                                       s.geom.width, s.out_channels, dw);
      }
    }
  }
  int used = for_each_image(s.batch, [&](int64_t n, int t) {
    T* gw = partial.data() + t * (W + s.out_channels);
    T* gb = gw + W;
    if constexpr (std::is_same_v<T, float>) {
      if (direct && need_x && !winograd_x)
        kernels::conv3x3(gyd + n * s.out_channels * P, s.out_channels, s.geom.height,
                         s.geom.width, packed.data(), s.in_channels, nullptr,
                         gxd + n * s.image_size());
    }
    if (need_x && !direct && !s.geom.is_identity())
      std::fill(gxd + n * s.image_size(), gxd + (n + 1) * s.image_size(), T(0));
    for (int64_t g = 0; g < s.groups; ++g) {
      const T* gyg = gyd + (n * s.out_channels + g * M) * P;
      const T* wg = wd + g * M * K;
      if (need_w && !direct_w) {
        const T* col = columns(xd + n * s.image_size() + g * s.group_size(), s);
        // dw^T [K, M] += col [K, P] dy^T [P, M]: this orientation measured 1.3x faster than
        // dw [M, K] += dy col^T on conv2's shape (M = 16, K = 150, P = 100).
        kernels::gemm(false, true, K, M, P, T(1), col, P, gyg, P, T(1), gw + g * M * K, M);
      }
      if (need_x && !direct) {
        T* gxg = gxd + n * s.image_size() + g * s.group_size();
        if (s.geom.is_identity()) {  // col2im is the identity: write dx directly
          kernels::gemm(true, false, K, P, M, T(1), wg, K, gyg, P, T(0), gxg, P);
        } else {
          T* dcol = scratch<T>(K * P, 1);
          kernels::gemm(true, false, K, P, M, T(1), wg, K, gyg, P, T(0), dcol, P);
          kernels::col2im(dcol, s.geom, gxg);
        }
      }
      if (need_b) {
        for (int64_t m = 0; m < M; ++m) {
          const T* row = gyg + m * P;
          T sum = 0;  // not through cpu::dispatch: g++ 12 left that copy scalar (10x slower)
#pragma omp simd reduction(+ : sum)
          for (int64_t p = 0; p < P; ++p) sum += row[p];
          gb[g * M + m] += sum;
        }
      }
    }
  }, detail::Schedule::Static);  // per-thread partial sums of dw and db: a fixed order
  Tensor gw, gb;
  if (need_w) gw = kernels::zeros_like(w, w.shape());
  if (need_b) gb = kernels::zeros_like(w, {s.out_channels});
  T* gwd = need_w ? gw.data_ptr<T>() : nullptr;
  T* gbd = need_b ? gb.data_ptr<T>() : nullptr;
  if (direct_w) used = threads;  // the weight-gradient loop may have used them all
  for (int t = 0; t < used; ++t) {  // sum the threads' parts, transposing each group's dw^T
    const T* part = partial.data() + t * (W + s.out_channels);
    if (direct_w)
      for (int64_t i = 0; i < W; ++i) gwd[i] += part[i];  // already [OC, C, 3, 3]
    else if (need_w)
      for (int64_t g = 0; g < s.groups; ++g)
        for (int64_t m = 0; m < M; ++m)
          for (int64_t k = 0; k < K; ++k) gwd[(g * M + m) * K + k] += part[(g * K + k) * M + m];
    if (need_b)
      for (int64_t i = 0; i < s.out_channels; ++i) gbd[i] += part[W + i];
  }
  return {gx, gw, gb};
}

// A tg::Error naming `op` unless input, weight and (if defined) bias share one dtype: no
// promotion (core/dtype.h), so a float32 input never meets a float64 layer silently.
void check_dtypes(const Tensor& input, const Tensor& weight, const Tensor& bias, const char* op) {
  check_same_dtype(input.dtype(), weight.dtype(), op);
  if (bias.defined()) check_same_dtype(input.dtype(), bias.dtype(), op);
}

// PyTorch's padding="same": the total d (k - 1) per dim split as (before, after), the odd
// one after. Returns {before, after} as (h, w) pairs.
std::pair<Size2, Size2> same_padding(Size2 kernel, Size2 dilation) {
  const int64_t th = dilation.h * (kernel.h - 1), tw = dilation.w * (kernel.w - 1);
  return {Size2(th / 2, tw / 2), Size2(th - th / 2, tw - tw / 2)};
}

// F.pad's list {left, right, top, bottom} for a conv's padding (PyTorch's Conv2d keeps it as
// _reversed_padding_repeated_twice), given the kernel for "same".
std::vector<int64_t> pad_list(const ConvPadding& p, Size2 kernel, Size2 dilation) {
  using Kind = ConvPadding::Kind;
  if (p.kind == Kind::Valid) return {0, 0, 0, 0};
  if (p.kind == Kind::Explicit) return {p.size.w, p.size.w, p.size.h, p.size.h};
  auto [before, after] = same_padding(kernel, dilation);
  return {before.w, after.w, before.h, after.h};
}

}  // namespace

ConvPadding::ConvPadding(const std::string& name) {
  check(name == "same" || name == "valid",
        "conv: padding must be a size, 'same' or 'valid', got '{}'{}", name,
        name == "full" ? "\nhint: numpy's 'full' is padding = dilation * (kernel_size - 1)" : "");
  kind = name == "same" ? Kind::Same : Kind::Valid;
}

// y = conv(x, w) + b.   dL/dx = conv^T(dL/dy, w),  dL/dw = sum_n dL/dy_n col_n^T,
// dL/db = sum of dL/dy over n, h, w.   Tangent: conv(tx, w) + conv(x, tw) + tb (bilinear).
// With `relu`, y = relu(conv(x, w) + b) in one node: dL/dy is first masked by [y > 0].
static Tensor conv2d_explicit(const Tensor& input, const Tensor& weight, const Tensor& bias,
                              Size2 stride, Size2 padding, Size2 dilation, int64_t groups,
                              bool relu = false) {
  if (input.dim() == 3)  // unbatched, as PyTorch allows
    return conv2d_explicit(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups,
                           relu)
        .squeeze(0);
  const char* op = relu ? "conv2d_relu" : "conv2d";
  ConvShape s = conv_shape(input, weight, bias, stride, padding, dilation, groups);
  check_dtypes(input, weight, bias, op);
  Tensor x = input.contiguous(), w = weight.contiguous();
  Tensor b = bias.defined() ? bias.contiguous() : Tensor();
  Tensor y = dispatch_floating(x.dtype(), op, [&]<typename T>(std::type_identity<T>) {
    return forward<T>(x, w, b, s, relu);
  });
  auto conv_grads = [x, w, s](const Tensor& gy, NeedsGrad need) {
    auto [gx, gw, gb] =
        dispatch_floating(x.dtype(), "conv2d", [&]<typename T>(std::type_identity<T>) {
          return backward<T>(gy.contiguous(), x, w, s, need[0], need[1], need[2]);
        });
    return grads(gx, gw, gb);
  };
  auto relu_mask = [](auto g, auto v) { return v > 0 ? g : decltype(g)(0); };
  if (relu)
    record("conv2d_relu", y, {x, w, b},
           [conv_grads, relu_mask, y0 = SavedOutput(y)](const Tensor& gy, NeedsGrad need) {
             return conv_grads(Tensor(kernels::zip(gy, y0.get(), relu_mask, "conv2d_relu")), need);
           }).saves(x, w, y).once_differentiable();
  else
    record("conv2d", y, {x, w, b}, conv_grads).saves(x, w).once_differentiable();
  record_tangent(y, {x, w, b}, [&](const Tensor& tx, const Tensor& tw, const Tensor& tb) {
    // Skip the terms whose tangent is absent (record_tangent hands them in as zeros).
    Tensor t;
    auto add = [&t](const Tensor& term) { t = t.defined() ? t + term : term; };
    if (tg::detail::has_tangent(x))
      add(conv2d_explicit(tx, w, Tensor(), stride, padding, dilation, groups));
    if (tg::detail::has_tangent(w))
      add(conv2d_explicit(x, tw, Tensor(), stride, padding, dilation, groups));
    if (tg::detail::has_tangent(b))
      add(tb.view({1, s.out_channels, 1, 1}).expand(y.shape()).contiguous());
    return relu ? t * y.gt(scalar_tensor(0, {.dtype = y.dtype()})) : t;
  });
  return y;
}

// conv2d or conv2d_relu with any ConvPadding: "valid" is padding 0; "same" pads d (k - 1) in
// total, the odd one after: an uneven split is an explicit pad() of the extra row/column, then
// the symmetric part inside the kernel.
static Tensor conv2d_padded(const Tensor& input, const Tensor& weight, const Tensor& bias,
                            Size2 stride, ConvPadding padding, Size2 dilation, int64_t groups,
                            bool relu) {
  using Kind = ConvPadding::Kind;
  if (padding.kind != Kind::Same) {
    Size2 p = padding.kind == Kind::Valid ? Size2(0) : padding.size;
    return conv2d_explicit(input, weight, bias, stride, p, dilation, groups, relu);
  }
  check(stride == Size2(1),
        "{}: padding='same' is not supported for strided convolutions, got stride ({}, {})",
        relu ? "conv2d_relu" : "conv2d", stride.h, stride.w);
  // A weight of the wrong rank is reported by conv2d_explicit.
  Size2 kernel = weight.dim() == 4 ? Size2(weight.size(2), weight.size(3)) : Size2(1);
  auto [before, after] = same_padding(kernel, dilation);
  Tensor x = input;
  if (before != after) x = pad(input, {0, after.w - before.w, 0, after.h - before.h});
  return conv2d_explicit(x, weight, bias, stride, before, dilation, groups, relu);
}

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, Size2 stride,
              ConvPadding padding, Size2 dilation, int64_t groups) {
  return conv2d_padded(input, weight, bias, stride, padding, dilation, groups, false);
}

Tensor conv2d_relu(const Tensor& input, const Tensor& weight, const Tensor& bias, Size2 stride,
                   ConvPadding padding, Size2 dilation, int64_t groups) {
  return conv2d_padded(input, weight, bias, stride, padding, dilation, groups, true);
}

// conv1d is conv2d on a height-1 view: [N, C, L] -> [N, C, 1, L], weight [OC, C/g, 1, K]. The
// checks come first so that errors name conv1d and the shapes the user passed.
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, int64_t stride,
              ConvPadding padding, int64_t dilation, int64_t groups) {
  check(input.dim() == 2 || input.dim() == 3,
        "conv1d: expected a 2-D [C, L] or 3-D [N, C, L] input, got {}", input.shape());
  check(weight.dim() == 3, "conv1d: expected a 3-D weight [out, in / groups, k], got {}",
        weight.shape());
  check(stride >= 1 && dilation >= 1 && groups >= 1,
        "conv1d: stride, dilation and groups must be positive, got {}, {} and {}", stride,
        dilation, groups);
  check(padding.size.h == padding.size.w && padding.size.w >= 0,
        "conv1d: padding must be one non-negative number, got ({}, {})", padding.size.h,
        padding.size.w);
  check(padding.kind != ConvPadding::Kind::Same || stride == 1,
        "conv1d: padding='same' is not supported for strided convolutions, got stride {}", stride);
  const int64_t channels = input.size(-2), out = weight.size(0);
  check(channels % groups == 0 && out % groups == 0 && weight.size(1) * groups == channels,
        "conv1d: input {} and weight {} do not match with groups {} (weight [out, in / groups, k]: "
        "in = {} channels, out divisible by groups)", input.shape(), weight.shape(), groups,
        channels);
  check(!bias.defined() || (bias.dim() == 1 && bias.size(0) == out),
        "conv1d: bias of shape {} does not match the weight's {} output channels",
        bias.defined() ? bias.shape() : Shape{}, out);
  check_dtypes(input, weight, bias, "conv1d");
  const int64_t pad = padding.kind == ConvPadding::Kind::Explicit ? padding.size.w : 0;
  const int64_t span = dilation * (weight.size(2) - 1) + 1, length = input.size(-1) + 2 * pad;
  check(padding.kind == ConvPadding::Kind::Same || span <= length,
        "conv1d: kernel size (dilated) {} is larger than the padded input length {} (input {})",
        span, length, input.shape());
  ConvPadding padding2 = padding.kind == ConvPadding::Kind::Explicit ? ConvPadding(0, pad) : padding;
  return conv2d(input.unsqueeze(-2), weight.unsqueeze(2), bias, {1, stride}, padding2,
                {1, dilation}, groups)
      .squeeze(-2);
}

}  // namespace functional

Tensor detail::conv2d_weight_grad(const Tensor& input, const Tensor& grad_output,
                                  const Tensor& weight, Size2 stride, Size2 padding,
                                  Size2 dilation, int64_t groups) {
  using namespace functional;
  ConvShape s = conv_shape(input, weight, Tensor(), stride, padding, dilation, groups);
  check(grad_output.dim() == 4 && grad_output.size(0) == s.batch &&
            grad_output.size(1) == s.out_channels && grad_output.size(2) <= s.geom.out_h &&
            grad_output.size(3) <= s.geom.out_w,
        "conv2d_weight_grad: gradient {} does not fit the output [{}, {}, {}, {}]",
        grad_output.shape(), s.batch, s.out_channels, s.geom.out_h, s.geom.out_w);
  s.geom.out_h = grad_output.size(2), s.geom.out_w = grad_output.size(3);
  check_dtypes(input, weight, grad_output, "conv2d_weight_grad");
  return dispatch_floating(input.dtype(), "conv2d_weight_grad",
                           [&]<typename T>(std::type_identity<T>) {
    return backward<T>(grad_output.contiguous(), input.contiguous(), weight.contiguous(), s,
                       false, true, false)[1];
  });
}

namespace {

// PyTorch prints padding="same" as padding=same.
std::string show_padding(const ConvPadding& p, std::string size) {
  using Kind = ConvPadding::Kind;
  return p.kind == Kind::Explicit ? size : p.kind == Kind::Same ? "same" : "valid";
}

// The checks Conv1d and Conv2d share: positive sizes, groups dividing both channel counts,
// "same" only with stride 1. A 1-D layer (dims 1) passes its sizes as (1, size).
void check_conv_options(const char* layer, int dims, int64_t in, int64_t out, Size2 kernel,
                        Size2 stride, const ConvPadding& padding, int64_t groups) {
  auto show = [dims](Size2 s) {
    return dims == 1 ? fmt::format("{}", s.w) : fmt::format("({}, {})", s.h, s.w);
  };
  check(in > 0 && out > 0, "{}: channels must be positive, got in {} and out {}", layer, in, out);
  check(kernel.h > 0 && kernel.w > 0, "{}: kernel size must be positive, got {}", layer,
        show(kernel));
  check(groups >= 1, "{}: groups must be at least 1, got {}", layer, groups);
  check(in % groups == 0, "{}: in channels {} are not divisible by groups {}", layer, in, groups);
  check(out % groups == 0, "{}: out channels {} are not divisible by groups {}", layer, out,
        groups);
  check(padding.kind != ConvPadding::Kind::Same || stride == Size2(1),
        "{}: padding='same' is not supported for strided convolutions, got stride {}", layer,
        show(stride));
}

}  // namespace

void detail::init_conv(Tensor& weight, Tensor& bias) {
  init::kaiming_uniform_(weight, std::sqrt(5.0f));
  if (!bias.defined()) return;
  const float bound = 1 / std::sqrt(float(init::calculate_fan_in_and_fan_out(weight).first));
  init::uniform_(bias, -bound, bound);
}

Conv2d::Conv2d(int64_t in, int64_t out, Size2 kernel, Size2 stride, ConvPadding padding,
               Size2 dilation, int64_t groups, bool bias, PaddingMode padding_mode)
    : Conv2d(Conv2dOptions{in, out, kernel, stride, padding, dilation, groups, bias,
                           padding_mode}) {}

Conv2d::Conv2d(const Conv2dOptions& o) : options(o) {
  check_conv_options("Conv2d", 2, o.in, o.out, o.kernel, o.stride, o.padding, o.groups);
  weight = register_parameter("weight", empty({o.out, o.in / o.groups, o.kernel.h, o.kernel.w}));
  if (o.bias) bias = register_parameter("bias", empty({o.out}));
  detail::init_conv(weight, bias);
  pads_ = functional::pad_list(o.padding, o.kernel, o.dilation);
}

// Zero padding happens inside conv2d; the other modes pad explicitly first (PyTorch's way).
Tensor Conv2d::forward(const Tensor& input) {
  const Conv2dOptions& o = options;
  if (o.padding_mode == PaddingMode::Zeros)
    return functional::conv2d(input, weight, bias, o.stride, o.padding, o.dilation, o.groups);
  return functional::conv2d(functional::pad(input, pads_, o.padding_mode), weight, bias, o.stride,
                            0, o.dilation, o.groups);
}

Tensor Conv2d::forward_relu(const Tensor& input) {
  const Conv2dOptions& o = options;
  if (o.padding_mode == PaddingMode::Zeros)
    return functional::conv2d_relu(input, weight, bias, o.stride, o.padding, o.dilation,
                                   o.groups);
  return functional::conv2d_relu(functional::pad(input, pads_, o.padding_mode), weight, bias,
                                 o.stride, 0, o.dilation, o.groups);
}

std::string Conv2d::extra_repr() const {
  const Conv2dOptions& o = options;
  std::string s = fmt::format("{}, {}, kernel_size=({}, {}), stride=({}, {})", o.in, o.out,
                              o.kernel.h, o.kernel.w, o.stride.h, o.stride.w);
  if (o.padding != ConvPadding(0))
    s += ", padding=" +
         show_padding(o.padding, fmt::format("({}, {})", o.padding.size.h, o.padding.size.w));
  if (o.dilation != Size2(1)) s += fmt::format(", dilation=({}, {})", o.dilation.h, o.dilation.w);
  if (o.groups != 1) s += fmt::format(", groups={}", o.groups);
  if (!o.bias) s += ", bias=False";
  if (o.padding_mode != PaddingMode::Zeros)
    s += ", padding_mode=" + functional::to_string(o.padding_mode);
  return s;
}

Conv1d::Conv1d(int64_t in, int64_t out, int64_t kernel, int64_t stride, ConvPadding padding,
               int64_t dilation, int64_t groups, bool bias, PaddingMode padding_mode)
    : Conv1d(Conv1dOptions{in, out, kernel, stride, padding, dilation, groups, bias,
                           padding_mode}) {}

Conv1d::Conv1d(const Conv1dOptions& o) : options(o) {
  check_conv_options("Conv1d", 1, o.in, o.out, Size2(1, o.kernel), Size2(1, o.stride), o.padding,
                     o.groups);
  check(o.padding.size.h == o.padding.size.w,
        "Conv1d: padding must be one number, got ({}, {})", o.padding.size.h, o.padding.size.w);
  weight = register_parameter("weight", empty({o.out, o.in / o.groups, o.kernel}));
  if (o.bias) bias = register_parameter("bias", empty({o.out}));
  detail::init_conv(weight, bias);
  std::vector<int64_t> pads = functional::pad_list(o.padding, {1, o.kernel}, {1, o.dilation});
  pads_ = {pads[0], pads[1]};  // left, right
}

Tensor Conv1d::forward(const Tensor& input) {
  const Conv1dOptions& o = options;
  if (o.padding_mode == PaddingMode::Zeros)
    return functional::conv1d(input, weight, bias, o.stride, o.padding, o.dilation, o.groups);
  return functional::conv1d(functional::pad(input, pads_, o.padding_mode), weight, bias, o.stride,
                            0, o.dilation, o.groups);
}

std::string Conv1d::extra_repr() const {
  const Conv1dOptions& o = options;
  std::string s =
      fmt::format("{}, {}, kernel_size=({},), stride=({},)", o.in, o.out, o.kernel, o.stride);
  if (o.padding != ConvPadding(0))
    s += ", padding=" + show_padding(o.padding, fmt::format("({},)", o.padding.size.w));
  if (o.dilation != 1) s += fmt::format(", dilation=({},)", o.dilation);
  if (o.groups != 1) s += fmt::format(", groups={}", o.groups);
  if (!o.bias) s += ", bias=False";
  if (o.padding_mode != PaddingMode::Zeros)
    s += ", padding_mode=" + functional::to_string(o.padding_mode);
  return s;
}

}  // namespace tg::nn
