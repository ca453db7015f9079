// Pooling ops. Every pooling here reads, for output pixel (i, j) of each [H, W]
// plane, an input window [h0_i, h1_i) x [w0_j, w1_j) clipped to the image: one
// Windows table describes avg_pool2d and adaptive_avg_pool2d (shared loops) and
// max_pool2d's output size. Padding never needs storage: for max it is -inf (never
// the max), for avg it only enlarges the divisor. Planes (n, c) run in parallel.
// The options follow PyTorch: ceil_mode keeps a last partial window when it starts inside
// the input or the left padding, dilation spaces max-pooling's taps, count_include_pad and
// divisor_override choose avg-pooling's divisor.
#include <tapegrad/nn/pool.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <memory>
#include <optional>
#include <vector>

#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/cpu.h>
#include <tapegrad/core/kernels.h>

namespace tg::nn {

namespace functional {

namespace {

// The windows of a pooling op over one plane, and the divisor of each for averaging.
struct Windows {
  int64_t height = 0, width = 0;  // of the input plane
  std::vector<int64_t> h0, h1, w0, w1;  // clipped to the image
  std::vector<int64_t> dh, dw;          // the sides whose product divides window (i, j)
  std::optional<int64_t> divisor_override{};
  int64_t out_h() const { return int64_t(h0.size()); }
  int64_t out_w() const { return int64_t(w0.size()); }
  template <typename T>
  T area(int64_t i, int64_t j) const {
    return divisor_override ? T(*divisor_override) : T(dh[i] * dw[j]);
  }
};

// The geometry of a kernel pooling op: PyTorch's names, stride already resolved.
struct Geometry {
  Size2 kernel, stride, padding, dilation = 1;
  bool ceil_mode = false;
};

// PyTorch's pooling_output_shape: windows spanning d (k - 1) + 1 every s over size + 2p;
// with ceil_mode a last partial window counts if it starts inside the input or the left
// padding (never in the right padding alone).
int64_t pooled_size(int64_t size, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  int64_t out = (size + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0)) / s + 1;
  if (ceil_mode && (out - 1) * s >= size + p) --out;
  return out;
}

// The first tap of a window starting at `start` (maybe in the padding) that is in the image.
int64_t first_tap(int64_t start, int64_t d) {
  return start >= 0 ? start : start + (-start + d - 1) / d * d;
}

// Windows of a kernel sliding with a stride over a padded plane; `count_include_pad` makes
// the divisor count the padding a window covers (the right padding only up to its edge).
Windows kernel_windows(const Tensor& x, const Geometry& g, bool count_include_pad,
                       const char* op) {
  const auto [k, s, p, d, ceil_mode] = g;
  check(x.dim() == 4, "{}: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got {}", op,
        x.shape());
  check(k.h >= 1 && k.w >= 1, "{}: kernel_size must be positive, got ({}, {})", op, k.h, k.w);
  check(s.h >= 1 && s.w >= 1, "{}: stride must be positive, got ({}, {})", op, s.h, s.w);
  check(d.h >= 1 && d.w >= 1, "{}: dilation must be positive, got ({}, {})", op, d.h, d.w);
  check(p.h >= 0 && p.w >= 0 && 2 * p.h <= k.h && 2 * p.w <= k.w,
        "{}: padding ({}, {}) should be between 0 and half the kernel size ({}, {})", op, p.h, p.w,
        k.h, k.w);
  Windows win;
  win.height = x.size(2), win.width = x.size(3);
  const int64_t span_h = d.h * (k.h - 1) + 1, span_w = d.w * (k.w - 1) + 1;
  if (d == Size2(1))
    check(win.height + 2 * p.h >= k.h && win.width + 2 * p.w >= k.w,
          "{}: kernel ({}, {}) is larger than the padded input {}x{} (input {})", op, k.h, k.w,
          win.height + 2 * p.h, win.width + 2 * p.w, x.shape());
  else
    check(win.height + 2 * p.h >= span_h && win.width + 2 * p.w >= span_w,
          "{}: kernel ({}, {}) with dilation ({}, {}) spans {}x{}, more than the padded input "
          "{}x{} (input {})", op, k.h, k.w, d.h, d.w, span_h, span_w, win.height + 2 * p.h,
          win.width + 2 * p.w, x.shape());
  auto fill = [&](int64_t size, int64_t k, int64_t s, int64_t p, int64_t d, auto& lo, auto& hi,
                  auto& side) {
    for (int64_t i = 0; i < pooled_size(size, k, s, p, d, ceil_mode); ++i) {
      const int64_t start = i * s - p, end = start + d * (k - 1) + 1;
      // Dilated taps can step over the whole image (PyTorch then gives -inf): refused.
      check(first_tap(start, d) < std::min(end, size),
            "{}: window {} covers no input pixel (size {}, kernel {}, stride {}, padding {}, "
            "dilation {})", op, i, size, k, s, p, d);
      lo.push_back(std::max<int64_t>(start, 0));
      hi.push_back(std::min(end, size));
      side.push_back(count_include_pad ? std::min(end, size + p) - start : hi.back() - lo.back());
    }
  };
  fill(win.height, k.h, s.h, p.h, d.h, win.h0, win.h1, win.dh);
  fill(win.width, k.w, s.w, p.w, d.w, win.w0, win.w1, win.dw);
  return win;
}

// PyTorch's adaptive windows: output i covers [floor(i H / OH), ceil((i + 1) H / OH)).
Windows adaptive_windows(const Tensor& x, Size2 out) {
  check(x.dim() == 4, "adaptive_avg_pool2d: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, "
        "got {}", x.shape());
  check(out.h >= 1 && out.w >= 1, "adaptive_avg_pool2d: output size must be at least (1, 1), "
        "got ({}, {})", out.h, out.w);
  Windows win;
  win.height = x.size(2), win.width = x.size(3);
  check(win.height >= 1 && win.width >= 1, "adaptive_avg_pool2d: input {} has an empty plane",
        x.shape());
  for (int64_t i = 0; i < out.h; ++i) {
    win.h0.push_back(i * win.height / out.h);
    win.h1.push_back(((i + 1) * win.height + out.h - 1) / out.h);
    win.dh.push_back(win.h1.back() - win.h0.back());
  }
  for (int64_t j = 0; j < out.w; ++j) {
    win.w0.push_back(j * win.width / out.w);
    win.w1.push_back(((j + 1) * win.width + out.w - 1) / out.w);
    win.dw.push_back(win.w1.back() - win.w0.back());
  }
  return win;
}

// Runs body(plane) for every [H, W] plane of x, in parallel when the work is large.
template <typename F>
void for_each_plane(int64_t planes, int64_t plane_size, F&& body) {
  int64_t grain = std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(plane_size, 1));
  kernels::parallel_for(planes, grain, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) body(plane);
  });
}

Shape pooled_shape(const Tensor& x, const Windows& win) {
  return {x.size(0), x.size(1), win.out_h(), win.out_w()};
}

using Indices = std::shared_ptr<const std::vector<int32_t>>;

// if (v > best || v is NaN) { best = v; arg = index; }, without a branch: which element of
// a window wins is random, so a branch mispredicts often (max_pool2d ran 3x slower).
// NaN wins as in PyTorch.
inline void keep_max(float v, int64_t index, float& best, int64_t& arg) {
  const int32_t take = -int32_t(v > best || v != v);  // all ones or all zeros
  best = std::bit_cast<float>((std::bit_cast<int32_t>(best) & ~take) |
                              (std::bit_cast<int32_t>(v) & take));
  arg = (arg & ~int64_t(take)) | (index & int64_t(take));
}

// float64 (gradient checks, not speed): the plain branch.
inline void keep_max(double v, int64_t index, double& best, int64_t& arg) {
  if (v > best || v != v) best = v, arg = index;
}

// One [H, W] plane of max_pool2d, any geometry (windows clipped to the image, taps d apart).
template <typename T>
void max_plane(const T* xp, const Windows& win, const Geometry& g, T* yp, int32_t* ip) {
  const auto [k, s, p, d, ceil_mode] = g;
  const int64_t W = win.width, OH = win.out_h(), OW = win.out_w();
  for (int64_t i = 0; i < OH; ++i) {
    const int64_t h0 = first_tap(i * s.h - p.h, d.h), h1 = win.h1[i];
    for (int64_t j = 0; j < OW; ++j) {
      const int64_t w0 = first_tap(j * s.w - p.w, d.w), w1 = win.w1[j];
      // Every window holds a real pixel (kernel_windows checked): start from the first.
      int64_t arg = h0 * W + w0;
      T best = xp[arg];
      for (int64_t h = h0; h < h1; h += d.h)
        for (int64_t w = w0; w < w1; w += d.w) keep_max(xp[h * W + w], h * W + w, best, arg);
      yp[i * OW + j] = best, ip[i * OW + j] = int32_t(arg);
    }
  }
}

// The same where every window is whole (no padding, no partial ceil_mode window) and
// starts at origin[o] for output o of the plane; taps d apart. Per kernel offset, one select
// over the whole plane: a long loop that vectorises (with gathers), 4-7x faster than going
// window by window, whose short data-dependent loops stay scalar.
template <typename T>
void max_plane_unpadded(const T* __restrict xp, const std::vector<int32_t>& origin, int64_t W,
                        Size2 k, Size2 d, T* __restrict yp, int32_t* __restrict ip) {
  const int64_t n = int64_t(origin.size());
  const int32_t* __restrict off = origin.data();
  for (int64_t kh = 0; kh < k.h; ++kh)
    for (int64_t kw = 0; kw < k.w; ++kw) {
      const int32_t shift = int32_t(kh * d.h * W + kw * d.w);
      if (shift == 0) {
#pragma omp simd
        for (int64_t o = 0; o < n; ++o) yp[o] = xp[off[o]], ip[o] = off[o];
        continue;
      }
#pragma omp simd
      for (int64_t o = 0; o < n; ++o) {
        const int32_t at = off[o] + shift;
        const T v = xp[at], best = yp[o];
        const bool take = (v > best) | (v != v);  // NaN wins, as in PyTorch
        yp[o] = take ? v : best;
        ip[o] = take ? at : ip[o];
      }
    }
}

#if defined(__x86_64__)
// The same for 2x2 windows with stride 2 (LeNet's pools, and most CNNs'), 16 outputs at a
// time: 32 floats of each of the two input rows, split into even and odd columns by two
// permutes, give the four candidates of 16 windows. The gathers above are slow on AMD cores:
// this cut max-pooling's share of a LeNet training step from 9% to 3% (perf), and it is 4x
// faster than what g++ makes of a plain stride-2 loop. Same order of comparison, so the same
// argmax on ties and NaNs.
[[gnu::target(TG_TARGET_AVX512)]] void max_plane_2x2(const float* __restrict xp, int64_t W,
                                                    int64_t OH, int64_t OW, float* __restrict yp,
                                                    int32_t* __restrict ip) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (int64_t i = 0; i < OH; ++i) {
    const float* r0 = xp + 2 * i * W;
    const float* r1 = r0 + W;
    for (int64_t j = 0; j < OW; j += 16) {
      const int64_t n = std::min<int64_t>(16, OW - j);  // outputs in this step
      // Masks for the 2n input columns: the first 16 and the next 16.
      const __mmask16 first = n >= 8 ? 0xFFFF : __mmask16((1u << (2 * n)) - 1);
      const __mmask16 second = n > 8 ? __mmask16((1u << (2 * (n - 8))) - 1) : 0;
      // The lambdas are functions of their own: they need the target too.
      auto load = [&](const float* r, __m512& evens, __m512& odds)
                      __attribute__((target(TG_TARGET_AVX512))) {
        __m512 a = _mm512_maskz_loadu_ps(first, r + 2 * j);
        __m512 b = _mm512_maskz_loadu_ps(second, r + 2 * j + 16);
        evens = _mm512_permutex2var_ps(a, even, b);
        odds = _mm512_permutex2var_ps(a, odd, b);
      };
      __m512 x00, x01, x10, x11;
      load(r0, x00, x01);
      load(r1, x10, x11);
      const __m512i origin = _mm512_add_epi32(_mm512_set1_epi32(int32_t(2 * (i * W + j))), even);
      __m512 best = x00;
      __m512i arg = origin;
      auto consider = [&](__m512 v, int32_t shift) __attribute__((target(TG_TARGET_AVX512))) {
        // take v if larger, or NaN
        __mmask16 take = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) |
                         _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        best = _mm512_mask_mov_ps(best, take, v);
        arg = _mm512_mask_mov_epi32(arg, take, _mm512_add_epi32(origin, _mm512_set1_epi32(shift)));
      };
      consider(x01, 1);
      consider(x10, int32_t(W));
      consider(x11, int32_t(W) + 1);
      const __mmask16 out = __mmask16((1u << n) - 1);
      _mm512_mask_storeu_ps(yp + i * OW + j, out, best);
      _mm512_mask_storeu_epi32(ip + i * OW + j, out, arg);
    }
  }
}
#endif

// dL/dx of a gather: dx[plane, index[plane, i]] += gy[plane, i] (the max-pool backward).
Tensor scatter(const Tensor& gy, const Shape& in_shape, const Indices& index) {
  Tensor g = gy.contiguous(), gx = kernels::zeros_like(g, in_shape);
  const int64_t in_plane = in_shape[2] * in_shape[3], out_plane = g.size(2) * g.size(3);
  const int32_t* id = index->data();
  dispatch_floating(g.dtype(), "max_pool2d", [&]<typename T>(std::type_identity<T>) {
    const T* gyd = g.data_ptr<T>();
    T* gxd = gx.data_ptr<T>();
    for_each_plane(in_shape[0] * in_shape[1], in_plane, [&](int64_t plane) {
      for (int64_t i = plane * out_plane; i < (plane + 1) * out_plane; ++i)
        gxd[plane * in_plane + id[i]] += gyd[i];
    });
  });
  return gx;
}

// y[plane, i] = t[plane, index[plane, i]]: max-pooling's tangent, linear in t.
// dL/dt: dL/dy scattered back to the indices.
Tensor take(const Tensor& t, const Shape& out_shape, const Indices& index) {
  Tensor x = t.contiguous(), y = kernels::empty_like(x, out_shape);
  const int64_t in_plane = x.size(2) * x.size(3), out_plane = out_shape[2] * out_shape[3];
  const int32_t* id = index->data();
  dispatch_floating(x.dtype(), "max_pool2d", [&]<typename T>(std::type_identity<T>) {
    const T* xd = x.data_ptr<T>();
    T* yd = y.data_ptr<T>();
    for_each_plane(x.size(0) * x.size(1), in_plane, [&](int64_t plane) {
      for (int64_t i = plane * out_plane; i < (plane + 1) * out_plane; ++i)
        yd[i] = xd[plane * in_plane + id[i]];
    });
  });
  record("max_pool2d_take", y, {x}, [in_shape = x.shape(), index](const Tensor& gy) {
    return grads(scatter(gy, in_shape, index));
  }).once_differentiable();
  return y;
}

// y = mean of x over each window (divided by win.area).   dL/dx[window] += dL/dy / area
Tensor average(const Tensor& input, const std::shared_ptr<const Windows>& win, const char* name) {
  Tensor x = input.contiguous(), y = kernels::empty_like(x, pooled_shape(x, *win));
  const int64_t W = win->width, in_plane = win->height * W, OH = win->out_h(), OW = win->out_w();
  dispatch_floating(x.dtype(), name, [&]<typename T>(std::type_identity<T>) {
    const T* xd = x.data_ptr<T>();
    T* yd = y.data_ptr<T>();
    for_each_plane(x.size(0) * x.size(1), in_plane, [&](int64_t plane) {
      const T* xp = xd + plane * in_plane;
      T* yp = yd + plane * OH * OW;
      for (int64_t i = 0; i < OH; ++i)
        for (int64_t j = 0; j < OW; ++j) {
          T sum = 0;
          for (int64_t h = win->h0[i]; h < win->h1[i]; ++h)
            for (int64_t w = win->w0[j]; w < win->w1[j]; ++w) sum += xp[h * W + w];
          yp[i * OW + j] = sum / win->area<T>(i, j);
        }
    });
  });
  record(name, y, {x}, [in_shape = x.shape(), win, name](const Tensor& gy) {
    Tensor g = gy.contiguous(), gx = kernels::zeros_like(g, in_shape);
    const int64_t W = win->width, in_plane = win->height * W, OH = win->out_h(), OW = win->out_w();
    dispatch_floating(g.dtype(), name, [&]<typename T>(std::type_identity<T>) {
      const T* gyd = g.data_ptr<T>();
      T* gxd = gx.data_ptr<T>();
      for_each_plane(in_shape[0] * in_shape[1], in_plane, [&](int64_t plane) {
        T* gp = gxd + plane * in_plane;
        const T* gyp = gyd + plane * OH * OW;
        for (int64_t i = 0; i < OH; ++i)
          for (int64_t j = 0; j < OW; ++j) {
            T share = gyp[i * OW + j] / win->area<T>(i, j);
            for (int64_t h = win->h0[i]; h < win->h1[i]; ++h)
              for (int64_t w = win->w0[j]; w < win->w1[j]; ++w) gp[h * W + w] += share;
          }
      });
    });
    return grads(gx);
  }).once_differentiable();
  // Linear in x, so the tangent is the same pooling of the tangent.
  record_tangent(y, {x}, [&](const Tensor& t) { return average(t, win, name); });
  return y;
}

}  // namespace

// y = max of x over each window (padding is -inf; NaN propagates, as in PyTorch).
// dL/dx[argmax] += dL/dy.   Tangent: tx at the argmax.
Tensor max_pool2d(const Tensor& input, Size2 kernel_size, Size2 stride, Size2 padding,
                  Size2 dilation, bool ceil_mode) {
  if (input.dim() == 3)
    return max_pool2d(input.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode)
        .squeeze(0);
  const Geometry g{kernel_size, stride == Size2(0) ? kernel_size : stride, padding, dilation,
                   ceil_mode};
  Windows win = kernel_windows(input, g, true, "max_pool2d");
  Tensor x = input.contiguous(), y = kernels::empty_like(x, pooled_shape(x, win));
  const int64_t H = win.height, W = win.width, in_plane = H * W, OH = win.out_h(),
                OW = win.out_w();
  auto index = std::make_shared<std::vector<int32_t>>(y.numel());
  int32_t* id = index->data();
  // No padding and no partial ceil_mode window: every window is whole (the fast loops).
  const bool whole = padding == Size2(0) &&
                     (OH - 1) * g.stride.h + dilation.h * (kernel_size.h - 1) < H &&
                     (OW - 1) * g.stride.w + dilation.w * (kernel_size.w - 1) < W;
#if defined(__x86_64__)
  const bool two_by_two = x.dtype() == kFloat32 &&
                          cpu::capability() == cpu::Capability::avx512 && whole &&
                          kernel_size == Size2(2) && g.stride == Size2(2) && dilation == Size2(1);
#else
  const bool two_by_two = false;
#endif
  std::vector<int32_t> origin;  // of each output's window, when no window is clipped
  if (whole && !two_by_two)
    for (int64_t i = 0; i < OH; ++i)
      for (int64_t j = 0; j < OW; ++j)
        origin.push_back(int32_t(i * g.stride.h * W + j * g.stride.w));
  dispatch_floating(x.dtype(), "max_pool2d", [&]<typename T>(std::type_identity<T>) {
    const T* xd = x.data_ptr<T>();
    T* yd = y.data_ptr<T>();
    for_each_plane(x.size(0) * x.size(1), in_plane, [&](int64_t plane) {
      const T* xp = xd + plane * in_plane;
      T* yp = yd + plane * OH * OW;
      int32_t* ip = id + plane * OH * OW;
#if defined(__x86_64__)
      if constexpr (std::is_same_v<T, float>) {  // AVX-512's float32 kernel
        if (two_by_two) return max_plane_2x2(xp, W, OH, OW, yp, ip);
      }
#endif
      cpu::dispatch([&](auto) {  // the unpadded loop vectorises with AVX2's gathers
        if (whole)
          max_plane_unpadded(xp, origin, W, kernel_size, dilation, yp, ip);
        else
          max_plane(xp, win, g, yp, ip);
      });
    });
  });
  Indices argmax = std::move(index);
  record("max_pool2d", y, {x}, [in_shape = x.shape(), argmax](const Tensor& gy) {
    return grads(scatter(gy, in_shape, argmax));
  }).once_differentiable();
  record_tangent(y, {x}, [&](const Tensor& t) { return take(t, y.shape(), argmax); });
  return y;
}

Tensor max_pool2d(const Tensor& input, Size2 kernel_size, Size2 stride, Size2 padding) {
  return max_pool2d(input, kernel_size, stride, padding, 1, false);
}

Tensor avg_pool2d(const Tensor& input, Size2 kernel_size, Size2 stride, Size2 padding,
                  bool ceil_mode, bool count_include_pad, std::optional<int64_t> divisor_override) {
  if (input.dim() == 3)
    return avg_pool2d(input.unsqueeze(0), kernel_size, stride, padding, ceil_mode,
                      count_include_pad, divisor_override)
        .squeeze(0);
  check(!divisor_override || *divisor_override != 0, "avg_pool2d: divisor_override must not be 0");
  const Geometry g{kernel_size, stride == Size2(0) ? kernel_size : stride, padding, 1, ceil_mode};
  auto win = std::make_shared<Windows>(kernel_windows(input, g, count_include_pad, "avg_pool2d"));
  win->divisor_override = divisor_override;
  return average(input, win, "avg_pool2d");
}

Tensor avg_pool2d(const Tensor& input, Size2 kernel_size, Size2 stride, Size2 padding) {
  return avg_pool2d(input, kernel_size, stride, padding, false, true, std::nullopt);
}

Tensor adaptive_avg_pool2d(const Tensor& input, Size2 output_size) {
  if (input.dim() == 3) return adaptive_avg_pool2d(input.unsqueeze(0), output_size).squeeze(0);
  auto win = std::make_shared<const Windows>(adaptive_windows(input, output_size));
  return average(input, win, "adaptive_avg_pool2d");
}

}  // namespace functional

namespace {

// PyTorch prints a square size as one number: kernel_size=2, else kernel_size=(2, 3).
std::string show(Size2 s) {
  return s.h == s.w ? fmt::format("{}", s.h) : fmt::format("({}, {})", s.h, s.w);
}

}  // namespace

MaxPool2d::MaxPool2d(Size2 kernel, Size2 stride_, Size2 padding_, Size2 dilation_,
                     bool ceil_mode_)
    : kernel_size(kernel),
      stride(stride_ == Size2(0) ? kernel : stride_),
      padding(padding_),
      dilation(dilation_),
      ceil_mode(ceil_mode_) {}

Tensor MaxPool2d::forward(const Tensor& input) {
  return functional::max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode);
}

std::string MaxPool2d::extra_repr() const {
  return fmt::format("kernel_size={}, stride={}, padding={}, dilation={}, ceil_mode={}",
                     show(kernel_size), show(stride), show(padding), show(dilation),
                     ceil_mode ? "True" : "False");
}

AvgPool2d::AvgPool2d(Size2 kernel, Size2 stride_, Size2 padding_, bool ceil_mode_,
                     bool count_include_pad_, std::optional<int64_t> divisor_override_)
    : kernel_size(kernel),
      stride(stride_ == Size2(0) ? kernel : stride_),
      padding(padding_),
      ceil_mode(ceil_mode_),
      count_include_pad(count_include_pad_),
      divisor_override(divisor_override_) {
  check(!divisor_override || *divisor_override != 0, "AvgPool2d: divisor_override must not be 0");
}

Tensor AvgPool2d::forward(const Tensor& input) {
  return functional::avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                divisor_override);
}

std::string AvgPool2d::extra_repr() const {  // PyTorch prints only these three
  return fmt::format("kernel_size={}, stride={}, padding={}", show(kernel_size), show(stride),
                     show(padding));
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Size2 size) : output_size(size) {
  check(size.h >= 1 && size.w >= 1,
        "AdaptiveAvgPool2d: output size must be at least (1, 1), got ({}, {})", size.h, size.w);
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& input) {
  return functional::adaptive_avg_pool2d(input, output_size);
}

std::string AdaptiveAvgPool2d::extra_repr() const {
  return fmt::format("output_size={}", show(output_size));
}

}  // namespace tg::nn
