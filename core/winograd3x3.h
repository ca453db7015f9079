// A Winograd F(2x2, 3x3) convolution (Lavin and Gray 2016, "Fast Algorithms for Convolutional
// Neural Networks") for 3x3 kernels with stride 1 and padding 1: every 2x2 block of outputs
// ("tile") comes from a 4x4 block of input as
//   Y = A^T [ sum over c of (G g G^T) (.) (B^T d B) ] A
// so the multiply-adds are 16 per tile, input and output channel instead of direct
// convolution's 36: 2.25x fewer. They form 16 independent GEMMs (one per position of the 4x4
// transformed tile), M[pos] [OC, tiles] = U[pos] [OC, C] . V[pos] [C, tiles], run with the
// direct kernel's register blocking (8 output channels x 32 tiles of accumulators). The
// transforms are adds only, with 16 tiles per vector: the 4x4 inputs of 16 neighbouring tiles
// come from two loads of a row and an even/odd shuffle, and the 2x2 outputs go back the same
// way, so no gather or scatter is needed.
//
// What it costs in accuracy: the transforms add and halve, so results differ from direct
// convolution by a few float32 roundings (relative error ~1e-6 on ResNet's shapes; tested
// against the im2col path). The same kernel computes the input gradient of such a convolution,
// with the weight packed by `transpose_flip` (as conv3x3.h). AVX-512 only, and only for image
// sizes whose tile rows fill vectors (winograd3x3_available): W = 8, 16 or a multiple of 32 and
// H a multiple of 16 / (W / 2) (even when W >= 32) -- the CIFAR ResNets' 32, 16 and 8. Other
// shapes and CPUs keep the direct kernel.
#pragma once

#include <cstdint>

namespace tg::kernels {

/// True when winograd3x3 runs for H x W images at the current CPU level.
bool winograd3x3_available(int64_t H, int64_t W);

/// Images per winograd3x3 call that give its GEMMs at least 64 tiles (1 for 16 x 16 and
/// larger images, 4 for 8 x 8).
int64_t winograd3x3_group(int64_t H, int64_t W);

/// Floats of the packed (transformed) weight of a conv with `out` output and `in` input
/// channels.
int64_t winograd3x3_packed_size(int64_t out, int64_t in);

/// Transforms w [OC, C, 3, 3] to U = G w G^T, packed as [16][ceil(out / 8)][in][8] (the 8
/// output channels of a block side by side, zeros past `out`). With transpose_flip, packs the
/// weight of the input gradient instead: w'[c][oc][kh][kw] = w[oc][c][2 - kh][2 - kw], a conv
/// from OC to C channels.
void pack_winograd3x3_weight(const float* w, int64_t OC, int64_t C, bool transpose_flip,
                             float* packed);

/// y [images, OC, H, W] = (bias[oc] or 0) + conv(x, w) with padding 1, for x [images, C, H, W]
/// and the weight packed by pack_winograd3x3_weight. Requires winograd3x3_available(H, W).
void winograd3x3(const float* x, int64_t images, int64_t C, int64_t H, int64_t W,
                 const float* packed, int64_t OC, const float* bias, float* y);

/// dw [OC, C, 3, 3] += the weight gradient of that convolution for images x [images, C, H, W]
/// and dy [images, OC, H, W]: G^T [sum over tiles of (A dy A^T) (.) (B^T x B)] G, one GEMM per
/// position with the tiles as the long inner dimension. Requires winograd3x3_available(H, W).
void winograd3x3_weight_grad(const float* x, const float* dy, int64_t images, int64_t C,
                             int64_t H, int64_t W, int64_t OC, float* dw);

}  // namespace tg::kernels
