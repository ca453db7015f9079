// Pooling ops. Every pooling here reads, for output pixel (i, j) of each [H, W]
// plane, an input window [h0_i, h1_i) x [w0_j, w1_j) clipped to the image: one
// Windows table describes avg_pool2d and adaptive_avg_pool2d (shared loops) and
// max_pool2d's output size. Padding never needs storage: for max it is -inf (never
// the max), for avg it only enlarges the divisor. Planes (n, c) run in parallel.
#include <tapegrad/nn/pool.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <memory>
#include <vector>

#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/cpu.h>
#include <tapegrad/core/kernels.h>

namespace tg::nn {

namespace functional {

namespace {

// The windows of a pooling op over one plane, and the divisor for averaging.
struct Windows {
  int64_t height = 0, width = 0;  // of the input plane
  std::vector<int64_t> h0, h1, w0, w1;
  float divisor = 0;  // fixed divisor (count_include_pad); 0 means the clipped window's area
  int64_t out_h() const { return int64_t(h0.size()); }
  int64_t out_w() const { return int64_t(w0.size()); }
  float area(int64_t i, int64_t j) const {
    return divisor > 0 ? divisor : float((h1[i] - h0[i]) * (w1[j] - w0[j]));
  }
};

// Windows of a kernel sliding with a stride over a padded plane.
Windows kernel_windows(const Tensor& x, Size2 k, Size2 s, Size2 p, const char* op) {
  if (s.h == 0 && s.w == 0) s = k;  // PyTorch's stride=None
  check(x.dim() == 4, "{}: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got {}", op,
        x.shape());
  check(k.h >= 1 && k.w >= 1, "{}: kernel_size must be positive, got ({}, {})", op, k.h, k.w);
  check(s.h >= 1 && s.w >= 1, "{}: stride must be positive, got ({}, {})", op, s.h, s.w);
  check(p.h >= 0 && p.w >= 0 && 2 * p.h <= k.h && 2 * p.w <= k.w,
        "{}: padding ({}, {}) should be between 0 and half the kernel size ({}, {})", op, p.h, p.w,
        k.h, k.w);
  Windows win;
  win.height = x.size(2), win.width = x.size(3);
  check(win.height + 2 * p.h >= k.h && win.width + 2 * p.w >= k.w,
        "{}: kernel ({}, {}) is larger than the padded input {}x{} (input {})", op, k.h, k.w,
        win.height + 2 * p.h, win.width + 2 * p.w, x.shape());
  auto fill = [](int64_t size, int64_t k, int64_t s, int64_t p, auto& lo, auto& hi) {
    for (int64_t i = 0; i < (size + 2 * p - k) / s + 1; ++i) {
      lo.push_back(std::max<int64_t>(i * s - p, 0));
      hi.push_back(std::min(i * s - p + k, size));
    }
  };
  fill(win.height, k.h, s.h, p.h, win.h0, win.h1);
  fill(win.width, k.w, s.w, p.w, win.w0, win.w1);
  win.divisor = float(k.h * k.w);
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
  }
  for (int64_t j = 0; j < out.w; ++j) {
    win.w0.push_back(j * win.width / out.w);
    win.w1.push_back(((j + 1) * win.width + out.w - 1) / out.w);
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

// One [H, W] plane of max_pool2d, any padding (windows clipped to the image).
void max_plane(const float* xp, const Windows& win, Size2 k, Size2 s, Size2 p, float* yp,
               int32_t* ip) {
  const int64_t H = win.height, W = win.width, OH = win.out_h(), OW = win.out_w();
  for (int64_t i = 0; i < OH; ++i) {
    const int64_t h0 = std::max<int64_t>(i * s.h - p.h, 0), h1 = std::min(i * s.h - p.h + k.h, H);
    for (int64_t j = 0; j < OW; ++j) {
      const int64_t w0 = std::max<int64_t>(j * s.w - p.w, 0), w1 = std::min(j * s.w - p.w + k.w, W);
      // Windows always hold a real pixel (padding <= kernel / 2): start from the first.
      int64_t arg = h0 * W + w0;
      float best = xp[arg];
      for (int64_t h = h0; h < h1; ++h)
        for (int64_t w = w0; w < w1; ++w) keep_max(xp[h * W + w], h * W + w, best, arg);
      yp[i * OW + j] = best, ip[i * OW + j] = int32_t(arg);
    }
  }
}

// The same without padding, where every window is whole and starts at origin[o] for
// output o of the plane. Per kernel offset, one select over the whole plane: a long
// loop that vectorises (with gathers), 4-7x faster than going window by window, whose
// short data-dependent loops stay scalar.
void max_plane_unpadded(const float* __restrict xp, const std::vector<int32_t>& origin,
                        int64_t W, Size2 k, float* __restrict yp, int32_t* __restrict ip) {
  const int64_t n = int64_t(origin.size());
  const int32_t* __restrict off = origin.data();
  for (int64_t kh = 0; kh < k.h; ++kh)
    for (int64_t kw = 0; kw < k.w; ++kw) {
      const int32_t shift = int32_t(kh * W + kw);
      if (shift == 0) {
#pragma omp simd
        for (int64_t o = 0; o < n; ++o) yp[o] = xp[off[o]], ip[o] = off[o];
        continue;
      }
#pragma omp simd
      for (int64_t o = 0; o < n; ++o) {
        const int32_t at = off[o] + shift;
        const float v = xp[at], best = yp[o];
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
  Tensor g = gy.contiguous(), gx = zeros(in_shape);
  const int64_t in_plane = in_shape[2] * in_shape[3], out_plane = g.size(2) * g.size(3);
  const float* gyd = g.data();
  float* gxd = gx.data();
  const int32_t* id = index->data();
  for_each_plane(in_shape[0] * in_shape[1], in_plane, [&](int64_t plane) {
    for (int64_t i = plane * out_plane; i < (plane + 1) * out_plane; ++i)
      gxd[plane * in_plane + id[i]] += gyd[i];
  });
  return gx;
}

// y[plane, i] = t[plane, index[plane, i]]: max-pooling's tangent, linear in t.
// dL/dt: dL/dy scattered back to the indices.
Tensor take(const Tensor& t, const Shape& out_shape, const Indices& index) {
  Tensor x = t.contiguous(), y = empty(out_shape);
  const int64_t in_plane = x.size(2) * x.size(3), out_plane = out_shape[2] * out_shape[3];
  const float* xd = x.data();
  float* yd = y.data();
  const int32_t* id = index->data();
  for_each_plane(x.size(0) * x.size(1), in_plane, [&](int64_t plane) {
    for (int64_t i = plane * out_plane; i < (plane + 1) * out_plane; ++i)
      yd[i] = xd[plane * in_plane + id[i]];
  });
  record("max_pool2d_take", y, {x}, [in_shape = x.shape(), index](const Tensor& gy) {
    return grads(scatter(gy, in_shape, index));
  }).once_differentiable();
  return y;
}

// y = mean of x over each window (divided by win.area).   dL/dx[window] += dL/dy / area
Tensor average(const Tensor& input, const std::shared_ptr<const Windows>& win, const char* name) {
  Tensor x = input.contiguous(), y = empty(pooled_shape(x, *win));
  const int64_t W = win->width, in_plane = win->height * W, OH = win->out_h(), OW = win->out_w();
  const float* xd = x.data();
  float* yd = y.data();
  for_each_plane(x.size(0) * x.size(1), in_plane, [&](int64_t plane) {
    const float* xp = xd + plane * in_plane;
    float* yp = yd + plane * OH * OW;
    for (int64_t i = 0; i < OH; ++i)
      for (int64_t j = 0; j < OW; ++j) {
        float sum = 0;
        for (int64_t h = win->h0[i]; h < win->h1[i]; ++h)
          for (int64_t w = win->w0[j]; w < win->w1[j]; ++w) sum += xp[h * W + w];
        yp[i * OW + j] = sum / win->area(i, j);
      }
  });
  record(name, y, {x}, [in_shape = x.shape(), win](const Tensor& gy) {
    Tensor g = gy.contiguous(), gx = zeros(in_shape);
    const int64_t W = win->width, in_plane = win->height * W, OH = win->out_h(), OW = win->out_w();
    const float* gyd = g.data();
    float* gxd = gx.data();
    for_each_plane(in_shape[0] * in_shape[1], in_plane, [&](int64_t plane) {
      float* gp = gxd + plane * in_plane;
      const float* gyp = gyd + plane * OH * OW;
      for (int64_t i = 0; i < OH; ++i)
        for (int64_t j = 0; j < OW; ++j) {
          float share = gyp[i * OW + j] / win->area(i, j);
          for (int64_t h = win->h0[i]; h < win->h1[i]; ++h)
            for (int64_t w = win->w0[j]; w < win->w1[j]; ++w) gp[h * W + w] += share;
        }
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
Tensor max_pool2d(const Tensor& input, Size2 kernel_size, Size2 stride, Size2 padding) {
  if (input.dim() == 3) return max_pool2d(input.unsqueeze(0), kernel_size, stride, padding).squeeze(0);
  if (stride == Size2(0)) stride = kernel_size;
  Windows win = kernel_windows(input, kernel_size, stride, padding, "max_pool2d");
  Tensor x = input.contiguous(), y = empty(pooled_shape(x, win));
  const int64_t W = win.width, in_plane = win.height * W, OH = win.out_h(), OW = win.out_w();
  auto index = std::make_shared<std::vector<int32_t>>(y.numel());
  const float* xd = x.data();
  float* yd = y.data();
  int32_t* id = index->data();
#if defined(__x86_64__)
  const bool two_by_two = cpu::capability() == cpu::Capability::avx512 &&
                          kernel_size == Size2(2) && stride == Size2(2) && padding == Size2(0);
#else
  const bool two_by_two = false;
#endif
  std::vector<int32_t> origin;  // of each output's window, when no window is clipped
  if (padding == Size2(0) && !two_by_two)
    for (int64_t i = 0; i < OH; ++i)
      for (int64_t j = 0; j < OW; ++j) origin.push_back(int32_t(i * stride.h * W + j * stride.w));
  for_each_plane(x.size(0) * x.size(1), in_plane, [&](int64_t plane) {
    const float* xp = xd + plane * in_plane;
    float* yp = yd + plane * OH * OW;
    int32_t* ip = id + plane * OH * OW;
#if defined(__x86_64__)
    if (two_by_two) return max_plane_2x2(xp, W, OH, OW, yp, ip);
#endif
    cpu::dispatch([&](auto) {  // the unpadded loop vectorises with AVX2's gathers
      if (padding == Size2(0))
        max_plane_unpadded(xp, origin, W, kernel_size, yp, ip);
      else
        max_plane(xp, win, kernel_size, stride, padding, yp, ip);
    });
  });
  Indices argmax = std::move(index);
  record("max_pool2d", y, {x}, [in_shape = x.shape(), argmax](const Tensor& gy) {
    return grads(scatter(gy, in_shape, argmax));
  }).once_differentiable();
  record_tangent(y, {x}, [&](const Tensor& t) { return take(t, y.shape(), argmax); });
  return y;
}

Tensor avg_pool2d(const Tensor& input, Size2 kernel_size, Size2 stride, Size2 padding) {
  if (input.dim() == 3) return avg_pool2d(input.unsqueeze(0), kernel_size, stride, padding).squeeze(0);
  auto win = std::make_shared<const Windows>(
      kernel_windows(input, kernel_size, stride, padding, "avg_pool2d"));
  return average(input, win, "avg_pool2d");
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

MaxPool2d::MaxPool2d(Size2 kernel, Size2 stride_, Size2 padding_)
    : kernel_size(kernel), stride(stride_ == Size2(0) ? kernel : stride_), padding(padding_) {}

Tensor MaxPool2d::forward(const Tensor& input) {
  return functional::max_pool2d(input, kernel_size, stride, padding);
}

std::string MaxPool2d::extra_repr() const {
  return fmt::format("kernel_size={}, stride={}, padding={}, dilation=1, ceil_mode=False",
                     show(kernel_size), show(stride), show(padding));
}

AvgPool2d::AvgPool2d(Size2 kernel, Size2 stride_, Size2 padding_)
    : kernel_size(kernel), stride(stride_ == Size2(0) ? kernel : stride_), padding(padding_) {}

Tensor AvgPool2d::forward(const Tensor& input) {
  return functional::avg_pool2d(input, kernel_size, stride, padding);
}

std::string AvgPool2d::extra_repr() const {
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
