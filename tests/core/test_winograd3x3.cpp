// The Winograd F(2x2, 3x3) kernel (core/winograd3x3.h) against a plain double-precision loop
// over the definition of a padding-1 cross-correlation, on every image size class it accepts
// (W = 8, 16, 32, 64; several images per call, so tile vectors cross image boundaries' tile
// rows), channel counts that are not multiples of its block of 8, bias or none, and the
// transposed-flipped packing of the input gradient. Which sizes it accepts is checked too.
#include <cmath>
#include <random>
#include <vector>

#include <tapegrad/core/cpu.h>
#include <tapegrad/core/winograd3x3.h>
#include "tests/test_util.h"

using namespace tg;

namespace {

// y[n][o][h][w] = bias[o] + sum_{c,kh,kw} w[o][c][kh][kw] x[n][c][h+kh-1][w+kw-1], in double.
std::vector<double> reference(const std::vector<float>& x, int64_t N, int64_t C, int64_t H,
                              int64_t W, const std::vector<float>& w, int64_t OC,
                              const float* bias) {
  std::vector<double> y(size_t(N * OC * H * W));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < OC; ++o)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t q = 0; q < W; ++q) {
          double sum = bias ? bias[o] : 0.0;
          for (int64_t c = 0; c < C; ++c)
            for (int64_t kh = 0; kh < 3; ++kh)
              for (int64_t kw = 0; kw < 3; ++kw) {
                const int64_t ih = h + kh - 1, iw = q + kw - 1;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                sum += double(w[size_t(((o * C + c) * 3 + kh) * 3 + kw)]) *
                       x[size_t(((n * C + c) * H + ih) * W + iw)];
              }
          y[size_t(((n * OC + o) * H + h) * W + q)] = sum;
        }
  return y;
}

}  // namespace

TEST_CASE("winograd3x3: accepts the sizes whose tile rows fill vectors, at AVX-512 only") {
  if (cpu::capability() != cpu::Capability::avx512) {
    CHECK_FALSE(kernels::winograd3x3_available(32, 32));
    return;
  }
  CHECK(kernels::winograd3x3_available(32, 32));
  CHECK(kernels::winograd3x3_available(2, 32));   // one tile row of 16 tiles
  CHECK(kernels::winograd3x3_available(4, 16));   // two tile rows of 8
  CHECK(kernels::winograd3x3_available(8, 8));    // four tile rows of 4
  CHECK(kernels::winograd3x3_available(6, 64));
  CHECK_FALSE(kernels::winograd3x3_available(2, 16));   // one row of 8 tiles: half a vector
  CHECK_FALSE(kernels::winograd3x3_available(4, 8));
  CHECK_FALSE(kernels::winograd3x3_available(31, 32));  // odd
  CHECK_FALSE(kernels::winograd3x3_available(32, 24));  // 12 tiles per row
  CHECK_FALSE(kernels::winograd3x3_available(32, 4));
  CHECK(kernels::winograd3x3_group(32, 32) == 1);
  CHECK(kernels::winograd3x3_group(16, 16) == 1);
  CHECK(kernels::winograd3x3_group(8, 8) == 4);
  CHECK_THROWS_CONTAINING(
      kernels::winograd3x3(nullptr, 1, 1, 30, 30, nullptr, 1, nullptr, nullptr),
      "winograd3x3: needs AVX-512 and an image size whose tile rows fill vectors, got 30x30");
}

TEST_CASE("winograd3x3: forward and input-gradient packing agree with the definition") {
  if (cpu::capability() != cpu::Capability::avx512) return;
  std::mt19937 rng(17);
  std::normal_distribution<float> normal;
  struct Case {
    int64_t N, C, H, W, OC;
    bool bias;
  };
  const std::vector<Case> cases = {{1, 16, 32, 32, 16, true},  {2, 5, 8, 32, 11, false},
                                   {3, 13, 4, 16, 9, true},    {5, 3, 16, 8, 20, false},
                                   {4, 33, 8, 8, 64, true},    {1, 7, 6, 64, 3, true},
                                   {2, 1, 2, 32, 1, false}};
  for (const Case& k : cases) {
    for (bool transposed : {false, true}) {
      // The transposed packing convolves OC -> C channels with w'[c][o] = flip(w[o][c]).
      const int64_t in = transposed ? k.OC : k.C, out = transposed ? k.C : k.OC;
      INFO("[", k.N, ", ", in, ", ", k.H, ", ", k.W, "] -> ", out, ", bias ", k.bias,
           ", transpose_flip ", transposed);
      std::vector<float> x(static_cast<size_t>(k.N * in * k.H * k.W));
      std::vector<float> w(static_cast<size_t>(k.OC * k.C * 9));
      std::vector<float> bias(static_cast<size_t>(out));
      for (float& v : x) v = normal(rng);
      for (float& v : w) v = normal(rng);
      for (float& v : bias) v = normal(rng);
      // The weight the reference convolves with: w itself or its transposed flip.
      std::vector<float> effective(w.size());
      for (int64_t o = 0; o < out; ++o)
        for (int64_t i = 0; i < in; ++i)
          for (int t = 0; t < 9; ++t)
            effective[size_t((o * in + i) * 9 + t)] =
                transposed ? w[size_t((i * k.C + o) * 9 + 8 - t)] : w[size_t((o * in + i) * 9 + t)];
      std::vector<float> packed(size_t(kernels::winograd3x3_packed_size(out, in)));
      kernels::pack_winograd3x3_weight(w.data(), k.OC, k.C, transposed, packed.data());
      std::vector<float> y(size_t(k.N * out * k.H * k.W), NAN);
      const float* b = k.bias ? bias.data() : nullptr;
      kernels::winograd3x3(x.data(), k.N, in, k.H, k.W, packed.data(), out, b, y.data());
      const std::vector<double> want = reference(x, k.N, in, k.H, k.W, effective, out, b);
      // The transforms' adds and halvings cost some float32 roundings: measured up to 2.2e-5
      // relative to max(1, |y|) at 64 input channels (a wrong tap or tile is off by O(1)).
      int64_t wrong = 0;  // a NaN (an output never written) counts as wrong too
      for (size_t e = 0; e < y.size(); ++e)
        if (!(std::abs(y[e] - want[e]) <= 1e-4 * std::max(1.0, std::abs(want[e])))) ++wrong;
      CHECK(wrong == 0);
    }
  }
}

TEST_CASE("winograd3x3: the weight gradient agrees with the definition and accumulates") {
  if (cpu::capability() != cpu::Capability::avx512) return;
  std::mt19937 rng(19);
  std::normal_distribution<float> normal;
  struct Case {
    int64_t N, C, H, W, OC;
  };
  // Groups of 1 (32 x 32), 4 (16 x 16) and 16 (8 x 8) images, the last group short; channel
  // counts past the kernel's blocks of 4.
  const std::vector<Case> cases = {{2, 16, 32, 32, 16}, {5, 7, 16, 16, 10}, {19, 9, 8, 8, 6},
                                   {3, 1, 4, 16, 3},    {1, 5, 2, 64, 2}};
  for (const Case& k : cases) {
    INFO("[", k.N, ", ", k.C, ", ", k.H, ", ", k.W, "] -> ", k.OC);
    std::vector<float> x(static_cast<size_t>(k.N * k.C * k.H * k.W));
    std::vector<float> dy(static_cast<size_t>(k.N * k.OC * k.H * k.W));
    std::vector<float> dw(static_cast<size_t>(k.OC * k.C * 9));
    for (float& v : x) v = normal(rng);
    for (float& v : dy) v = normal(rng);
    for (float& v : dw) v = normal(rng);  // accumulated onto, as the kernel promises
    std::vector<double> want(dw.begin(), dw.end());
    for (int64_t n = 0; n < k.N; ++n)
      for (int64_t o = 0; o < k.OC; ++o)
        for (int64_t c = 0; c < k.C; ++c)
          for (int64_t t = 0; t < 9; ++t)
            for (int64_t h = 0; h < k.H; ++h)
              for (int64_t q = 0; q < k.W; ++q) {
                const int64_t ih = h + t / 3 - 1, iw = q + t % 3 - 1;
                if (ih < 0 || ih >= k.H || iw < 0 || iw >= k.W) continue;
                want[size_t((o * k.C + c) * 9 + t)] +=
                    double(dy[size_t(((n * k.OC + o) * k.H + h) * k.W + q)]) *
                    x[size_t(((n * k.C + c) * k.H + ih) * k.W + iw)];
              }
    kernels::winograd3x3_weight_grad(x.data(), dy.data(), k.N, k.C, k.H, k.W, k.OC, dw.data());
    // Sums of up to 19 x 64 products: relative to max(1, |dw|) (sqrt(1216) ~ 35 typical).
    int64_t wrong = 0;
    for (size_t e = 0; e < dw.size(); ++e)
      if (!(std::abs(dw[e] - want[e]) <= 1e-4 * std::max(1.0, std::abs(want[e])))) ++wrong;
    CHECK(wrong == 0);
  }
}
