// FGP (Beck & Teboulle 2009) on each (H, W) slice, in double. The dual variables p (vertical
// differences, rows 0..H-2) and q (horizontal, columns 0..W-2) are stored as full H x W arrays
// whose last row of p and last column of q stay 0, so the border needs no special case.
#include <tapegrad/optim/prox_tv.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <tapegrad/core/error.h>

namespace tg::optim {
namespace {

struct Slice {
  int64_t h, w;
  // L(p, q)[i,j] = p[i,j] + q[i,j] - p[i-1,j] - q[i,j-1]: the adjoint of the differences.
  void divergence(const std::vector<double>& p, const std::vector<double>& q,
                  std::vector<double>& out) const {
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        int64_t k = i * w + j;
        out[k] = p[k] + q[k] - (i > 0 ? p[k - w] : 0) - (j > 0 ? q[k - 1] : 0);
      }
  }
  // (p, q) <- P_P((p, q) + step L^T(x)), L^T(x) = (x[i,j] - x[i+1,j], x[i,j] - x[i,j+1]);
  // P_P scales each pair into the unit disc.
  void ascend_and_project(const std::vector<double>& x, double step, std::vector<double>& p,
                          std::vector<double>& q) const {
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        int64_t k = i * w + j;
        double a = i + 1 < h ? p[k] + step * (x[k] - x[k + w]) : 0;
        double b = j + 1 < w ? q[k] + step * (x[k] - x[k + 1]) : 0;
        double scale = std::max(1.0, std::sqrt(a * a + b * b));
        p[k] = a / scale;
        q[k] = b / scale;
      }
  }
};

// x = P_C(v - lambda L(p, q)).
void primal(const Slice& s, const double* v, double lambda, const std::vector<double>& p,
            const std::vector<double>& q, std::optional<float> lower, std::vector<double>& x) {
  s.divergence(p, q, x);
  for (size_t k = 0; k < x.size(); ++k) {
    x[k] = v[k] - lambda * x[k];
    if (lower) x[k] = std::max(x[k], double(*lower));
  }
}

void fgp(const Slice& s, const double* v, double lambda, const ProxTVOptions& options,
         double* out) {
  // (p, q): the dual iterate; (r, u): the extrapolated point the step is taken from.
  const size_t n = size_t(s.h * s.w);
  std::vector<double> p(n, 0), q(n, 0), r(n, 0), u(n, 0), p_new(n), q_new(n), x(n);
  double t = 1;
  for (int64_t k = 0; k < options.iterations; ++k) {
    primal(s, v, lambda, r, u, options.lower, x);
    p_new = r;
    q_new = u;
    s.ascend_and_project(x, 1 / (8 * lambda), p_new, q_new);
    double t_next = (1 + std::sqrt(1 + 4 * t * t)) / 2, momentum = (t - 1) / t_next;
    for (size_t i = 0; i < n; ++i) {
      r[i] = p_new[i] + momentum * (p_new[i] - p[i]);
      u[i] = q_new[i] + momentum * (q_new[i] - q[i]);
    }
    p.swap(p_new);
    q.swap(q_new);
    t = t_next;
  }
  primal(s, v, lambda, p, q, options.lower, x);
  std::copy(x.begin(), x.end(), out);
}

}  // namespace

Tensor prox_tv(const Tensor& v, float weight, const ProxTVOptions& options) {
  check(v.dim() >= 2, "prox_tv: input must have shape (..., H, W), got {}", v.shape());
  check(std::isfinite(weight) && weight >= 0, "prox_tv: weight {} must be finite and >= 0", weight);
  check(options.iterations >= 1, "prox_tv: iterations {} must be >= 1", options.iterations);
  check(!options.lower || std::isfinite(*options.lower), "prox_tv: lower bound {} is not finite",
        options.lower.value_or(0));
  // In double whatever v's dtype (float32 values convert exactly); the result has v's dtype.
  dispatch_floating(v.dtype(), "prox_tv", [](auto) {});  // int64: an error
  const std::vector<double> data = v.to_vector<double>();
  for (size_t i = 0; i < data.size(); ++i)
    check(std::isfinite(data[i]), "prox_tv: input {} has a non-finite value {} at element {}",
          v.shape(), data[i], i);

  std::vector<double> out(data.size());
  const Slice s{v.size(-2), v.size(-1)};
  const int64_t area = s.h * s.w;
  for (int64_t c = 0; area > 0 && c < int64_t(data.size()) / area; ++c) {
    const double* src = data.data() + c * area;
    double* dst = out.data() + c * area;
    if (weight == 0) {
      for (int64_t i = 0; i < area; ++i)
        dst[i] = options.lower ? std::max(src[i], double(*options.lower)) : src[i];
    } else {
      fgp(s, src, weight, options, dst);
    }
  }
  return tensor(out, v.shape(), {.dtype = v.dtype()});
}

double total_variation(const Tensor& x) {
  check(x.dim() >= 2, "total_variation: input must have shape (..., H, W), got {}", x.shape());
  std::vector<double> v = x.to_vector<double>();
  const int64_t h = x.size(-2), w = x.size(-1), area = h * w;
  double tv = 0;
  for (int64_t c = 0; area > 0 && c < int64_t(v.size()) / area; ++c) {
    const double* a = v.data() + c * area;
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        double dy = i + 1 < h ? a[i * w + j] - a[(i + 1) * w + j] : 0;
        double dx = j + 1 < w ? a[i * w + j] - a[i * w + j + 1] : 0;
        tv += std::sqrt(dy * dy + dx * dx);
      }
  }
  return tv;
}

}  // namespace tg::optim
