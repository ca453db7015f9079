// fft2 / ifft2 and complex_abs: forward, backward closure and tangent rule side by side.
//
// Why the backward of a DFT is another DFT: y = F x is complex-linear; stored as real pairs
// (the trailing 2) it is a real-linear map, and its VJP is that map's real transpose. For a
// complex-linear map the real transpose is the conjugate transpose F^H, and the conjugate
// transpose of the DFT is the DFT with the exponent's sign flipped and the same factor:
//   F = c e^{-2 pi i (jk/H + lm/W)}  =>  F^H = c e^{+2 pi i (...)} = (the inverse with factor c).
// So the VJP of fft2 with a norm is ifft2 with the norm that puts the same factor on the
// inverse (backward <-> forward; ortho stays: F is unitary, F^H = F^-1). Both closures are
// the ops themselves, hence differentiable again; the tangent rule is the op (it is linear).
#include <tapegrad/autograd/fft.h>

#include <cmath>

#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/error.h>
#include <tapegrad/core/fft.h>

namespace tg {

namespace {

Tensor transform(const Tensor& x, bool inverse, kernels::FftNorm norm) {
  const char* op = inverse ? "ifft2" : "fft2";
  Tensor y = kernels::fft2(x, inverse, norm, op);
  // dL/dx = F^H dL/dy: the opposite transform with the dual norm (see the file comment).
  record(op, y, {x}, [inverse, norm](const Tensor& gy) {
    return grads(transform(gy, !inverse, kernels::dual_fft_norm(norm)));
  });
  // dy = F dx
  record_tangent(y, {x}, [&](const Tensor& t) { return transform(t, inverse, norm); });
  return y;
}

}  // namespace

Tensor fft2(const Tensor& x, std::string_view norm) {
  return transform(x, false, kernels::parse_fft_norm(norm, "fft2"));
}

Tensor ifft2(const Tensor& x, std::string_view norm) {
  return transform(x, true, kernels::parse_fft_norm(norm, "ifft2"));
}

Tensor complex(const Tensor& re, const Tensor& im) {
  check(re.shape() == im.shape(), "complex: the real part has shape {} but the imaginary part {}",
        re.shape(), im.shape());
  return stack({re, im}, -1);
}

// y = |z| = sqrt(a^2 + b^2) for z = (a, b).   dy/da = a / |z|, dy/db = b / |z| (0 at z = 0)
Tensor complex_abs(const Tensor& x) {
  check(x.dim() >= 1 && x.size(-1) == 2,
        "complex_abs: expected complex data as [..., 2] (re, im), got shape {}", x.shape());
  Tensor xc = kernels::contiguous(x);
  Shape shape = x.shape();
  shape.erase(shape.size() - 1);
  Tensor y = empty(shape, {.dtype = x.dtype()});
  dispatch_floating(x.dtype(), "complex_abs", [&]<typename T>(std::type_identity<T>) {
    const T* p = xc.data_ptr<T>();
    T* out = y.data_ptr<T>();
    for (int64_t i = 0; i < y.numel(); ++i)
      out[i] = std::sqrt(p[2 * i] * p[2 * i] + p[2 * i + 1] * p[2 * i + 1]);
  });
  // |z| with 1 where it is 0: there z = 0 too, so z / safe (the gradient's direction) is 0.
  auto safe = [](const Tensor& r) { return r + r.eq(zeros({}, {.dtype = r.dtype()})); };
  record("complex_abs", y, {x}, [x, y0 = SavedOutput(y), safe](const Tensor& gy) {
    return grads(x * (gy / safe(y0.get())).unsqueeze(-1));
  }).saves(x, y);
  record_tangent(y, {x}, [&](const Tensor& t) { return (x * t).sum({-1}) / safe(y); });
  return y;
}

}  // namespace tg
