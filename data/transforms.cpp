// Batch transforms. They run under no-grad on fresh batch tensors.
#include <tapegrad/data/transforms.h>

#include <algorithm>
#include <cstring>

#include <tapegrad/core/random.h>

namespace tg::data {

namespace {

void check_images(const Tensor& x, const char* who) {
  check(x.dim() == 4, "{}: expects a batch of images [N, C, H, W], got {}", who, x.shape());
}

}  // namespace

Transform normalize(std::vector<float> mean, std::vector<float> std) {
  check(mean.size() == std.size() && !mean.empty(),
        "normalize: {} means but {} standard deviations", mean.size(), std.size());
  for (float s : std) check(s > 0, "normalize: standard deviations must be positive, got {}", s);
  return [mean, std](const Tensor& x) {
    check_images(x, "normalize");
    check(x.size(1) == int64_t(mean.size()), "normalize: batch has {} channels but {} means were given",
          x.size(1), mean.size());
    Tensor y = x.contiguous().clone();
    int64_t n = y.size(0), c = y.size(1), hw = y.size(2) * y.size(3);
    float* p = y.data();
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < c; ++k) {
        float m = mean[size_t(k)], inv = 1 / std[size_t(k)];
        float* q = p + (i * c + k) * hw;
        for (int64_t j = 0; j < hw; ++j) q[j] = (q[j] - m) * inv;
      }
    return y;
  };
}

Transform random_crop(int64_t size, int64_t padding) {
  check(size > 0 && padding >= 0, "random_crop: size {} and padding {} must be positive and non-negative",
        size, padding);
  return [size, padding](const Tensor& x_in) {
    check_images(x_in, "random_crop");
    Tensor x = x_in.contiguous();
    int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    check(size <= h + 2 * padding && size <= w + 2 * padding,
          "random_crop: crop {} is larger than the padded image {}x{}", size, h + 2 * padding,
          w + 2 * padding);
    Tensor y = zeros({n, c, size, size});
    Generator& g = default_generator();
    for (int64_t i = 0; i < n; ++i) {
      // top-left corner of the window in padded coordinates
      int64_t top = int64_t(g.below(uint64_t(h + 2 * padding - size + 1))) - padding;
      int64_t left = int64_t(g.below(uint64_t(w + 2 * padding - size + 1))) - padding;
      for (int64_t k = 0; k < c; ++k)
        for (int64_t r = 0; r < size; ++r) {
          int64_t sr = top + r;
          if (sr < 0 || sr >= h) continue;
          const float* src = x.data() + ((i * c + k) * h + sr) * w;
          float* dst = y.data() + ((i * c + k) * size + r) * size;
          for (int64_t col = 0; col < size; ++col) {
            int64_t sc = left + col;
            if (sc >= 0 && sc < w) dst[col] = src[sc];
          }
        }
    }
    return y;
  };
}

Transform random_horizontal_flip(float p) {
  check(p >= 0 && p <= 1, "random_horizontal_flip: p must be in [0, 1], got {}", p);
  return [p](const Tensor& x_in) {
    check_images(x_in, "random_horizontal_flip");
    Tensor y = x_in.contiguous().clone();
    int64_t n = y.size(0), rows = y.size(1) * y.size(2), w = y.size(3);
    Generator& g = default_generator();
    for (int64_t i = 0; i < n; ++i) {
      if (g.uniform() >= p) continue;
      for (int64_t r = 0; r < rows; ++r) {
        float* row = y.data() + (i * rows + r) * w;
        std::reverse(row, row + w);
      }
    }
    return y;
  };
}

Transform compose(std::vector<Transform> transforms) {
  return [transforms](const Tensor& x) {
    Tensor y = x;
    for (const Transform& t : transforms) y = t(y);
    return y;
  };
}

}  // namespace tg::data
