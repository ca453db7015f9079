// The direct 3x3 convolution (see conv3x3.h): 8 output channels x 32 pixels (two vectors of 16)
// of accumulators in registers; per input channel and tap, two masked loads and 8 weight
// broadcasts feed 16 multiply-adds.
#include <tapegrad/core/conv3x3.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <vector>

#include <tapegrad/core/cpu.h>
#include <tapegrad/core/error.h>

namespace tg::kernels {

namespace {

constexpr int64_t kBlock = 8;   // output channels per register block
constexpr int64_t kLanes = 16;  // pixels per vector

// Bit l of mask (chunk, tap): output pixel chunk * 16 + l exists and its input under tap
// (kh, kw) = (tap / 3, tap % 3) lies inside the image. A trailing phantom chunk (to make the
// count even) has all-zero masks.
std::vector<uint16_t> tap_masks(int64_t H, int64_t W, int64_t chunks) {
  std::vector<uint16_t> masks(size_t(chunks * 9), 0);
  for (int64_t c = 0; c < chunks; ++c)
    for (int64_t l = 0; l < kLanes; ++l) {
      const int64_t p = c * kLanes + l;
      if (p >= H * W) break;
      const int64_t h = p / W, w = p % W;
      for (int t = 0; t < 9; ++t) {
        const int64_t ih = h + t / 3 - 1, iw = w + t % 3 - 1;
        if (ih >= 0 && ih < H && iw >= 0 && iw < W) masks[size_t(c * 9 + t)] |= uint16_t(1u << l);
      }
    }
  return masks;
}

#if defined(__x86_64__)
[[gnu::target(TG_TARGET_AVX512)]] void conv3x3_avx512(const float* x, int64_t C, int64_t H,
                                                      int64_t W, const float* packed, int64_t OC,
                                                      const float* bias, float* y) {
  const int64_t P = H * W, chunks = (P + kLanes - 1) / kLanes;
  const int64_t even = chunks + (chunks & 1);
  const std::vector<uint16_t> masks = tap_masks(H, W, even);
  int64_t offset[9];
  for (int t = 0; t < 9; ++t) offset[t] = (t / 3 - 1) * W + (t % 3 - 1);
  for (int64_t ob = 0; ob < OC; ob += kBlock) {
    const float* wb = packed + (ob / kBlock) * C * 9 * kBlock;
    const int64_t outs = OC - ob < kBlock ? OC - ob : kBlock;
    for (int64_t c0 = 0; c0 < even; c0 += 2) {
      const int64_t p0 = c0 * kLanes;
      // Sixteen named accumulators: g++ 12 keeps an array of them on the stack, storing every
      // one back on each tap (measured 2x slower).
      __m512 a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7;
#define TG_BIAS(o) (bias && o < outs ? _mm512_set1_ps(bias[ob + o]) : _mm512_setzero_ps())
      a0 = b0 = TG_BIAS(0), a1 = b1 = TG_BIAS(1), a2 = b2 = TG_BIAS(2), a3 = b3 = TG_BIAS(3);
      a4 = b4 = TG_BIAS(4), a5 = b5 = TG_BIAS(5), a6 = b6 = TG_BIAS(6), a7 = b7 = TG_BIAS(7);
#undef TG_BIAS
      const uint16_t* m0 = masks.data() + c0 * 9;
      const uint16_t* m1 = m0 + 9;
      for (int64_t ic = 0; ic < C; ++ic) {
        // Addresses before the image or past it are only formed for lanes the mask disables;
        // masked loads do not touch them.
        const float* xc = x + ic * P + p0;
        const float* wc = wb + ic * 9 * kBlock;
        for (int t = 0; t < 9; ++t, wc += kBlock) {
          const __m512 x0 = _mm512_maskz_loadu_ps(m0[t], xc + offset[t]);
          const __m512 x1 = _mm512_maskz_loadu_ps(m1[t], xc + kLanes + offset[t]);
#define TG_FMA(o)                              \
  {                                            \
    const __m512 wv = _mm512_set1_ps(wc[o]);   \
    a##o = _mm512_fmadd_ps(wv, x0, a##o);      \
    b##o = _mm512_fmadd_ps(wv, x1, b##o);      \
  }
          TG_FMA(0) TG_FMA(1) TG_FMA(2) TG_FMA(3) TG_FMA(4) TG_FMA(5) TG_FMA(6) TG_FMA(7)
#undef TG_FMA
        }
      }
      const __m512 acc0[kBlock] = {a0, a1, a2, a3, a4, a5, a6, a7};
      const __m512 acc1[kBlock] = {b0, b1, b2, b3, b4, b5, b6, b7};
      const __mmask16 s0 = P - p0 >= kLanes ? 0xFFFF : __mmask16((1u << (P - p0)) - 1);
      const int64_t rest = P - p0 - kLanes;
      const __mmask16 s1 = rest >= kLanes ? 0xFFFF : rest <= 0 ? 0 : __mmask16((1u << rest) - 1);
      for (int o = 0; o < outs; ++o) {
        float* yo = y + (ob + o) * P + p0;
        _mm512_mask_storeu_ps(yo, s0, acc0[o]);
        if (s1) _mm512_mask_storeu_ps(yo + kLanes, s1, acc1[o]);
      }
    }
  }
}
#endif

}  // namespace

bool conv3x3_available() {
#if defined(__x86_64__)
  return cpu::capability() == cpu::Capability::avx512;
#else
  return false;
#endif
}

int64_t conv3x3_packed_size(int64_t out, int64_t in) {
  return (out + kBlock - 1) / kBlock * kBlock * in * 9;
}

void pack_conv3x3_weight(const float* w, int64_t OC, int64_t C, bool transpose_flip,
                         float* packed) {
  // The packed conv maps `in` channels to `out`: (C -> OC), or (OC -> C) for the gradient.
  const int64_t out = transpose_flip ? C : OC, in = transpose_flip ? OC : C;
  const int64_t blocks = (out + kBlock - 1) / kBlock;
  for (int64_t b = 0; b < blocks; ++b)
    for (int64_t i = 0; i < in; ++i)
      for (int t = 0; t < 9; ++t)
        for (int64_t o = 0; o < kBlock; ++o) {
          const int64_t oc = b * kBlock + o;
          float v = 0;
          if (oc < out)
            v = transpose_flip ? w[(i * C + oc) * 9 + (8 - t)] : w[(oc * C + i) * 9 + t];
          packed[((b * in + i) * 9 + t) * kBlock + o] = v;
        }
}

void conv3x3(const float* x, int64_t C, int64_t H, int64_t W, const float* packed, int64_t OC,
             const float* bias, float* y) {
  check(conv3x3_available(), "conv3x3: needs AVX-512 at the current CPU level");
#if defined(__x86_64__)
  conv3x3_avx512(x, C, H, W, packed, OC, bias, y);
#endif
}

}  // namespace tg::kernels
