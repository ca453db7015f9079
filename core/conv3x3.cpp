// The direct 3x3 convolution (see conv3x3.h): 8 output channels x 32 pixels (two vectors of 16)
// of accumulators in registers; per input channel and tap, two masked loads and 8 weight
// broadcasts feed 16 multiply-adds.
#include <tapegrad/core/conv3x3.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
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

// tap_masks for the last image size this thread saw: a network calls the kernel per image and
// layer with a handful of sizes, and recomputing the masks each time cost 2% of a ResNet step.
const std::vector<uint16_t>& cached_tap_masks(int64_t H, int64_t W, int64_t chunks) {
  struct Entry {
    int64_t H = -1, W = -1, chunks = -1;
    std::vector<uint16_t> masks;
  };
  thread_local Entry last;
  if (last.H != H || last.W != W || last.chunks != chunks)
    last = {H, W, chunks, tap_masks(H, W, chunks)};
  return last.masks;
}

#if defined(__x86_64__)
[[gnu::target(TG_TARGET_AVX512)]] void conv3x3_avx512(const float* x, int64_t C, int64_t H,
                                                      int64_t W, const float* packed, int64_t OC,
                                                      const float* bias, float* y) {
  const int64_t P = H * W, chunks = (P + kLanes - 1) / kLanes;
  const int64_t even = chunks + (chunks & 1);
  const std::vector<uint16_t>& masks = cached_tap_masks(H, W, even);
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

// The weight gradient: for 3 output channels and one input channel, 27 accumulators (channel o,
// tap t) collect dy[o] * x shifted by tap t over every pixel of a group of images that fits in
// L2, then are reduced to scalars. Per 16 pixels: 3 loads of dy, 9 masked loads of x, 27 FMAs.
[[gnu::target(TG_TARGET_AVX512)]] void conv3x3_weight_grad_avx512(
    const float* x, const float* dy, int64_t images, int64_t C, int64_t H, int64_t W, int64_t OC,
    float* dw) {
  const int64_t P = H * W, chunks = (P + kLanes - 1) / kLanes;
  // The forward's (even) chunk count, so both kernels share the cached masks.
  const std::vector<uint16_t>& masks = cached_tap_masks(H, W, chunks + (chunks & 1));
  int64_t offset[9];
  for (int t = 0; t < 9; ++t) offset[t] = (t / 3 - 1) * W + (t % 3 - 1);
  // Images per group: their x and dy planes (about 1 MB) stay in L2 across the channel loops.
  const int64_t group = std::max<int64_t>(1, (int64_t(256) << 10) / ((C + OC) * P));
  for (int64_t g0 = 0; g0 < images; g0 += group) {
    const int64_t g1 = std::min(images, g0 + group);
    for (int64_t ob = 0; ob < OC; ob += 3) {
      const int64_t outs = std::min<int64_t>(3, OC - ob);
      // A missing third (or second) channel reads channel ob's plane; its sums are dropped.
      const int64_t plane1 = outs > 1 ? P : 0, plane2 = outs > 2 ? 2 * P : 0;
      for (int64_t ic = 0; ic < C; ++ic) {
#define TG_ZERO3(t) a0_##t = a1_##t = a2_##t = _mm512_setzero_ps();
        __m512 a0_0, a1_0, a2_0, a0_1, a1_1, a2_1, a0_2, a1_2, a2_2, a0_3, a1_3, a2_3, a0_4, a1_4,
            a2_4, a0_5, a1_5, a2_5, a0_6, a1_6, a2_6, a0_7, a1_7, a2_7, a0_8, a1_8, a2_8;
        TG_ZERO3(0) TG_ZERO3(1) TG_ZERO3(2) TG_ZERO3(3) TG_ZERO3(4) TG_ZERO3(5) TG_ZERO3(6)
        TG_ZERO3(7) TG_ZERO3(8)
#undef TG_ZERO3
        for (int64_t n = g0; n < g1; ++n) {
          const float* xc = x + (n * C + ic) * P;
          const float* d = dy + (n * OC + ob) * P;
          for (int64_t c = 0; c < chunks; ++c) {
            const int64_t p0 = c * kLanes;
            const __mmask16 valid =
                P - p0 >= kLanes ? __mmask16(0xFFFF) : __mmask16((1u << (P - p0)) - 1);
            const __m512 d0 = _mm512_maskz_loadu_ps(valid, d + p0);
            const __m512 d1 = _mm512_maskz_loadu_ps(valid, d + plane1 + p0);
            const __m512 d2 = _mm512_maskz_loadu_ps(valid, d + plane2 + p0);
            const uint16_t* m = masks.data() + c * 9;
#define TG_TAP(t)                                                              \
  {                                                                            \
    const __m512 xv = _mm512_maskz_loadu_ps(m[t], xc + p0 + offset[t]);        \
    a0_##t = _mm512_fmadd_ps(d0, xv, a0_##t);                                  \
    a1_##t = _mm512_fmadd_ps(d1, xv, a1_##t);                                  \
    a2_##t = _mm512_fmadd_ps(d2, xv, a2_##t);                                  \
  }
            TG_TAP(0) TG_TAP(1) TG_TAP(2) TG_TAP(3) TG_TAP(4) TG_TAP(5) TG_TAP(6) TG_TAP(7)
            TG_TAP(8)
#undef TG_TAP
          }
        }
        const __m512 sums[3][9] = {{a0_0, a0_1, a0_2, a0_3, a0_4, a0_5, a0_6, a0_7, a0_8},
                                   {a1_0, a1_1, a1_2, a1_3, a1_4, a1_5, a1_6, a1_7, a1_8},
                                   {a2_0, a2_1, a2_2, a2_3, a2_4, a2_5, a2_6, a2_7, a2_8}};
        // Through memory, not _mm512_reduce_add_ps: g++ 12's header warns inside that one.
        alignas(64) float lanes[kLanes];
        for (int64_t o = 0; o < outs; ++o)
          for (int t = 0; t < 9; ++t) {
            _mm512_store_ps(lanes, sums[o][t]);
            float sum = 0;
            for (float v : lanes) sum += v;
            dw[((ob + o) * C + ic) * 9 + t] += sum;
          }
      }
    }
  }
}

// The AVX2 versions: 8-lane vectors and 16 registers, so a 16-pixel chunk is two halves whose
// 8-bit masks (the low and high bytes of the AVX-512 mask) become lane masks through a table.
struct LaneMasks {
  alignas(32) int32_t lanes[256][8];
  LaneMasks() {
    for (int b = 0; b < 256; ++b)
      for (int l = 0; l < 8; ++l) lanes[b][l] = (b >> l) & 1 ? -1 : 0;
  }
};
const LaneMasks& lane_masks() {
  static const LaneMasks table;
  return table;
}

[[gnu::target(TG_TARGET_AVX2)]] inline __m256 load_masked(const LaneMasks& table, unsigned bits,
                                                          const float* p) {
  const __m256i m = _mm256_load_si256(reinterpret_cast<const __m256i*>(table.lanes[bits]));
  return _mm256_maskload_ps(p, m);
}

// Forward: 4 output channels x 16 pixels (two halves) of accumulators.
[[gnu::target(TG_TARGET_AVX2)]] void conv3x3_avx2(const float* x, int64_t C, int64_t H,
                                                  int64_t W, const float* packed, int64_t OC,
                                                  const float* bias, float* y) {
  const int64_t P = H * W, chunks = (P + kLanes - 1) / kLanes;
  const std::vector<uint16_t>& masks = cached_tap_masks(H, W, chunks + (chunks & 1));
  const LaneMasks& table = lane_masks();
  int64_t offset[9];
  for (int t = 0; t < 9; ++t) offset[t] = (t / 3 - 1) * W + (t % 3 - 1);
  for (int64_t ob = 0; ob < OC; ob += 4) {
    const float* wb = packed + (ob / kBlock) * C * 9 * kBlock + ob % kBlock;
    const int64_t outs = std::min<int64_t>(4, OC - ob);
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t p0 = c * kLanes;
      __m256 a0, a1, a2, a3, b0, b1, b2, b3;
#define TG_BIAS(o) (bias && o < outs ? _mm256_set1_ps(bias[ob + o]) : _mm256_setzero_ps())
      a0 = b0 = TG_BIAS(0), a1 = b1 = TG_BIAS(1), a2 = b2 = TG_BIAS(2), a3 = b3 = TG_BIAS(3);
#undef TG_BIAS
      const uint16_t* m = masks.data() + c * 9;
      for (int64_t ic = 0; ic < C; ++ic) {
        const float* xc = x + ic * P + p0;
        const float* wc = wb + ic * 9 * kBlock;
        for (int t = 0; t < 9; ++t, wc += kBlock) {
          const __m256 x0 = load_masked(table, m[t] & 0xFF, xc + offset[t]);
          const __m256 x1 = load_masked(table, m[t] >> 8, xc + 8 + offset[t]);
#define TG_FMA(o)                                \
  {                                              \
    const __m256 wv = _mm256_broadcast_ss(wc + o); \
    a##o = _mm256_fmadd_ps(wv, x0, a##o);        \
    b##o = _mm256_fmadd_ps(wv, x1, b##o);        \
  }
          TG_FMA(0) TG_FMA(1) TG_FMA(2) TG_FMA(3)
#undef TG_FMA
        }
      }
      const __m256 acc0[4] = {a0, a1, a2, a3}, acc1[4] = {b0, b1, b2, b3};
      const int64_t n0 = std::min<int64_t>(8, P - p0), n1 = std::min<int64_t>(8, P - p0 - 8);
      const __m256i s0 = _mm256_load_si256(
          reinterpret_cast<const __m256i*>(table.lanes[(1u << n0) - 1]));
      const __m256i s1 = _mm256_load_si256(
          reinterpret_cast<const __m256i*>(table.lanes[n1 > 0 ? (1u << n1) - 1 : 0]));
      for (int64_t o = 0; o < outs; ++o) {
        float* yo = y + (ob + o) * P + p0;
        _mm256_maskstore_ps(yo, s0, acc0[o]);
        if (n1 > 0) _mm256_maskstore_ps(yo + 8, s1, acc1[o]);
      }
    }
  }
}

#endif

}  // namespace

bool conv3x3_available() {
#if defined(__x86_64__)
  return cpu::capability() >= cpu::Capability::avx2;
#else
  return false;
#endif
}

bool conv3x3_weight_grad_available() {
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
  check(conv3x3_available(), "conv3x3: needs AVX2 or AVX-512 at the current CPU level");
#if defined(__x86_64__)
  if (cpu::capability() == cpu::Capability::avx512)
    conv3x3_avx512(x, C, H, W, packed, OC, bias, y);
  else
    conv3x3_avx2(x, C, H, W, packed, OC, bias, y);
#endif
}

void conv3x3_weight_grad(const float* x, const float* dy, int64_t images, int64_t C, int64_t H,
                         int64_t W, int64_t OC, float* dw) {
  check(conv3x3_weight_grad_available(),
        "conv3x3_weight_grad: needs AVX-512 at the current CPU level");
#if defined(__x86_64__)
  conv3x3_weight_grad_avx512(x, dy, images, C, H, W, OC, dw);
#endif
}

}  // namespace tg::kernels
