// 2-D FFTs through KissFFT's n-d transform, one plan per call, one image at a time.
#include <tapegrad/core/fft.h>

#include <kissfft/kiss_fftnd.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include <tapegrad/core/error.h>

namespace tg::kernels {

FftNorm parse_fft_norm(std::string_view norm, const char* op) {
  if (norm == "backward") return FftNorm::backward;
  if (norm == "forward") return FftNorm::forward;
  if (norm == "ortho") return FftNorm::ortho;
  fail("{}: norm must be \"backward\", \"forward\" or \"ortho\", got \"{}\"", op, norm);
}

FftNorm dual_fft_norm(FftNorm norm) {
  if (norm == FftNorm::backward) return FftNorm::forward;
  if (norm == FftNorm::forward) return FftNorm::backward;
  return FftNorm::ortho;
}

namespace {

// The factor the unscaled transform is multiplied by.
float scale_of(FftNorm norm, bool inverse, int64_t n) {
  if (norm == FftNorm::ortho) return float(1 / std::sqrt(double(n)));
  bool scaled = (norm == FftNorm::backward) == inverse;  // which direction carries 1/n
  return scaled ? float(1 / double(n)) : 1.f;
}

struct PlanDeleter {
  void operator()(kiss_fftnd_state* p) const { kiss_fft_free(p); }
};

}  // namespace

TensorBase fft2(const TensorBase& x, bool inverse, FftNorm norm, const char* op) {
  const Shape& s = x.shape();
  check(s.size() >= 3 && s[s.size() - 1] == 2,
        "{}: expected complex data as [..., H, W, 2] (a trailing dim of 2 holding re and im), "
        "got shape {}", op, s);
  const int64_t h = s[s.size() - 3], w = s[s.size() - 2];
  check(h > 0 && w > 0, "{}: the transformed dims must not be empty, got shape {}", op, s);
  check(h <= (1 << 30) && w <= (1 << 30), "{}: dims too large for KissFFT in shape {}", op, s);
  TensorBase in = contiguous(x);
  TensorBase y = empty(s);
  const int64_t plane = h * w, batch = x.numel() / (2 * plane);
  if (batch == 0) return y;

  const int dims[2] = {int(h), int(w)};
  std::unique_ptr<kiss_fftnd_state, PlanDeleter> plan(
      kiss_fftnd_alloc(dims, 2, inverse ? 1 : 0, nullptr, nullptr));
  check(plan != nullptr, "{}: KissFFT could not allocate a plan for {} x {}", op, h, w);
  // Copies in and out of kiss_fft_cpx buffers: no aliasing of float[2] as a struct.
  std::vector<kiss_fft_cpx> src(static_cast<size_t>(plane)), dst(static_cast<size_t>(plane));
  const float scale = scale_of(norm, inverse, plane);
  for (int64_t b = 0; b < batch; ++b) {
    const float* xi = in.data() + b * plane * 2;
    float* yo = y.data() + b * plane * 2;
    std::memcpy(src.data(), xi, size_t(plane) * sizeof(kiss_fft_cpx));
    kiss_fftnd(plan.get(), src.data(), dst.data());
    for (int64_t i = 0; i < plane; ++i) {
      yo[2 * i] = dst[size_t(i)].r * scale;
      yo[2 * i + 1] = dst[size_t(i)].i * scale;
    }
  }
  return y;
}

}  // namespace tg::kernels
