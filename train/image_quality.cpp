// PSNR and SSIM in double precision on the images' row-major values. SSIM filters five maps
// (x, y, x^2, y^2, xy) with the separable Gaussian window, valid region only.
#include <tapegrad/train/image_quality.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <tapegrad/core/error.h>

namespace tg::train {
namespace {

constexpr int kWindow = 11;
constexpr double kSigma = 1.5, kK1 = 0.01, kK2 = 0.03;

// The values of a finite image (of any dtype: float64 keeps every digit), checked against the
// other's shape.
std::vector<double> values(const char* op, const char* which, const Tensor& t) {
  std::vector<double> v = t.to_vector<double>();
  check(!v.empty(), "{}: the {} is empty (shape {})", op, which, t.shape());
  for (size_t i = 0; i < v.size(); ++i)
    check(std::isfinite(v[i]), "{}: the {} has a non-finite value {} at element {}", op, which,
          v[i], i);
  return v;
}

// L: the given data_range, or the reference's max - min.
double range_of(const char* op, const std::vector<double>& reference, std::optional<double> given) {
  if (given) {
    check(std::isfinite(*given) && *given > 0, "{}: data_range {} must be finite and > 0", op,
          *given);
    return *given;
  }
  auto [lo, hi] = std::minmax_element(reference.begin(), reference.end());
  check(*hi > *lo,
        "{}: the reference is constant ({}), so data_range cannot default to its "
        "max - min; pass data_range",
        op, *lo);
  return *hi - *lo;
}

// The normalised 1-D Gaussian; the 2-D window is its outer product with itself.
std::vector<double> gaussian_1d() {
  std::vector<double> g(kWindow);
  double sum = 0;
  for (int i = 0; i < kWindow; ++i) {
    double d = i - kWindow / 2;
    sum += g[i] = std::exp(-d * d / (2 * kSigma * kSigma));
  }
  for (double& v : g) v /= sum;
  return g;
}

// The valid-region Gaussian filtering of an h x w map: (h - 10) x (w - 10).
std::vector<double> filter(const std::vector<double>& a, int64_t h, int64_t w,
                           const std::vector<double>& g) {
  const int64_t oh = h - kWindow + 1, ow = w - kWindow + 1;
  std::vector<double> rows(size_t(h * ow)), out(size_t(oh * ow));
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < ow; ++j) {
      double s = 0;
      for (int k = 0; k < kWindow; ++k) s += g[k] * a[i * w + j + k];
      rows[i * ow + j] = s;
    }
  for (int64_t i = 0; i < oh; ++i)
    for (int64_t j = 0; j < ow; ++j) {
      double s = 0;
      for (int k = 0; k < kWindow; ++k) s += g[k] * rows[(i + k) * ow + j];
      out[i * ow + j] = s;
    }
  return out;
}

}  // namespace

double psnr(const Tensor& estimate, const Tensor& reference, std::optional<double> data_range) {
  check(estimate.shape() == reference.shape(),
        "psnr: the estimate's shape {} differs from the reference's {}", estimate.shape(),
        reference.shape());
  std::vector<double> x = values("psnr", "estimate", estimate);
  std::vector<double> y = values("psnr", "reference", reference);
  double L = range_of("psnr", y, data_range);
  double sq = 0;
  for (size_t i = 0; i < x.size(); ++i) sq += (x[i] - y[i]) * (x[i] - y[i]);
  if (sq == 0) return std::numeric_limits<double>::infinity();
  return 10 * std::log10(L * L / (sq / double(x.size())));
}

double ssim(const Tensor& estimate, const Tensor& reference, std::optional<double> data_range) {
  check(estimate.shape() == reference.shape(),
        "ssim: the estimate's shape {} differs from the reference's {}", estimate.shape(),
        reference.shape());
  check(reference.dim() == 2, "ssim: images must be 2-D (H, W), got shape {}", reference.shape());
  const int64_t h = reference.size(0), w = reference.size(1);
  check(h >= kWindow && w >= kWindow, "ssim: image {} is smaller than the {} x {} Gaussian window",
        reference.shape(), kWindow, kWindow);
  std::vector<double> x = values("ssim", "estimate", estimate);
  std::vector<double> y = values("ssim", "reference", reference);
  const double L = range_of("ssim", y, data_range);
  const double c1 = (kK1 * L) * (kK1 * L), c2 = (kK2 * L) * (kK2 * L);

  std::vector<double> xx(x.size()), yy(x.size()), xy(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    xx[i] = x[i] * x[i];
    yy[i] = y[i] * y[i];
    xy[i] = x[i] * y[i];
  }
  const std::vector<double> g = gaussian_1d();
  std::vector<double> mx = filter(x, h, w, g), my = filter(y, h, w, g);
  std::vector<double> exx = filter(xx, h, w, g), eyy = filter(yy, h, w, g),
                      exy = filter(xy, h, w, g);
  double sum = 0;
  for (size_t i = 0; i < mx.size(); ++i) {
    double vx = exx[i] - mx[i] * mx[i], vy = eyy[i] - my[i] * my[i];
    double cxy = exy[i] - mx[i] * my[i];
    sum += ((2 * mx[i] * my[i] + c1) * (2 * cxy + c2)) /
           ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2));
  }
  return sum / double(mx.size());
}

}  // namespace tg::train
