// im2col / col2im. Row (c, kh, kw) of col holds, per output row oh, a run of OW
// values read from one input row. The output rows [oh_lo, oh_hi) and columns
// [lo, hi) that read real input (not padding) are computed once per row of col,
// so no loop tests each element, and the common case (stride 1, no padding on
// that row) is a tight loop of whole-run copies.
#include <tapegrad/core/im2col.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstring>
#include <type_traits>

#include <tapegrad/core/cpu.h>

namespace tg::kernels {

ConvGeometry ConvGeometry::with_output_size() const {
  ConvGeometry g = *this;
  g.out_h = (height + 2 * pad_h - dilation_h * (kernel_h - 1) - 1) / stride_h + 1;
  g.out_w = (width + 2 * pad_w - dilation_w * (kernel_w - 1) - 1) / stride_w + 1;
  return g;
}

namespace {

#if defined(__x86_64__)
// dst[0, n) = src[0, n). The runs are short (28 floats for LeNet's conv1, 10 for conv2),
// where memcpy's call and a scalar tail cost more than the copy itself: AVX-512's masked
// loads and stores move a whole run in one or two instructions (measured 2.5-4x faster
// im2col than memcpy per run).
[[gnu::target(TG_TARGET_AVX512)]] inline void copy_run_avx512(float* dst, const float* src,
                                                              int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, _mm512_loadu_ps(src + i));
  if (i < n) {
    __mmask16 m = __mmask16((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(dst + i, m, _mm512_maskz_loadu_ps(m, src + i));
  }
}

// dst[i] = src[2 i] for i in [0, n): two loads and an even-lane shuffle per 16 values (a
// scalar strided loop made im2col 5% of a ResNet step through its two stride-2 convs).
[[gnu::target(TG_TARGET_AVX512)]] inline void copy_run_stride2_avx512(float* dst,
                                                                      const float* src,
                                                                      int64_t n) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  for (int64_t i = 0; i < n; i += 16) {
    const int64_t m = std::min<int64_t>(16, n - i), reads = 2 * m - 1;  // src[2i .. 2i + reads)
    const __mmask16 a = reads >= 16 ? 0xFFFF : __mmask16((1u << reads) - 1);
    const __mmask16 b = reads > 16 ? __mmask16((1u << (reads - 16)) - 1) : 0;
    const __m512 v = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(a, src + 2 * i), even,
                                            _mm512_maskz_loadu_ps(b, src + 2 * i + 16));
    _mm512_mask_storeu_ps(dst + i, m == 16 ? 0xFFFF : __mmask16((1u << m) - 1), v);
  }
}

// dst[2 i] += src[i] for i in [0, n): col2im's stride-2 runs, the transpose of the above.
[[gnu::target(TG_TARGET_AVX512)]] inline void add_run_stride2_avx512(float* dst, const float* src,
                                                                     int64_t n) {
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 16, 2, 16, 3, 16, 4, 16, 5, 16, 6, 16, 7, 16);
  const __m512i hi =
      _mm512_setr_epi32(8, 16, 9, 16, 10, 16, 11, 16, 12, 16, 13, 16, 14, 16, 15, 16);
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const int64_t m = std::min<int64_t>(16, n - i), spans = 2 * m - 1;  // dst[2i .. 2i + spans)
    const __mmask16 a = spans >= 16 ? 0xFFFF : __mmask16((1u << spans) - 1);
    const __mmask16 b = spans > 16 ? __mmask16((1u << (spans - 16)) - 1) : 0;
    const __m512 v = _mm512_maskz_loadu_ps(m == 16 ? 0xFFFF : __mmask16((1u << m) - 1), src + i);
    float* d = dst + 2 * i;
    _mm512_mask_storeu_ps(d, a, _mm512_add_ps(_mm512_maskz_loadu_ps(a, d),
                                              _mm512_permutex2var_ps(v, lo, zero)));
    if (b)
      _mm512_mask_storeu_ps(d + 16, b, _mm512_add_ps(_mm512_maskz_loadu_ps(b, d + 16),
                                                     _mm512_permutex2var_ps(v, hi, zero)));
  }
}
#endif

// dst[i] = src[i * stride] for i in [0, n).
template <typename Target, typename T>
inline void copy_strided_run(Target, T* dst, const T* src, int64_t n, int64_t stride) {
#if defined(__x86_64__)
  if constexpr (Target::capability == cpu::Capability::avx512 && std::is_same_v<T, float>) {
    if (stride == 2) {
      copy_run_stride2_avx512(dst, src, n);
      return;
    }
  }
#endif
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i * stride];
}

// dst[i * stride] += src[i] for i in [0, n).
template <typename Target, typename T>
inline void add_strided_run(Target, T* dst, const T* src, int64_t n, int64_t stride) {
#if defined(__x86_64__)
  if constexpr (Target::capability == cpu::Capability::avx512 && std::is_same_v<T, float>) {
    if (stride == 2) {
      add_run_stride2_avx512(dst, src, n);
      return;
    }
  }
#endif
  for (int64_t i = 0; i < n; ++i) dst[i * stride] += src[i];
}

template <typename Target, typename T>
inline void copy_run(Target, T* dst, const T* src, int64_t n) {
#if defined(__x86_64__)
  if constexpr (Target::capability == cpu::Capability::avx512 && std::is_same_v<T, float>) {
    copy_run_avx512(dst, src, n);
    return;
  }
#endif
  std::memcpy(dst, src, n * sizeof(T));
}

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// The output positions i whose input position i*s - p + k*d lies inside [0, size).
struct ValidRange {
  int64_t lo, hi;
};

ValidRange valid_range(int64_t k, int64_t size, int64_t stride, int64_t pad, int64_t dilation,
                       int64_t out) {
  int64_t shift = k * dilation - pad;  // input position of output position 0
  int64_t lo = std::max<int64_t>(0, -floor_div(shift, stride));  // ceil(-shift / stride)
  int64_t hi = std::min(out, floor_div(size - 1 - shift, stride) + 1);
  return {std::min(lo, out), std::max(hi, std::min(lo, out))};
}

// im2col's loops for one instruction-set target (see cpu::dispatch).
template <typename Target, typename T>
void im2col_loops(Target target, const T* x, const ConvGeometry& g, T* cols) {
  const int64_t OH = g.out_h, OW = g.out_w, H = g.height, W = g.width;
  const int64_t sh = g.stride_h, sw = g.stride_w;
  // (kh, kw) outermost: the valid ranges (two integer divisions each) are the same for
  // every channel, so they are computed once per kernel position, not per row of col.
  for (int64_t kh = 0; kh < g.kernel_h; ++kh) {
    auto [oh_lo, oh_hi] = valid_range(kh, H, sh, g.pad_h, g.dilation_h, OH);
    for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
      auto [lo, hi] = valid_range(kw, W, sw, g.pad_w, g.dilation_w, OW);
      for (int64_t c = 0; c < g.channels; ++c) {
        T* col = cols + ((c * g.kernel_h + kh) * g.kernel_w + kw) * OH * OW;
        // Output rows that read only padding are zero.
        if (oh_lo > 0) std::fill(col, col + oh_lo * OW, T(0));
        if (oh_hi < OH) std::fill(col + oh_hi * OW, col + OH * OW, T(0));
        // src[i * sw] is the input under output (oh_lo, lo + i).
        const T* src = x + (c * H + oh_lo * sh + kh * g.dilation_h - g.pad_h) * W +
                           lo * sw + kw * g.dilation_w - g.pad_w;
        T* dst = col + oh_lo * OW;
        if (sw == 1 && lo == 0 && hi == OW) {  // the common case: whole rows, a tight loop
          for (int64_t oh = oh_lo; oh < oh_hi; ++oh, dst += OW, src += sh * W)
            copy_run(target, dst, src, OW);
          continue;
        }
        for (int64_t oh = oh_lo; oh < oh_hi; ++oh, dst += OW, src += sh * W) {
          if (lo > 0) std::fill(dst, dst + lo, T(0));
          if (sw == 1) {
            copy_run(target, dst + lo, src, hi - lo);
          } else {
            copy_strided_run(target, dst + lo, src, hi - lo, sw);
          }
          if (hi < OW) std::fill(dst + hi, dst + OW, T(0));
        }
      }
    }
  }
}

template <typename Target, typename T>
void col2im_loops(Target target, const T* cols, const ConvGeometry& g, T* dx) {
  const int64_t OH = g.out_h, OW = g.out_w, H = g.height, W = g.width;
  const int64_t sh = g.stride_h, sw = g.stride_w;
  for (int64_t kh = 0; kh < g.kernel_h; ++kh) {
    auto [oh_lo, oh_hi] = valid_range(kh, H, sh, g.pad_h, g.dilation_h, OH);
    for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
      auto [lo, hi] = valid_range(kw, W, sw, g.pad_w, g.dilation_w, OW);
      for (int64_t c = 0; c < g.channels; ++c) {
        const T* col = cols + ((c * g.kernel_h + kh) * g.kernel_w + kw) * OH * OW;
        // Entries that came from padding have nowhere to go back to.
        T* dst = dx + (c * H + oh_lo * sh + kh * g.dilation_h - g.pad_h) * W + lo * sw +
                     kw * g.dilation_w - g.pad_w;
        const T* src = col + oh_lo * OW + lo;
        for (int64_t oh = oh_lo; oh < oh_hi; ++oh, dst += sh * W, src += OW) {
          if (sw == 1) {  // plain loop: masked stores here stall the next row's loads
#pragma omp simd
            for (int64_t i = 0; i < hi - lo; ++i) dst[i] += src[i];
          } else {
            add_strided_run(target, dst, src, hi - lo, sw);
          }
        }
      }
    }
  }
}

}  // namespace

void im2col(const float* x, const ConvGeometry& g, float* cols) {
  cpu::dispatch([&](auto target) { im2col_loops(target, x, g, cols); });
}

void im2col(const double* x, const ConvGeometry& g, double* cols) {
  cpu::dispatch([&](auto target) { im2col_loops(target, x, g, cols); });
}

void col2im(const float* cols, const ConvGeometry& g, float* dx) {
  cpu::dispatch([&](auto target) { col2im_loops(target, cols, g, dx); });
}

void col2im(const double* cols, const ConvGeometry& g, double* dx) {
  cpu::dispatch([&](auto target) { col2im_loops(target, cols, g, dx); });
}

}  // namespace tg::kernels
