// The 2-D discrete Fourier transform of complex data stored as a trailing dim of 2 (PyTorch's
// view_as_real layout: [..., H, W, 2] holds re and im of an [..., H, W] complex array), over
// the two dims before it, for every index of the leading (batch) dims, in float32 or float64.
// float32: KissFFT (BSD, Debian's libkissfft-dev) computes the transforms, O(log(H W)) work per
// element. float64: Debian builds KissFFT for float only, so the transform is the separable DFT
// as two matrix products through dgemm (twiddles computed in double from jk mod n): real double
// precision, but O(H + W) work per element and 32 (H^2 + W^2) bytes of twiddle matrices, so it
// is meant for images up to about 1024 x 1024, not for large transforms (at most 4096 per dim).
// autograd/fft.h makes it differentiable.
#pragma once

#include <string_view>

#include <tapegrad/core/tensor_base.h>

namespace tg::kernels {

/// Scaling of a transform pair, PyTorch's `norm`: "backward" (forward unscaled, inverse by
/// 1/(H W)), "forward" (the other way round) or "ortho" (both by 1/sqrt(H W): unitary).
enum class FftNorm { backward, forward, ortho };

/// The FftNorm named by `norm`, or a tg::Error naming `op` and the value.
FftNorm parse_fft_norm(std::string_view norm, const char* op);

/// The norm whose inverse is the adjoint of this one's forward: backward <-> forward, ortho.
FftNorm dual_fft_norm(FftNorm norm);

/// y [..., H, W, 2] = the 2-D DFT of x [..., H, W, 2] over H and W (inverse: the exponent's
/// sign flipped), scaled as `norm` says, in x's dtype. Errors name `op`: fewer than 3 dims, a
/// trailing dim other than 2, an empty H or W, an int64 x, a float64 H or W above 4096.
TensorBase fft2(const TensorBase& x, bool inverse, FftNorm norm, const char* op);

}  // namespace tg::kernels
