// The 2-D discrete Fourier transform of complex data stored as a trailing dim of 2 (PyTorch's
// view_as_real layout: [..., H, W, 2] holds re and im of an [..., H, W] complex array), over
// the two dims before it, for every index of the leading (batch) dims. KissFFT (BSD, Debian's
// libkissfft-dev) computes the transforms; this file only validates, copies and scales.
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
/// sign flipped), scaled as `norm` says. Errors name `op`: fewer than 3 dims, a trailing dim
/// other than 2, an empty H or W.
TensorBase fft2(const TensorBase& x, bool inverse, FftNorm norm, const char* op);

}  // namespace tg::kernels
