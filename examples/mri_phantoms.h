// The data of examples/mri_reconstruction.cpp: Shepp-Logan's head phantom and random phantoms
// like it (ellipses of additive intensity), and Cartesian undersampling masks of k-space (a
// fully sampled band of low frequencies plus random columns).
#pragma once

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include <tapegrad/tapegrad.h>

namespace mri {

using tg::Generator;
using tg::Tensor;

/// An ellipse of the phantom: added intensity, semi-axes a (x) and b (y), centre, rotation.
struct Ellipse {
  float intensity, a, b, x0, y0, degrees;
};

/// An n x n image of the sum of the ellipses' intensities over [-1, 1]^2 (y up), clamped to
/// [0, 1]; each pixel averages 2 x 2 samples, so edges are slightly smooth as in a scan.
inline Tensor render(const std::vector<Ellipse>& ellipses, int64_t n) {
  std::vector<float> img(size_t(n * n), 0.f);
  std::vector<std::pair<float, float>> rotation;  // cos and sin of each ellipse's angle
  for (const Ellipse& e : ellipses) {
    float t = e.degrees * std::numbers::pi_v<float> / 180;
    rotation.emplace_back(std::cos(t), std::sin(t));
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float sum = 0;
      for (int s = 0; s < 4; ++s) {
        float y = 1 - 2 * (float(i) + 0.25f + 0.5f * float(s / 2)) / float(n);
        float x = -1 + 2 * (float(j) + 0.25f + 0.5f * float(s % 2)) / float(n);
        float v = 0;
        for (size_t k = 0; k < ellipses.size(); ++k) {
          const Ellipse& e = ellipses[k];
          auto [c, si] = rotation[k];
          float u = ((x - e.x0) * c + (y - e.y0) * si) / e.a;
          float w = (-(x - e.x0) * si + (y - e.y0) * c) / e.b;
          if (u * u + w * w <= 1) v += e.intensity;
        }
        sum += std::clamp(v, 0.f, 1.f);
      }
      img[size_t(i * n + j)] = sum / 4;
    }
  return tg::tensor(img, {n, n});
}

/// The modified Shepp-Logan phantom (Toft's contrast-enhanced values), n x n.
inline Tensor shepp_logan(int64_t n) {
  return render({{1.0f, .69f, .92f, 0, 0, 0},
                 {-.8f, .6624f, .874f, 0, -.0184f, 0},
                 {-.2f, .11f, .31f, .22f, 0, -18},
                 {-.2f, .16f, .41f, -.22f, 0, 18},
                 {.1f, .21f, .25f, 0, .35f, 0},
                 {.1f, .046f, .046f, 0, .1f, 0},
                 {.1f, .046f, .046f, 0, -.1f, 0},
                 {.1f, .046f, .023f, -.08f, -.605f, 0},
                 {.1f, .023f, .023f, 0, -.606f, 0},
                 {.1f, .023f, .046f, .06f, -.605f, 0}},
                n);
}

/// A random head-like phantom: a bright skull ring around darker tissue, with 4 to 9 random
/// ellipses of +-0.1 to 0.4 inside (Shepp-Logan's recipe with random sizes and places).
inline Tensor random_phantom(int64_t n, Generator& g) {
  auto uniform = [&](float lo, float hi) { return lo + (hi - lo) * g.uniform(); };
  float a = uniform(0.6f, 0.85f), b = uniform(0.75f, 0.95f), tilt = uniform(-15, 15);
  float ring = uniform(0.03f, 0.08f);
  std::vector<Ellipse> es = {{1.0f, a, b, 0, 0, tilt},
                             {-uniform(0.6f, 0.8f), a - ring, b - ring, 0, 0, tilt}};
  int64_t count = 4 + int64_t(g.below(6));
  for (int64_t k = 0; k < count; ++k) {
    float r = uniform(0, 0.6f), angle = uniform(0, 2 * std::numbers::pi_v<float>);
    float sign = g.uniform() < 0.3f ? -1.f : 1.f;
    es.push_back({sign * uniform(0.1f, 0.4f), uniform(0.03f, 0.25f), uniform(0.03f, 0.3f),
                  r * a * std::cos(angle), r * b * std::sin(angle), uniform(0, 180)});
  }
  return render(es, n);
}

/// Which of n k-space columns are sampled (1) or skipped (0), in FFT order (frequency 0 at
/// index 0): the 0.32 n / acceleration lowest frequencies (fastMRI's 8% at 4x, 4% at 8x), then
/// random other columns until n / acceleration are sampled. Shape [n, 1]: it multiplies
/// k-space [..., H, W, 2] column by column.
inline Tensor column_mask(int64_t n, int64_t acceleration, Generator& g) {
  std::vector<float> m(size_t(n), 0.f);
  int64_t centre = std::max<int64_t>(1, std::lround(0.32 * double(n) / double(acceleration)));
  int64_t total = std::max(centre, n / acceleration);
  for (int64_t k = -centre / 2; k < centre - centre / 2; ++k) m[size_t((k + n) % n)] = 1;
  std::vector<int64_t> rest;
  for (int64_t j = 0; j < n; ++j)
    if (m[size_t(j)] == 0) rest.push_back(j);
  for (int64_t picked = centre; picked < total && !rest.empty(); ++picked) {
    size_t r = size_t(g.below(rest.size()));
    m[size_t(rest[r])] = 1;
    rest.erase(rest.begin() + std::ptrdiff_t(r));
  }
  return tg::tensor(m, {n, 1});
}

}  // namespace mri
