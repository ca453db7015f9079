// interpolate() as one primitive op. Each output row i and column j reads from at most two
// input rows and columns with weights (PyTorch's index rules, computed once per call in the
// input's precision as PyTorch does, so the same source pixels are chosen): nearest takes one,
// bilinear blends four. Backward scatter-adds the same weights; planes run in parallel.
#include <tapegrad/nn/upsample.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/kernels.h>

namespace tg::nn {

namespace functional {

namespace {

// Per output index along one dim: the two input indices it reads and their weights of type T
// (nearest: i0 with weight 1 and no second tap).
template <typename T>
struct Taps {
  std::vector<int64_t> i0, i1;
  std::vector<T> l0, l1;
};

// PyTorch's scale for the source index: 1 / scale_factor when one was given, else in / out.
template <typename T>
T scale_of(int64_t in, int64_t out, const std::optional<double>& factor) {
  return factor && *factor > 0 ? T(1.0 / *factor) : T(in) / T(out);
}

// nearest: floor(dst * scale), clamped (PyTorch's nearest_idx, with its exact shortcuts; in
// float for every dtype, as PyTorch).
template <typename T>
Taps<T> nearest_taps(int64_t in, int64_t out, const std::optional<double>& factor) {
  Taps<T> t;
  const float scale = scale_of<float>(in, out, factor);
  for (int64_t o = 0; o < out; ++o) {
    int64_t i = out == in ? o
                : out == 2 * in ? o / 2
                : std::min(int64_t(std::floor(float(o) * scale)), in - 1);
    t.i0.push_back(i);
  }
  return t;
}

// bilinear: source = scale * dst (align_corners) or scale * (dst + 0.5) - 0.5 clamped at 0,
// split into floor and fraction (PyTorch's area_pixel_compute_source_index), computed in T.
template <typename T>
Taps<T> linear_taps(int64_t in, int64_t out, bool align_corners,
                    const std::optional<double>& factor) {
  Taps<T> t;
  const T scale = align_corners ? (out > 1 ? T(in - 1) / T(out - 1) : T(0))
                                : scale_of<T>(in, out, factor);
  for (int64_t o = 0; o < out; ++o) {
    T src = align_corners ? scale * T(o) : std::max(scale * (T(o) + T(0.5)) - T(0.5), T(0));
    int64_t i = std::min(int64_t(std::floor(src)), in - 1);
    T lambda = std::clamp(src - T(i), T(0), T(1));
    t.i0.push_back(i), t.i1.push_back(i + (i < in - 1 ? 1 : 0));
    t.l0.push_back(1 - lambda), t.l1.push_back(lambda);
  }
  return t;
}

template <typename T>
struct Resize {
  int64_t height, width, out_h, out_w;
  bool nearest;
  Taps<T> h, w;
};

template <typename T>
Resize<T> resize_plan(const Tensor& x, const InterpolateOptions& o) {
  check(x.dim() == 4, "interpolate: expected a 4-D input [N, C, H, W], got {}", x.shape());
  check(o.size.has_value() != o.scale_factor.has_value(),
        "interpolate: exactly one of size and scale_factor must be given, got {}",
        o.size ? "both" : "neither");
  check(o.mode == InterpolateMode::Bilinear || !o.align_corners.has_value(),
        "interpolate: align_corners can only be set with mode bilinear, not nearest");
  Resize<T> r;
  r.height = x.size(2), r.width = x.size(3), r.nearest = o.mode == InterpolateMode::Nearest;
  check(r.height >= 1 && r.width >= 1, "interpolate: input {} has an empty plane", x.shape());
  std::optional<double> fh, fw;
  if (o.size) {
    r.out_h = o.size->h, r.out_w = o.size->w;
  } else {
    fh = o.scale_factor->h, fw = o.scale_factor->w;
    check(*fh > 0 && *fw > 0 && std::isfinite(*fh) && std::isfinite(*fw),
          "interpolate: scale_factor must be positive, got ({}, {})", *fh, *fw);
    r.out_h = int64_t(std::floor(double(r.height) * *fh));
    r.out_w = int64_t(std::floor(double(r.width) * *fw));
  }
  check(r.out_h >= 1 && r.out_w >= 1,
        "interpolate: output size {}x{} must be positive (input {})", r.out_h, r.out_w, x.shape());
  const bool corners = o.align_corners.value_or(false);
  r.h = r.nearest ? nearest_taps<T>(r.height, r.out_h, fh)
                  : linear_taps<T>(r.height, r.out_h, corners, fh);
  r.w = r.nearest ? nearest_taps<T>(r.width, r.out_w, fw)
                  : linear_taps<T>(r.width, r.out_w, corners, fw);
  return r;
}

// Runs body(plane) for every [H, W] plane, in parallel when the work is large.
template <typename F>
void for_each_plane(int64_t planes, int64_t plane_size, F&& body) {
  int64_t grain = std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(plane_size, 1));
  kernels::parallel_for(planes, grain, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) body(plane);
  });
}

template <typename T>
Tensor resize_forward(const Tensor& x, const Resize<T>& r) {
  Tensor y = kernels::empty_like(x, {x.size(0), x.size(1), r.out_h, r.out_w});
  const int64_t W = r.width, in_plane = r.height * W, OW = r.out_w, out_plane = r.out_h * OW;
  const T* xd = x.data_ptr<T>();
  T* yd = y.data_ptr<T>();
  for_each_plane(x.size(0) * x.size(1), out_plane, [&](int64_t plane) {
    const T* xp = xd + plane * in_plane;
    T* yp = yd + plane * out_plane;
    for (int64_t i = 0; i < r.out_h; ++i) {
      const T* row0 = xp + r.h.i0[i] * W;
      if (r.nearest) {
        for (int64_t j = 0; j < OW; ++j) yp[i * OW + j] = row0[r.w.i0[j]];
        continue;
      }
      const T* row1 = xp + r.h.i1[i] * W;
      const T a = r.h.l0[i], b = r.h.l1[i];
      for (int64_t j = 0; j < OW; ++j) {
        const int64_t j0 = r.w.i0[j], j1 = r.w.i1[j];
        const T c = r.w.l0[j], d = r.w.l1[j];
        yp[i * OW + j] = a * (c * row0[j0] + d * row0[j1]) + b * (c * row1[j0] + d * row1[j1]);
      }
    }
  });
  return y;
}

// dL/dx: each output's gradient added to the pixels it read, with the same weights.
template <typename T>
Tensor resize_backward(const Tensor& gy, const Shape& in_shape, const Resize<T>& r) {
  Tensor g = gy.contiguous(), gx = kernels::zeros_like(g, in_shape);
  const int64_t W = r.width, in_plane = r.height * W, OW = r.out_w, out_plane = r.out_h * OW;
  const T* gd = g.data_ptr<T>();
  T* gxd = gx.data_ptr<T>();
  for_each_plane(in_shape[0] * in_shape[1], out_plane, [&](int64_t plane) {
    const T* gp = gd + plane * out_plane;
    T* xp = gxd + plane * in_plane;
    for (int64_t i = 0; i < r.out_h; ++i) {
      T* row0 = xp + r.h.i0[i] * W;
      if (r.nearest) {
        for (int64_t j = 0; j < OW; ++j) row0[r.w.i0[j]] += gp[i * OW + j];
        continue;
      }
      T* row1 = xp + r.h.i1[i] * W;
      const T a = r.h.l0[i], b = r.h.l1[i];
      for (int64_t j = 0; j < OW; ++j) {
        const int64_t j0 = r.w.i0[j], j1 = r.w.i1[j];
        const T c = r.w.l0[j], d = r.w.l1[j], v = gp[i * OW + j];
        row0[j0] += a * c * v, row0[j1] += a * d * v;
        row1[j0] += b * c * v, row1[j1] += b * d * v;
      }
    }
  });
  return gx;
}

}  // namespace

// y[i, j] = sum of weights * x at the (up to) four source pixels of (i, j).
// dL/dx[p] = sum over outputs reading p of weight * dL/dy.   Tangent: interpolate(tx) (linear).
Tensor interpolate(const Tensor& input, const InterpolateOptions& options) {
  return dispatch_floating(input.dtype(), "interpolate", [&]<typename T>(std::type_identity<T>) {
    auto plan = std::make_shared<const Resize<T>>(resize_plan<T>(input, options));
    Tensor x = input.contiguous();
    Tensor y = resize_forward(x, *plan);
    record("interpolate", y, {x}, [plan, in_shape = x.shape()](const Tensor& gy) {
      return grads(resize_backward(gy, in_shape, *plan));
    }).once_differentiable();
    record_tangent(y, {x}, [&](const Tensor& t) { return interpolate(t, options); });
    return y;
  });
}

}  // namespace functional

namespace {

// Python's repr of a float: 2.0, 1.5.
std::string py_float(double v) {
  std::string s = fmt::format("{}", v);
  return s.find_first_of(".e") == std::string::npos ? s + ".0" : s;
}

}  // namespace

Upsample::Upsample(const InterpolateOptions& o) : options(o) {
  check(o.size.has_value() != o.scale_factor.has_value(),
        "Upsample: exactly one of size and scale_factor must be given, got {}",
        o.size ? "both" : "neither");
  check(o.mode == InterpolateMode::Bilinear || !o.align_corners.has_value(),
        "Upsample: align_corners can only be set with mode bilinear, not nearest");
}

Tensor Upsample::forward(const Tensor& input) { return functional::interpolate(input, options); }

std::string Upsample::extra_repr() const {
  const InterpolateOptions& o = options;
  std::string s;
  if (o.scale_factor) {
    const auto [h, w] = *o.scale_factor;
    s = h == w ? fmt::format("scale_factor={}", py_float(h))
               : fmt::format("scale_factor=({}, {})", py_float(h), py_float(w));
  } else {
    s = o.size->h == o.size->w ? fmt::format("size={}", o.size->h)
                               : fmt::format("size=({}, {})", o.size->h, o.size->w);
  }
  return s + (o.mode == InterpolateMode::Nearest ? ", mode=nearest" : ", mode=bilinear");
}

}  // namespace tg::nn
