// Activation ops and layers. leaky_relu and log_softmax are primitives with their
// own backward and tangent rules (log_softmax because exp then log loses
// everything to overflow); softmax and dropout are composed from other ops.
// add_relu fuses a residual addition with the ReLU after it (one pass, one node).
#include <tapegrad/nn/activation.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/kernels.h>
#include <tapegrad/core/random.h>
#include <tapegrad/nn/functional.h>

namespace tg::nn {

namespace functional {

Tensor relu(const Tensor& input) { return input.relu(); }

// y = relu(a + b) in one pass and one node (a ResNet block's residual add).
// dy/da = dy/db = [y > 0], summed back over broadcast dims.
Tensor add_relu(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::zip(a, b, [](auto x, auto z) { return x + z > 0 ? x + z : decltype(x)(0); },
                          "add_relu");
  record("add_relu", y, {a, b}, [y0 = SavedOutput(y), sa = a.shape(), sb = b.shape()](
                                    const Tensor& gy, NeedsGrad need) {
    // Under create_graph the mask multiplies as a Tensor op (twice differentiable, as relu's).
    Tensor g = recording_backward()
                   ? gy * y0.get().detach().gt(scalar_tensor(0))
                   : Tensor(kernels::zip(gy, y0.get(),
                                         [](auto g, auto v) { return v > 0 ? g : decltype(g)(0); },
                                         "add_relu"));
    return grads(need[0] ? sum_to(g, sa) : Tensor(), need[1] ? sum_to(g, sb) : Tensor());
  }).saves(y);
  record_tangent(y, {a, b}, [&](const Tensor& ta, const Tensor& tb) {
    return (ta + tb) * y.gt(scalar_tensor(0));
  });
  return y;
}

// y = x (x > 0), slope x (x <= 0).   dy/dx = 1 or slope
Tensor leaky_relu(const Tensor& input, float negative_slope) {
  auto slope_of = [negative_slope](const Tensor& x) {  // dy/dx, elementwise
    return kernels::map(x, [negative_slope](auto v) {
      using T = decltype(v);
      return v > 0 ? T(1) : T(negative_slope);
    }, "leaky_relu");
  };
  Tensor y = kernels::map(input, [negative_slope](auto v) {
    return v > 0 ? v : decltype(v)(negative_slope) * v;
  }, "leaky_relu");
  record("leaky_relu", y, {input}, [x = input.detach(), slope_of](const Tensor& gy) {
    return grads(gy * slope_of(x));
  }).saves(input);
  record_tangent(y, {input}, [&](const Tensor& t) { return t * slope_of(input); });
  return y;
}

namespace {

// A contiguous tensor seen as [outer, n, inner] around the dim being reduced: element k of
// row r (r = o * inner + i) sits at o * n * inner + k * inner + i.
struct Rows {
  int64_t outer = 1, n = 1, inner = 1;
  Rows(const Shape& shape, int dim) {
    for (int d = 0; d < shape.size(); ++d)
      (d < dim ? outer : d == dim ? n : inner) *= shape[d];
  }
  int64_t count() const { return outer * inner; }
  int64_t start(int64_t r) const { return r / inner * n * inner + r % inner; }
};

}  // namespace

// y = (x - m) - log(sum(exp(x - m))) with m = max(x) along dim.   dL/dx = g - softmax(x) sum(g)
Tensor log_softmax(const Tensor& input, int64_t dim) {
  int d = wrap_dim(dim, input.dim(), "log_softmax");
  Tensor x = input.detach().contiguous();
  Rows rows(x.shape(), d);  // a 0-d input is one row of one element
  int64_t grain = (1 << 15) / std::max<int64_t>(rows.n, 1) + 1;  // rows per thread, at least
  Tensor y = empty(input.shape(), {.dtype = input.dtype()});
  dispatch_floating(input.dtype(), "log_softmax", [&]<typename T>(std::type_identity<T>) {
    const T* px = x.data_ptr<T>();
    T* py = y.data_ptr<T>();
    kernels::parallel_for(rows.count(), grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* xr = px + rows.start(r);
        T* yr = py + rows.start(r);
        T m = -std::numeric_limits<T>::infinity();
        double s = 0;  // in double: rows can be tens of thousands long
        for (int64_t k = 0; k < rows.n; ++k) m = std::max(m, xr[k * rows.inner]);
        for (int64_t k = 0; k < rows.n; ++k) s += std::exp(xr[k * rows.inner] - m);
        T log_s = T(std::log(s));
        // (x - m) - log s, not x - (m + log s): exact when the logits share a large offset
        for (int64_t k = 0; k < rows.n; ++k) yr[k * rows.inner] = (xr[k * rows.inner] - m) - log_s;
      }
    });
  });
  record("log_softmax", y, {input}, [y0 = SavedOutput(y), d, rows, grain](const Tensor& gy) {
    if (recording_backward()) {  // create_graph: g - softmax(x) sum(g), from differentiable ops
      Tensor y = y0.get();
      return grads(y.dim() == 0 ? gy * 0.0 : gy - y.exp() * gy.sum({d}, true));
    }
    Tensor y = y0.get(), g = gy.contiguous(), gx = empty(y.shape(), {.dtype = y.dtype()});
    check_same_dtype(g.dtype(), y.dtype(), "log_softmax backward");
    dispatch_floating(y.dtype(), "log_softmax", [&]<typename T>(std::type_identity<T>) {
      const T *pg = g.data_ptr<T>(), *py = y.data_ptr<T>();
      T* out = gx.data_ptr<T>();
      kernels::parallel_for(rows.count(), grain, [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
          int64_t s0 = rows.start(r);
          T sum = 0;
          for (int64_t k = 0; k < rows.n; ++k) sum += pg[s0 + k * rows.inner];
          for (int64_t k = 0; k < rows.n; ++k) {
            int64_t i = s0 + k * rows.inner;
            out[i] = pg[i] - std::exp(py[i]) * sum;
          }
        }
      });
    });
    return grads(gx);
  }).saves(y);
  // J v = v - sum(softmax(x) v) along dim
  record_tangent(y, {input}, [&](const Tensor& t) {
    if (input.dim() == 0) return t * 0.0;  // one element: y is always 0
    return t - (y.exp() * t).sum({d}, true);
  });
  return y;
}

// softmax = exp(log_softmax): stable, and differentiated through log_softmax's rules.
Tensor softmax(const Tensor& input, int64_t dim) {
  wrap_dim(dim, input.dim(), "softmax");  // so that a bad dim is reported as softmax's
  return log_softmax(input, dim).exp();
}

Tensor dropout(const Tensor& input, float p, bool training) {
  check(p >= 0 && p < 1, "dropout: probability p must be in [0, 1), got {}", p);
  if (!training || p == 0) return input;
  // Scaling the survivors by 1 / (1 - p) keeps E[y] = x, so eval mode needs no rescaling.
  Generator& gen = default_generator();
  Tensor mask = empty(input.shape(), {.dtype = input.dtype()});
  dispatch_floating(input.dtype(), "dropout", [&]<typename T>(std::type_identity<T>) {
    const T scale = T(1) / (T(1) - T(p));
    T* m = mask.data_ptr<T>();
    for (int64_t i = 0; i < mask.numel(); ++i) m[i] = gen.uniform() < p ? T(0) : scale;
  });
  return input * mask;
}

}  // namespace functional

Tensor ReLU::forward(const Tensor& input) { return input.relu(); }
Tensor Tanh::forward(const Tensor& input) { return input.tanh(); }
Tensor Sigmoid::forward(const Tensor& input) { return input.sigmoid(); }

Tensor LeakyReLU::forward(const Tensor& input) {
  return functional::leaky_relu(input, negative_slope);
}
std::string LeakyReLU::extra_repr() const {
  return fmt::format("negative_slope={}", negative_slope);
}

Tensor Softmax::forward(const Tensor& input) { return functional::softmax(input, dim); }
std::string Softmax::extra_repr() const { return fmt::format("dim={}", dim); }

Tensor LogSoftmax::forward(const Tensor& input) { return functional::log_softmax(input, dim); }
std::string LogSoftmax::extra_repr() const { return fmt::format("dim={}", dim); }

Tensor Flatten::forward(const Tensor& input) { return input.flatten(start_dim, end_dim); }
std::string Flatten::extra_repr() const {
  return fmt::format("start_dim={}, end_dim={}", start_dim, end_dim);
}

Dropout::Dropout(float p) : p(p) {
  check(p >= 0 && p < 1, "Dropout: probability p must be in [0, 1), got {}", p);
}
Tensor Dropout::forward(const Tensor& input) {
  return functional::dropout(input, p, is_training());
}
std::string Dropout::extra_repr() const { return fmt::format("p={}", p); }

}  // namespace tg::nn
