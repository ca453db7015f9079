// 2-D FFTs. float32: KissFFT's n-d transform, one plan per call, one image at a time. float64
// (Debian's KissFFT is built for float only): the separable DFT as two real matrix products
// through dgemm, each complex twiddle a 2 x 2 real block, with a complex transpose between.
#include <tapegrad/core/fft.h>

#include <kissfft/kiss_fftnd.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include <tapegrad/core/error.h>
#include <tapegrad/core/kernels.h>

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
double scale_of(FftNorm norm, bool inverse, int64_t n) {
  if (norm == FftNorm::ortho) return 1 / std::sqrt(double(n));
  bool scaled = (norm == FftNorm::backward) == inverse;  // which direction carries 1/n
  return scaled ? 1 / double(n) : 1.0;
}

constexpr int64_t kMaxDftLength = 4096;  // the float64 path's largest H or W

struct PlanDeleter {
  void operator()(kiss_fftnd_state* p) const { kiss_fft_free(p); }
};

// The length-n DFT (exponent's sign + for the inverse) as a real [2n, 2n] matrix that
// multiplies interleaved (re, im) rows from the right: the twiddle c + i s of entry (j, k)
// becomes the block [[c, s], [-s, c]] (row 2j + {re, im} in, column 2k + {re, im} out).
// The angle comes from jk mod n, so it stays in [0, 2 pi) and exact to double's rounding.
std::vector<double> dft_matrix(int64_t n, bool inverse) {
  std::vector<double> m(size_t(4 * n * n));
  const double sign = inverse ? 1 : -1, two_pi = 2 * std::acos(-1.0);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t k = 0; k < n; ++k) {
      const double angle = sign * two_pi * double(j * k % n) / double(n);
      const double c = std::cos(angle), s = std::sin(angle);
      double* re_row = m.data() + (2 * j) * (2 * n) + 2 * k;
      double* im_row = re_row + 2 * n;
      re_row[0] = c, re_row[1] = s;
      im_row[0] = -s, im_row[1] = c;
    }
  return m;
}

// out [b, w, h] = in [b, h, w] for complex elements (pairs of doubles).
void transpose_complex(const double* in, double* out, int64_t batch, int64_t h, int64_t w) {
  for (int64_t b = 0; b < batch; ++b, in += 2 * h * w, out += 2 * h * w)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        out[2 * (j * h + i)] = in[2 * (i * w + j)];
        out[2 * (j * h + i) + 1] = in[2 * (i * w + j) + 1];
      }
}

// y = scale F_H x F_W for each of `batch` images [h, w] of interleaved complex doubles: the
// rows times F_W in one product, a transpose, the (former) columns times F_H, transpose back.
void dft2_double(const double* x, double* y, int64_t batch, int64_t h, int64_t w, bool inverse,
                 double scale) {
  const std::vector<double> fw = dft_matrix(w, inverse);
  const std::vector<double> fh = h == w ? fw : dft_matrix(h, inverse);
  std::vector<double> a(size_t(2 * batch * h * w)), b(a.size());
  gemm(false, false, batch * h, 2 * w, 2 * w, 1.0, x, 2 * w, fw.data(), 2 * w, 0.0, a.data(),
       2 * w);
  transpose_complex(a.data(), b.data(), batch, h, w);
  gemm(false, false, batch * w, 2 * h, 2 * h, scale, b.data(), 2 * h, fh.data(), 2 * h, 0.0,
       a.data(), 2 * h);
  transpose_complex(a.data(), y, batch, w, h);
}

}  // namespace

TensorBase fft2(const TensorBase& x, bool inverse, FftNorm norm, const char* op) {
  const Shape& s = x.shape();
  check(s.size() >= 3 && s[s.size() - 1] == 2,
        "{}: expected complex data as [..., H, W, 2] (a trailing dim of 2 holding re and im), "
        "got shape {}", op, s);
  const int64_t h = s[s.size() - 3], w = s[s.size() - 2];
  check(h > 0 && w > 0, "{}: the transformed dims must not be empty, got shape {}", op, s);
  check(h <= (1 << 30) && w <= (1 << 30), "{}: dims too large for KissFFT in shape {}", op, s);
  dispatch_floating(x.dtype(), op, [](auto) {});  // int64: an error naming the op
  TensorBase in = contiguous(x);
  TensorBase y = empty(s, x.dtype());
  const int64_t plane = h * w, batch = x.numel() / (2 * plane);
  if (batch == 0) return y;
  if (x.dtype() == kFloat64) {
    // Its twiddle matrices take 32 n^2 bytes per dim: 512 MiB at n = 4096.
    check(h <= kMaxDftLength && w <= kMaxDftLength,
          "{}: float64 transforms are DFTs by matrix products, at most {} per dim, got shape {}; "
          "hint: transform in float32 (KissFFT) for sizes this large", op, kMaxDftLength, s);
    dft2_double(in.data_ptr<double>(), y.data_ptr<double>(), batch, h, w, inverse,
                scale_of(norm, inverse, plane));
    return y;
  }

  const int dims[2] = {int(h), int(w)};
  std::unique_ptr<kiss_fftnd_state, PlanDeleter> plan(
      kiss_fftnd_alloc(dims, 2, inverse ? 1 : 0, nullptr, nullptr));
  check(plan != nullptr, "{}: KissFFT could not allocate a plan for {} x {}", op, h, w);
  // Copies in and out of kiss_fft_cpx buffers: no aliasing of float[2] as a struct.
  std::vector<kiss_fft_cpx> src(static_cast<size_t>(plane)), dst(static_cast<size_t>(plane));
  const float scale = float(scale_of(norm, inverse, plane));
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
