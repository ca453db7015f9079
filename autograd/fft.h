// Differentiable 2-D FFTs and the complex helpers around them, in float32 or float64. tapegrad has
// no complex dtype, so complex data is stored as PyTorch's torch.view_as_real lays it out: a
// trailing dim of 2 holding the real and imaginary parts ([..., H, W, 2] is an [..., H, W] complex
// image). Deviations from torch.fft.fft2: the input and output are in that real layout
// (torch.fft.fft2 takes and returns complex tensors), the transform is always over the two dims
// before the trailing 2 (no `s` or `dim` arguments), and a real image is made complex explicitly
// with complex(re, zeros_like(re)). `norm` is PyTorch's, default "backward". Forward, backward and
// tangent rules: autograd/ops_fft.cpp; the kernel: core/fft.h (KissFFT for float32; for float64 a
// DFT by matrix products, O(H + W) per element: see there).
#pragma once

#include <string_view>

#include <tapegrad/autograd/tensor.h>

namespace tg {

/// The 2-D DFT of x [..., H, W, 2] (complex as a trailing 2) over H and W: [..., H, W, 2].
/// norm: "backward" (unscaled, PyTorch's default), "forward" (1/(H W)) or "ortho"
/// (1/sqrt(H W): unitary, so ifft2 is also its adjoint). torch.fft.fft2 on view_as_real data.
Tensor fft2(const Tensor& x, std::string_view norm = "backward");
/// The inverse 2-D DFT of x [..., H, W, 2]; ifft2(fft2(x, n), n) == x for every norm n.
/// torch.fft.ifft2 on view_as_real data.
Tensor ifft2(const Tensor& x, std::string_view norm = "backward");
/// The complex tensor re + i im as [..., 2] from two real tensors of one shape. torch.complex
/// followed by torch.view_as_real.
Tensor complex(const Tensor& re, const Tensor& im);
/// |z| = sqrt(re^2 + im^2) of x [..., 2]: shape [...]. Its gradient at z = 0 is 0 (as
/// torch.abs of a complex tensor). torch.abs(torch.view_as_complex(x)).
Tensor complex_abs(const Tensor& x);

}  // namespace tg
