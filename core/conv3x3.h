// A direct 3x3 convolution with stride 1 and padding 1 (the shape of every convolution inside a
// ResNet's basic blocks), for one image, without im2col. Output pixels are taken 16 at a time in
// flattened (h, w) order: the input under output pixel p for tap (kh, kw) is x[p + (kh-1) W +
// (kw-1)], one constant offset per tap, so each tap is one masked vector load (the mask zeroes
// the lanes that fall into the padding or past the image), shared by a block of 8 output
// channels held in registers. Nothing is copied: im2col + GEMM wrote, packed and re-read a 9x
// larger matrix, which cost more than the multiply-adds on ResNet's thin shapes (M = 16-64).
// The same kernel computes the input gradient of such a convolution: dx = conv3x3(dy, w') with
// w' the transposed, flipped weight (pack_conv3x3_weight's `transpose_flip`).
// AVX-512 only: conv3x3_available() says whether it runs at the current cpu::capability();
// callers keep the im2col path for the other levels and shapes.
#pragma once

#include <cstdint>

namespace tg::kernels {

/// True when conv3x3 runs at the level in use (AVX-512).
bool conv3x3_available();

/// Floats of the packed weight of a conv with `out` output and `in` input channels.
int64_t conv3x3_packed_size(int64_t out, int64_t in);

/// Packs w [OC, C, 3, 3] as [ceil(OC / 8)][C][9][8] (the 8 output channels of a block side by
/// side, zeros past OC). With transpose_flip, packs the weight of the input gradient instead:
/// w'[c][oc][kh][kw] = w[oc][c][2 - kh][2 - kw], a conv from OC to C channels.
void pack_conv3x3_weight(const float* w, int64_t OC, int64_t C, bool transpose_flip,
                         float* packed);

/// y [OC, H, W] = (bias[oc] or 0) + sum over c and taps of w[oc, c, kh, kw] x[c, h+kh-1, w+kw-1]
/// (zero outside the image) for one image x [C, H, W], with the weight packed by
/// pack_conv3x3_weight. Requires conv3x3_available().
void conv3x3(const float* x, int64_t C, int64_t H, int64_t W, const float* packed, int64_t OC,
             const float* bias, float* y);

}  // namespace tg::kernels
