// The Winograd F(2x2, 3x3) convolution (see winograd3x3.h). Per call, for a group of images:
// 1. input transform: V[pos][c][tile] = (B^T d B)[pos] for every tile, 16 tiles per vector;
// 2. per block of 32 tiles and 8 output channels: the 16 GEMMs U[pos] . V[pos] into a small
//    buffer that stays in L1, then the output transform Y = A^T M A (+ bias) straight into y.
// With B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]
// and A^T = [1 1 1 0; 0 1 -1 -1].
#include <tapegrad/core/winograd3x3.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <vector>

#include <tapegrad/core/cpu.h>
#include <tapegrad/core/error.h>

namespace tg::kernels {

namespace {

constexpr int64_t kBlock = 8;      // output channels per register block
constexpr int64_t kLanes = 16;     // tiles per vector
constexpr int64_t kTileBlock = 32;  // tiles per GEMM block (two vectors)
constexpr int kPositions = 16;     // of a 4x4 transformed tile

// The 16 tiles of vector v: image n, from tile row th0 and tile column tw0 on. A tile row of
// fewer than 16 tiles (W = 8 or 16) puts 16 / tiles_w consecutive rows ("segments") in the
// vector; winograd3x3_available makes them never straddle two images.
struct TileVector {
  int64_t n, th0, tw0;
};

// Floats between two positions' [C][T] blocks of V: one cache line more than C T, so that the
// input transform's 16 stores per tile vector (one per position) fall into 16 different L1
// sets. On ResNet's shapes C T floats are a multiple of 4 KB, the span of the L1's sets, so
// without the extra line all 16 would compete for one 8-way set.
int64_t position_stride(int64_t C, int64_t T) { return C * T + 16; }

TileVector locate(int64_t v, int64_t tiles_h, int64_t tiles_w) {
  const int64_t first = v * kLanes, per_image = tiles_h * tiles_w, q = first % per_image;
  return {first / per_image, q / tiles_w, q % tiles_w};
}

#if defined(__x86_64__)

// x [images, C, H, W] copied with a border of zeros: [images, C, H + 2, W + 2], plus a vector
// of slack at the end (the last window's discarded odd lanes may read past the last row).
// The input transform then loads without masks: padded row 2 th + i and column 2 u + j hold
// tile (th, u)'s input position (i, j).
[[gnu::target(TG_TARGET_AVX512)]] void pad_input(const float* x, int64_t planes, int64_t H,
                                                 int64_t W, float* padded) {
  // Masked vector copies rather than a memmove call per row of 8-32 floats. Either way this
  // is where each activation is first read from memory: about 6% of a ResNet step.
  const int64_t Wp = W + 2, plane = (H + 2) * Wp;
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t p = 0; p < planes; ++p, x += H * W, padded += plane) {
    for (int64_t k = 0; k < Wp; k += kLanes)  // the top row
      _mm512_mask_storeu_ps(padded + k, Wp - k >= kLanes ? 0xFFFF : (1u << (Wp - k)) - 1, zero);
    for (int64_t h = 0; h < H; ++h) {
      float* row = padded + (h + 1) * Wp;
      row[0] = 0.0f;
      for (int64_t k = 0; k < W; k += kLanes) {
        const __mmask16 m = W - k >= kLanes ? 0xFFFF : (1u << (W - k)) - 1;
        _mm512_mask_storeu_ps(row + 1 + k, m, _mm512_maskz_loadu_ps(m, x + h * W + k));
      }
      row[W + 1] = 0.0f;
    }
    for (int64_t k = 0; k < Wp; k += kLanes)  // the bottom row
      _mm512_mask_storeu_ps(padded + (H + 1) * Wp + k,
                            Wp - k >= kLanes ? 0xFFFF : (1u << (Wp - k)) - 1, zero);
  }
  _mm512_storeu_ps(padded, zero);  // the slack, past the last plane
}

// Floats of pad_input's result.
int64_t padded_size(int64_t planes, int64_t H, int64_t W) {
  return planes * (H + 2) * (W + 2) + kLanes;
}

// 16 floats of padded input at p (Segs 1 or 2: one window; Segs 4: the 8-float windows at p and
// p + 2 rows, side by side).
template <int Segs>
[[gnu::target(TG_TARGET_AVX512)]] inline __m512 load_window(const float* p, int64_t Wp) {
  if constexpr (Segs == 4)
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_loadu_ps(p)),
                              _mm256_loadu_ps(p + 2 * Wp), 1);
  else
    return _mm512_loadu_ps(p);
}

// V[pos][c][v * 16 + lane] for every tile vector v, from the padded input. Segs: tile rows per
// vector (1, 2 or 4). Input position (i, j) of the 16 tiles is columns 2 u + j of padded row
// 2 (th0 + s) + i: each segment's window of 32 / Segs floats is loaded and the even lanes of
// the 32 kept.
template <int Segs>
[[gnu::target(TG_TARGET_AVX512)]] void transform_input(const float* padded, int64_t C,
                                                       int64_t H, int64_t W, int64_t vectors,
                                                       float* V, int64_t T) {
  const int64_t Wp = W + 2, plane = (H + 2) * Wp, tiles_h = H / 2, tiles_w = W / 2;
  const int64_t stride = position_stride(C, T);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  // Where the second half of the 32 floats starts, relative to the first.
  const int64_t second = Segs == 1 ? kLanes : Segs == 2 ? 2 * Wp : 4 * Wp;
  for (int64_t v = 0; v < vectors; ++v) {
    const TileVector tv = locate(v, tiles_h, tiles_w);
    const float* corner = padded + tv.n * C * plane + 2 * tv.th0 * Wp + 2 * tv.tw0;
    float* out = V + v * kLanes;
    for (int64_t c = 0; c < C; ++c, corner += plane, out += T) {
      __m512 d[4][4];
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i)
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
          const float* p = corner + i * Wp + j;
          d[i][j] = _mm512_permutex2var_ps(load_window<Segs>(p, Wp), even,
                                           load_window<Segs>(p + second, Wp));
        }
      // t = B^T d (over rows), then V = t B (over columns).
      __m512 t[4][4];
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) {
        t[0][j] = _mm512_sub_ps(d[0][j], d[2][j]);
        t[1][j] = _mm512_add_ps(d[1][j], d[2][j]);
        t[2][j] = _mm512_sub_ps(d[2][j], d[1][j]);
        t[3][j] = _mm512_sub_ps(d[1][j], d[3][j]);
      }
#pragma GCC unroll 4
      for (int a = 0; a < 4; ++a) {
        float* row = out + 4 * a * stride;
        _mm512_storeu_ps(row, _mm512_sub_ps(t[a][0], t[a][2]));
        _mm512_storeu_ps(row + stride, _mm512_add_ps(t[a][1], t[a][2]));
        _mm512_storeu_ps(row + 2 * stride, _mm512_sub_ps(t[a][2], t[a][1]));
        _mm512_storeu_ps(row + 3 * stride, _mm512_sub_ps(t[a][1], t[a][3]));
      }
    }
  }
}

// M[o][lane of NT vectors] = sum over c of U[c][o] V[c][tile], for one position: 8 output
// channels x NT vectors of tiles in registers (the direct conv3x3 kernel's blocking).
template <int NT>
[[gnu::target(TG_TARGET_AVX512)]] inline void tile_gemm(const float* U, const float* V, int64_t C,
                                                        int64_t T, float* M) {
  // Named accumulators: g++ 12 spills an array of them (see conv3x3.cpp).
  __m512 a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7;
  a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = _mm512_setzero_ps();
  b0 = b1 = b2 = b3 = b4 = b5 = b6 = b7 = _mm512_setzero_ps();
  for (int64_t c = 0; c < C; ++c, U += kBlock, V += T) {
    const __m512 v0 = _mm512_loadu_ps(V);
    const __m512 v1 = NT == 2 ? _mm512_loadu_ps(V + kLanes) : v0;
#define TG_FMA(o)                                       \
  {                                                     \
    const __m512 w = _mm512_set1_ps(U[o]);              \
    a##o = _mm512_fmadd_ps(w, v0, a##o);                \
    if constexpr (NT == 2) b##o = _mm512_fmadd_ps(w, v1, b##o); \
  }
    TG_FMA(0) TG_FMA(1) TG_FMA(2) TG_FMA(3) TG_FMA(4) TG_FMA(5) TG_FMA(6) TG_FMA(7)
#undef TG_FMA
  }
  const __m512 acc0[kBlock] = {a0, a1, a2, a3, a4, a5, a6, a7};
  const __m512 acc1[kBlock] = {b0, b1, b2, b3, b4, b5, b6, b7};
  for (int o = 0; o < kBlock; ++o) {
    _mm512_store_ps(M + o * kTileBlock, acc0[o]);
    if constexpr (NT == 2) _mm512_store_ps(M + o * kTileBlock + kLanes, acc1[o]);
  }
}

// y for output channel plane `yc` and tile vector tv from the 16 positions m[pos] (16 tiles
// each): Y = A^T m A + bias, the 2x2 outputs of the tiles interleaved back into rows.
template <int Segs>
[[gnu::target(TG_TARGET_AVX512)]] inline void transform_output(const float* m, int64_t pos_stride,
                                                               __m512 bias, const TileVector& tv,
                                                               int64_t W, float* yc) {
  __m512 s[2][4];
#pragma GCC unroll 4
  for (int b = 0; b < 4; ++b) {
    const __m512 m0 = _mm512_load_ps(m + b * pos_stride);
    const __m512 m1 = _mm512_load_ps(m + (4 + b) * pos_stride);
    const __m512 m2 = _mm512_load_ps(m + (8 + b) * pos_stride);
    const __m512 m3 = _mm512_load_ps(m + (12 + b) * pos_stride);
    s[0][b] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
    s[1][b] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
  }
  const __m512i lo_index =
      _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi_index =
      _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
#pragma GCC unroll 2
  for (int i = 0; i < 2; ++i) {
    const __m512 y0 =
        _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s[i][0], s[i][1]), s[i][2]), bias);
    const __m512 y1 =
        _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s[i][1], s[i][2]), s[i][3]), bias);
    // Output columns 2u and 2u + 1 of tile u side by side: 32 floats, one window per segment.
    const __m512 lo = _mm512_permutex2var_ps(y0, lo_index, y1);
    const __m512 hi = _mm512_permutex2var_ps(y0, hi_index, y1);
    float* row = yc + (2 * tv.th0 + i) * W;  // segment s is 2 s rows further down
    if constexpr (Segs == 1) {
      _mm512_storeu_ps(row + 2 * tv.tw0, lo);
      _mm512_storeu_ps(row + 2 * tv.tw0 + kLanes, hi);
    } else if constexpr (Segs == 2) {
      _mm512_storeu_ps(row, lo);
      _mm512_storeu_ps(row + 2 * W, hi);
    } else {
      _mm256_storeu_ps(row, _mm512_castps512_ps256(lo));
      _mm256_storeu_ps(row + 2 * W, _mm512_extractf32x8_ps(lo, 1));
      _mm256_storeu_ps(row + 4 * W, _mm512_castps512_ps256(hi));
      _mm256_storeu_ps(row + 6 * W, _mm512_extractf32x8_ps(hi, 1));
    }
  }
}

template <int Segs>
[[gnu::target(TG_TARGET_AVX512)]] void winograd3x3_avx512(const float* x, int64_t images,
                                                          int64_t C, int64_t H, int64_t W,
                                                          const float* packed, int64_t OC,
                                                          const float* bias, float* y) {
  const int64_t P = H * W, tiles_h = H / 2, tiles_w = W / 2;
  const int64_t T = images * tiles_h * tiles_w, vectors = T / kLanes;
  const int64_t stride = position_stride(C, T);
  // Per-thread buffers, reused by the thread's next calls.
  thread_local std::vector<float> padded, transformed;
  if (padded.size() < size_t(padded_size(images * C, H, W)))
    padded.resize(size_t(padded_size(images * C, H, W)));
  if (transformed.size() < size_t(kPositions * stride))
    transformed.resize(size_t(kPositions * stride));
  pad_input(x, images * C, H, W, padded.data());
  float* V = transformed.data();
  transform_input<Segs>(padded.data(), C, H, W, vectors, V, T);
  const int64_t blocks = (OC + kBlock - 1) / kBlock;
  alignas(64) float M[kPositions * kBlock * kTileBlock];
  for (int64_t t0 = 0; t0 < T; t0 += kTileBlock) {
    const int nt = T - t0 >= kTileBlock ? 2 : 1;
    for (int64_t b = 0; b < blocks; ++b) {
      for (int pos = 0; pos < kPositions; ++pos) {
        const float* U = packed + (pos * blocks + b) * C * kBlock;
        const float* Vp = V + pos * stride + t0;
        float* Mp = M + pos * kBlock * kTileBlock;
        if (nt == 2)
          tile_gemm<2>(U, Vp, C, T, Mp);
        else
          tile_gemm<1>(U, Vp, C, T, Mp);
      }
      const int64_t outs = std::min<int64_t>(kBlock, OC - b * kBlock);
      for (int k = 0; k < nt; ++k) {
        const TileVector tv = locate(t0 / kLanes + k, tiles_h, tiles_w);
        for (int64_t o = 0; o < outs; ++o) {
          const int64_t oc = b * kBlock + o;
          const __m512 bias_v = _mm512_set1_ps(bias ? bias[oc] : 0.0f);
          transform_output<Segs>(M + o * kTileBlock + k * kLanes, kBlock * kTileBlock, bias_v,
                                 tv, W, y + (tv.n * OC + oc) * P);
        }
      }
    }
  }
}

// ---- weight gradient -------------------------------------------------------------------
// With Z = U (.) V, sum over (i, j) of dy y = sum over pos of (A dy A^T) (G w G^T) (B^T d B), so
//   dw = G^T [ sum over tiles of (A dy A^T) (.) (B^T d B) ] G,   A = (A^T)^T (4 x 2):
// the same input transform, dy's 2x2 tiles transformed by A, and per position one GEMM
// M[pos] [OC, C] += Dy[pos] [OC, tiles] . V[pos]^T, reduced over tiles (a long K: efficient).

// Dy[pos][o][v * 16 + lane] for every tile vector v and output channel o: A e A^T for the
// 2x2 tile e of dy (rows 2 (th0 + s) + k, columns 2 u + l).
template <int Segs>
[[gnu::target(TG_TARGET_AVX512)]] void transform_output_grad(const float* dy, int64_t OC,
                                                             int64_t H, int64_t W,
                                                             int64_t vectors, float* D,
                                                             int64_t T) {
  const int64_t P = H * W, tiles_h = H / 2, tiles_w = W / 2, stride = position_stride(OC, T);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const int64_t second = Segs == 1 ? kLanes : Segs == 2 ? 2 * W : 4 * W;
  for (int64_t v = 0; v < vectors; ++v) {
    const TileVector tv = locate(v, tiles_h, tiles_w);
    const float* corner = dy + tv.n * OC * P + 2 * tv.th0 * W + 2 * tv.tw0;
    float* out = D + v * kLanes;
    for (int64_t o = 0; o < OC; ++o, corner += P, out += T) {
      __m512 e[2][2];
#pragma GCC unroll 2
      for (int k = 0; k < 2; ++k) {
        const float* p = corner + k * W;
        const __m512 a = load_window<Segs>(p, W), b = load_window<Segs>(p + second, W);
        e[k][0] = _mm512_permutex2var_ps(a, even, b);
        e[k][1] = _mm512_permutex2var_ps(a, odd, b);
      }
      // r = A e (over rows: e0, e0 + e1, e0 - e1, -e1), then D = r A^T (over columns).
      __m512 r[4][2];
#pragma GCC unroll 2
      for (int l = 0; l < 2; ++l) {
        r[0][l] = e[0][l];
        r[1][l] = _mm512_add_ps(e[0][l], e[1][l]);
        r[2][l] = _mm512_sub_ps(e[0][l], e[1][l]);
        r[3][l] = _mm512_sub_ps(_mm512_setzero_ps(), e[1][l]);
      }
#pragma GCC unroll 4
      for (int a = 0; a < 4; ++a) {
        float* row = out + 4 * a * stride;
        _mm512_storeu_ps(row, r[a][0]);
        _mm512_storeu_ps(row + stride, _mm512_add_ps(r[a][0], r[a][1]));
        _mm512_storeu_ps(row + 2 * stride, _mm512_sub_ps(r[a][0], r[a][1]));
        _mm512_storeu_ps(row + 3 * stride, _mm512_sub_ps(_mm512_setzero_ps(), r[a][1]));
      }
    }
  }
}

// The four lane sums of a, b, c, d.
[[gnu::target(TG_TARGET_AVX512)]] inline __m128 sum4(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
  const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
  const __m512 abcd = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)),
                                    _mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));
  const __m256 half = _mm256_add_ps(_mm512_castps512_ps256(abcd), _mm512_extractf32x8_ps(abcd, 1));
  return _mm_add_ps(_mm256_castps256_ps128(half), _mm256_extractf128_ps(half, 1));
}

// M[o][c] += sum over the T tiles of D[o][t] V[c][t], for one position: 4 output x 4 input
// channels of accumulators. Rows past OC or C read the last row; their sums are dropped.
[[gnu::target(TG_TARGET_AVX512)]] void grad_gemm(const float* D, const float* V, int64_t OC,
                                                 int64_t C, int64_t T, float* M) {
  for (int64_t o0 = 0; o0 < OC; o0 += 4) {
    const float* d[4];
    for (int k = 0; k < 4; ++k) d[k] = D + std::min(o0 + k, OC - 1) * T;
    for (int64_t c0 = 0; c0 < C; c0 += 4) {
      const float* v[4];
      for (int k = 0; k < 4; ++k) v[k] = V + std::min(c0 + k, C - 1) * T;
#define TG_ROW(o) __m512 a##o##0, a##o##1, a##o##2, a##o##3;                 \
      a##o##0 = a##o##1 = a##o##2 = a##o##3 = _mm512_setzero_ps();
      TG_ROW(0) TG_ROW(1) TG_ROW(2) TG_ROW(3)
#undef TG_ROW
      for (int64_t t = 0; t < T; t += kLanes) {
        const __m512 v0 = _mm512_loadu_ps(v[0] + t), v1 = _mm512_loadu_ps(v[1] + t);
        const __m512 v2 = _mm512_loadu_ps(v[2] + t), v3 = _mm512_loadu_ps(v[3] + t);
#define TG_FMA(o)                                    \
  {                                                  \
    const __m512 dv = _mm512_loadu_ps(d[o] + t);     \
    a##o##0 = _mm512_fmadd_ps(dv, v0, a##o##0);      \
    a##o##1 = _mm512_fmadd_ps(dv, v1, a##o##1);      \
    a##o##2 = _mm512_fmadd_ps(dv, v2, a##o##2);      \
    a##o##3 = _mm512_fmadd_ps(dv, v3, a##o##3);      \
  }
        TG_FMA(0) TG_FMA(1) TG_FMA(2) TG_FMA(3)
#undef TG_FMA
      }
      const __m128 sums[4] = {sum4(a00, a01, a02, a03), sum4(a10, a11, a12, a13),
                              sum4(a20, a21, a22, a23), sum4(a30, a31, a32, a33)};
      const __mmask8 cols = C - c0 >= 4 ? 0xF : __mmask8((1u << (C - c0)) - 1);
      for (int64_t k = 0; k < 4 && o0 + k < OC; ++k) {
        float* m = M + (o0 + k) * C + c0;
        _mm_mask_storeu_ps(m, cols, _mm_add_ps(_mm_maskz_loadu_ps(cols, m), sums[k]));
      }
    }
  }
}

template <int Segs>
[[gnu::target(TG_TARGET_AVX512)]] void winograd3x3_weight_grad_avx512(
    const float* x, const float* dy, int64_t images, int64_t C, int64_t H, int64_t W,
    int64_t OC, float* dw) {
  const int64_t tiles = (H / 2) * (W / 2);
  // Images per group: at least 256 tiles, so that each GEMM's sums run long before they are
  // reduced across lanes.
  const int64_t group = std::max<int64_t>(1, 256 / tiles);
  thread_local std::vector<float> padded, transformed, transformed_grad, sums;
  sums.assign(size_t(kPositions * OC * C), 0.0f);  // M[pos][o][c] over all images
  for (int64_t n0 = 0; n0 < images; n0 += group) {
    const int64_t count = std::min(group, images - n0), T = count * tiles;
    const int64_t sv = position_stride(C, T), sd = position_stride(OC, T);
    if (padded.size() < size_t(padded_size(count * C, H, W)))
      padded.resize(size_t(padded_size(count * C, H, W)));
    if (transformed.size() < size_t(kPositions * sv)) transformed.resize(size_t(kPositions * sv));
    if (transformed_grad.size() < size_t(kPositions * sd))
      transformed_grad.resize(size_t(kPositions * sd));
    pad_input(x + n0 * C * H * W, count * C, H, W, padded.data());
    transform_input<Segs>(padded.data(), C, H, W, T / kLanes, transformed.data(), T);
    transform_output_grad<Segs>(dy + n0 * OC * H * W, OC, H, W, T / kLanes,
                                transformed_grad.data(), T);
    for (int pos = 0; pos < kPositions; ++pos)
      grad_gemm(transformed_grad.data() + pos * sd, transformed.data() + pos * sv, OC, C, T,
                sums.data() + pos * OC * C);
  }
  // dw[o][c] += G^T M[.][o][c] G.
  const float G[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
  for (int64_t o = 0; o < OC; ++o)
    for (int64_t c = 0; c < C; ++c) {
      float m[4][4];
      for (int pos = 0; pos < kPositions; ++pos)
        m[pos / 4][pos % 4] = sums[size_t((pos * OC + o) * C + c)];
      float mg[4][3] = {};  // M G
      for (int a = 0; a < 4; ++a)
        for (int l = 0; l < 3; ++l)
          for (int b = 0; b < 4; ++b) mg[a][l] += m[a][b] * G[b][l];
      float* out = dw + (o * C + c) * 9;
      for (int k = 0; k < 3; ++k)
        for (int l = 0; l < 3; ++l) {
          float v = 0;
          for (int a = 0; a < 4; ++a) v += G[a][k] * mg[a][l];
          out[k * 3 + l] += v;
        }
    }
}

#endif

}  // namespace

bool winograd3x3_available(int64_t H, int64_t W) {
#if defined(__x86_64__)
  if (cpu::capability() != cpu::Capability::avx512) return false;
  if (H < 2 || W < 2 || H % 2 != 0 || W % 2 != 0) return false;
  const int64_t tiles_h = H / 2, tiles_w = W / 2;
  if (tiles_w % kLanes == 0) return true;
  return (tiles_w == 4 || tiles_w == 8) && tiles_h % (kLanes / tiles_w) == 0;
#else
  (void)H, (void)W;
  return false;
#endif
}

int64_t winograd3x3_group(int64_t H, int64_t W) {
  const int64_t tiles = (H / 2) * (W / 2);
  return tiles >= 64 ? 1 : (64 + tiles - 1) / std::max<int64_t>(tiles, 1);
}

int64_t winograd3x3_packed_size(int64_t out, int64_t in) {
  return kPositions * ((out + kBlock - 1) / kBlock) * in * kBlock;
}

void pack_winograd3x3_weight(const float* w, int64_t OC, int64_t C, bool transpose_flip,
                             float* packed) {
  const int64_t out = transpose_flip ? C : OC, in = transpose_flip ? OC : C;
  const int64_t blocks = (out + kBlock - 1) / kBlock;
  const float G[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
  for (int64_t o = 0; o < blocks * kBlock; ++o)
    for (int64_t i = 0; i < in; ++i) {
      float g[3][3] = {};
      if (o < out)
        for (int t = 0; t < 9; ++t)
          g[t / 3][t % 3] = transpose_flip ? w[(i * C + o) * 9 + (8 - t)] : w[(o * C + i) * 9 + t];
      float Gg[4][3] = {};  // G g
      for (int r = 0; r < 4; ++r)
        for (int k = 0; k < 3; ++k)
          for (int l = 0; l < 3; ++l) Gg[r][k] += G[r][l] * g[l][k];
      for (int r = 0; r < 4; ++r)
        for (int s = 0; s < 4; ++s) {
          float u = 0;  // (G g G^T)[r][s]
          for (int k = 0; k < 3; ++k) u += Gg[r][k] * G[s][k];
          packed[(((r * 4 + s) * blocks + o / kBlock) * in + i) * kBlock + o % kBlock] = u;
        }
    }
}

void winograd3x3_weight_grad(const float* x, const float* dy, int64_t images, int64_t C,
                             int64_t H, int64_t W, int64_t OC, float* dw) {
  check(winograd3x3_available(H, W),
        "winograd3x3_weight_grad: needs AVX-512 and an image size whose tile rows fill "
        "vectors, got {}x{}",
        H, W);
#if defined(__x86_64__)
  const int64_t tiles_w = W / 2;
  if (tiles_w % kLanes == 0)
    winograd3x3_weight_grad_avx512<1>(x, dy, images, C, H, W, OC, dw);
  else if (tiles_w == 8)
    winograd3x3_weight_grad_avx512<2>(x, dy, images, C, H, W, OC, dw);
  else
    winograd3x3_weight_grad_avx512<4>(x, dy, images, C, H, W, OC, dw);
#else
  (void)x, (void)dy, (void)images, (void)C, (void)OC, (void)dw;
#endif
}

void winograd3x3(const float* x, int64_t images, int64_t C, int64_t H, int64_t W,
                 const float* packed, int64_t OC, const float* bias, float* y) {
  check(winograd3x3_available(H, W),
        "winograd3x3: needs AVX-512 and an image size whose tile rows fill vectors, got {}x{}",
        H, W);
#if defined(__x86_64__)
  const int64_t tiles_w = W / 2;
  if (tiles_w % kLanes == 0)
    winograd3x3_avx512<1>(x, images, C, H, W, packed, OC, bias, y);
  else if (tiles_w == 8)
    winograd3x3_avx512<2>(x, images, C, H, W, packed, OC, bias, y);
  else
    winograd3x3_avx512<4>(x, images, C, H, W, packed, OC, bias, y);
#else
  (void)x, (void)images, (void)C, (void)packed, (void)OC, (void)bias, (void)y;
#endif
}

}  // namespace tg::kernels
