// Elementwise ops with broadcasting. Each op: its forward kernel, then its
// backward closure (derivative in the comment), then its tangent rule.
// Broadcasting is undone in backward by sum_to(grad, input shape). A closure that
// takes a fused kernel's shortcut has the same formula from Tensor ops beside it,
// for a recorded backward (create_graph).
#include <cmath>

#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/kernels.h>

namespace tg {

namespace {

// y = alpha * x + beta: serves x + s, x - s, s - x, x * s, x / s and -x.   dy/dx = alpha
Tensor affine(const Tensor& x, double alpha, double beta, const char* name) {
  Tensor y = kernels::map(x, [alpha, beta](auto v) {
    using T = decltype(v);
    return T(alpha) * v + T(beta);
  }, name);
  record(name, y, {x}, [alpha](const Tensor& gy) { return grads(gy * alpha); });
  record_tangent(y, {x}, [&](const Tensor& t) { return t * alpha; });
  return y;
}

}  // namespace

// y = a + b.   dy/da = 1, dy/db = 1
Tensor operator+(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::zip<kernels::Types::All>(a, b, [](auto x, auto z) { return x + z; }, "add");
  record("add", y, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& gy) {
    return grads(sum_to(gy, sa), sum_to(gy, sb));
  });
  record_tangent(y, {a, b}, [](const Tensor& ta, const Tensor& tb) { return ta + tb; });
  return y;
}

// y = a - b.   dy/da = 1, dy/db = -1
Tensor operator-(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::zip<kernels::Types::All>(a, b, [](auto x, auto z) { return x - z; }, "sub");
  record("sub", y, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& gy, NeedsGrad need) {
    return grads(sum_to(gy, sa), need[1] ? sum_to(-gy, sb) : Tensor());
  });
  record_tangent(y, {a, b}, [](const Tensor& ta, const Tensor& tb) { return ta - tb; });
  return y;
}

// y = a * b.   dy/da = b, dy/db = a
Tensor operator*(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::zip<kernels::Types::All>(a, b, [](auto x, auto z) { return x * z; }, "mul");
  record("mul", y, {a, b}, [a, b](const Tensor& gy, NeedsGrad need) {
    return grads(need[0] ? sum_to(gy * b, a.shape()) : Tensor(),
                 need[1] ? sum_to(gy * a, b.shape()) : Tensor());
  }).saves(a, b);
  record_tangent(y, {a, b}, [&](const Tensor& ta, const Tensor& tb) { return ta * b + a * tb; });
  return y;
}

// y = a / b.   dy/da = 1 / b, dy/db = -a / b^2 = -y / b
Tensor operator/(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::zip(a, b, [](auto x, auto z) { return x / z; }, "div");
  record("div", y, {a, b}, [a, b, y0 = SavedOutput(y)](const Tensor& gy, NeedsGrad need) {
    Tensor ga = gy / b;
    return grads(need[0] ? sum_to(ga, a.shape()) : Tensor(),
                 need[1] ? sum_to(-ga * y0.get(), b.shape()) : Tensor());
  }).saves(a, b, y);
  record_tangent(y, {a, b}, [&](const Tensor& ta, const Tensor& tb) { return (ta - y * tb) / b; });
  return y;
}

Tensor operator-(const Tensor& a) { return affine(a, -1, 0, "neg"); }
Tensor operator+(const Tensor& a, double b) { return affine(a, 1, b, "add"); }
Tensor operator-(const Tensor& a, double b) { return affine(a, 1, -b, "sub"); }
Tensor operator*(const Tensor& a, double b) { return affine(a, b, 0, "mul"); }
Tensor operator/(const Tensor& a, double b) { return affine(a, 1 / b, 0, "div"); }
Tensor operator+(double a, const Tensor& b) { return affine(b, 1, a, "add"); }
Tensor operator-(double a, const Tensor& b) { return affine(b, -1, a, "sub"); }
Tensor operator*(double a, const Tensor& b) { return affine(b, a, 0, "mul"); }
Tensor operator/(double a, const Tensor& b) { return b.pow(-1) * a; }

Tensor Tensor::add(const Tensor& o, double alpha) const { return *this + (alpha == 1 ? o : o * alpha); }
Tensor Tensor::sub(const Tensor& o, double alpha) const { return *this - (alpha == 1 ? o : o * alpha); }
Tensor Tensor::mul(const Tensor& o) const { return *this * o; }
Tensor Tensor::div(const Tensor& o) const { return *this / o; }
Tensor Tensor::neg() const { return -*this; }

// y = x^p.   dy/dx = p x^(p-1), and 0 for p = 0 (not 0 * inf at x = 0: PyTorch's rule)
Tensor Tensor::pow(double p) const {
  const Tensor& x = *this;
  Tensor y = p == 2 ? kernels::map(x, [](auto v) { return v * v; }, "pow")
                    : kernels::map(x, [p](auto v) { return std::pow(v, decltype(v)(p)); }, "pow");
  auto dydx = [p](auto v) {
    using T = decltype(v);
    return p == 0 ? T(0) : p == 2 ? 2 * v : T(p) * std::pow(v, T(p - 1));
  };
  record("pow", y, {x}, [x, p, dydx](const Tensor& gy) {
    if (recording_backward())  // the same formula from differentiable ops
      return grads(p == 0 ? zeros_like(x) : p == 2 ? gy * x * 2.0 : gy * x.pow(p - 1) * p);
    return grads(kernels::zip(gy, x, [dydx](auto g, auto v) { return g * dydx(v); }, "pow"));
  }).saves(x);
  record_tangent(y, {x}, [&](const Tensor& t) {
    return p == 0 ? zeros_like(t) : t * x.pow(p - 1) * p;
  });
  return y;
}

// y = a^b.   dy/da = b a^(b-1), dy/db = y ln a; PyTorch's masks keep 0^0 and 0^b finite:
// dy/da = 0 where b = 0, dy/db = 0 where a = 0 and b >= 0.
Tensor Tensor::pow(const Tensor& b) const {
  const Tensor& a = *this;
  Tensor y = kernels::zip(a, b, [](auto x, auto z) { return std::pow(x, z); }, "pow");
  auto dyda = [](const Tensor& a, const Tensor& b) {
    Tensor zero = scalar_tensor(0, {.dtype = a.dtype()});
    return where(b.eq(zero), zero, b * a.pow(b - 1));
  };
  auto dydb = [](const Tensor& a, const Tensor& b, const Tensor& y) {
    Tensor zero = scalar_tensor(0, {.dtype = a.dtype()});
    return where(a.eq(zero) * b.ge(zero), zero, y * a.log());
  };
  record("pow", y, {a, b}, [a, b, y0 = SavedOutput(y), dyda, dydb](const Tensor& gy, NeedsGrad need) {
    return grads(need[0] ? sum_to(gy * dyda(a, b), a.shape()) : Tensor(),
                 need[1] ? sum_to(gy * dydb(a, b, y0.get()), b.shape()) : Tensor());
  }).saves(a, b, y);
  record_tangent(y, {a, b}, [&](const Tensor& ta, const Tensor& tb) {
    return ta * dyda(a, b) + tb * dydb(a, b, y);
  });
  return y;
}

// y = e^x.   dy/dx = y
Tensor Tensor::exp() const {
  Tensor y = kernels::map(*this, [](auto v) { return std::exp(v); }, "exp");
  record("exp", y, {*this}, [y0 = SavedOutput(y)](const Tensor& gy) { return grads(gy * y0.get()); })
      .saves(y);
  record_tangent(y, {*this}, [&](const Tensor& t) { return t * y; });
  return y;
}

// y = ln x.   dy/dx = 1 / x
Tensor Tensor::log() const {
  const Tensor& x = *this;
  Tensor y = kernels::map(x, [](auto v) { return std::log(v); }, "log");
  record("log", y, {x}, [x](const Tensor& gy) { return grads(gy / x); }).saves(x);
  record_tangent(y, {x}, [&](const Tensor& t) { return t / x; });
  return y;
}

// y = sqrt(x).   dy/dx = 1 / (2 y)
Tensor Tensor::sqrt() const {
  Tensor y = kernels::map(*this, [](auto v) { return std::sqrt(v); }, "sqrt");
  record("sqrt", y, {*this}, [y0 = SavedOutput(y)](const Tensor& gy) {
    if (recording_backward()) return grads(gy / (y0.get() * 2.0));
    return grads(kernels::zip(gy, y0.get(), [](auto g, auto v) { return g / (2 * v); }, "sqrt"));
  }).saves(y);
  record_tangent(y, {*this}, [&](const Tensor& t) { return t / (y * 2); });
  return y;
}

// y = 1 / sqrt(x).   dy/dx = -y^3 / 2
Tensor Tensor::rsqrt() const {
  Tensor y = kernels::map(*this, [](auto v) { return 1 / std::sqrt(v); }, "rsqrt");
  record("rsqrt", y, {*this}, [y0 = SavedOutput(y)](const Tensor& gy) {
    if (recording_backward()) return grads(gy * y0.get().pow(3) * -0.5);
    return grads(kernels::zip(gy, y0.get(), [](auto g, auto v) { return decltype(g)(-0.5) * g * v * v * v; }, "rsqrt"));
  }).saves(y);
  record_tangent(y, {*this}, [&](const Tensor& t) { return t * y.pow(3) * -0.5; });
  return y;
}

// y = |x|.   dy/dx = sign(x) (0 at 0, as PyTorch)
Tensor Tensor::abs() const {
  const Tensor& x = *this;
  Tensor y = kernels::map(x, [](auto v) { return std::abs(v); }, "abs");
  record("abs", y, {x}, [x](const Tensor& gy) { return grads(gy * x.sign()); }).saves(x);
  record_tangent(y, {x}, [&](const Tensor& t) { return t * x.sign(); });
  return y;
}

// y = sin x.   dy/dx = cos x
Tensor Tensor::sin() const {
  const Tensor& x = *this;
  Tensor y = kernels::map(x, [](auto v) { return std::sin(v); }, "sin");
  record("sin", y, {x}, [x](const Tensor& gy) { return grads(gy * x.cos()); }).saves(x);
  record_tangent(y, {x}, [&](const Tensor& t) { return t * x.cos(); });
  return y;
}

// y = cos x.   dy/dx = -sin x
Tensor Tensor::cos() const {
  const Tensor& x = *this;
  Tensor y = kernels::map(x, [](auto v) { return std::cos(v); }, "cos");
  record("cos", y, {x}, [x](const Tensor& gy) { return grads(-gy * x.sin()); }).saves(x);
  record_tangent(y, {x}, [&](const Tensor& t) { return -t * x.sin(); });
  return y;
}

// y = tanh x.   dy/dx = 1 - y^2
Tensor Tensor::tanh() const {
  Tensor y = kernels::map(*this, [](auto v) { return std::tanh(v); }, "tanh");
  record("tanh", y, {*this}, [y0 = SavedOutput(y)](const Tensor& gy) {
    if (recording_backward()) return grads(gy * (1.0 - y0.get().pow(2)));
    return grads(kernels::zip(gy, y0.get(), [](auto g, auto v) { return g * (1 - v * v); }, "tanh"));
  }).saves(y);
  record_tangent(y, {*this}, [&](const Tensor& t) { return t * (1 - y * y); });
  return y;
}

// y = 1 / (1 + e^-x).   dy/dx = y (1 - y)
Tensor Tensor::sigmoid() const {
  Tensor y = kernels::map(*this, [](auto v) {
    // Two branches so that exp never overflows.
    return v >= 0 ? 1 / (1 + std::exp(-v)) : std::exp(v) / (1 + std::exp(v));
  }, "sigmoid");
  record("sigmoid", y, {*this}, [y0 = SavedOutput(y)](const Tensor& gy) {
    if (recording_backward()) {
      Tensor s = y0.get();
      return grads(gy * s * (1.0 - s));
    }
    return grads(kernels::zip(gy, y0.get(), [](auto g, auto v) { return g * v * (1 - v); }, "sigmoid"));
  }).saves(y);
  record_tangent(y, {*this}, [&](const Tensor& t) { return t * y * (1 - y); });
  return y;
}

// y = max(x, 0).   dy/dx = [x > 0]
Tensor Tensor::relu() const {
  Tensor y = kernels::map(*this, [](auto v) { return v > 0 ? v : decltype(v)(0); }, "relu");
  record("relu", y, {*this}, [y0 = SavedOutput(y)](const Tensor& gy) {
    if (recording_backward()) return grads(gy * y0.get().detach().gt(scalar_tensor(0, {.dtype = gy.dtype()})));
    return grads(kernels::zip(gy, y0.get(), [](auto g, auto v) { return v > 0 ? g : decltype(g)(0); }, "relu"));
  }).saves(y);
  record_tangent(y, {*this}, [&](const Tensor& t) { return t * y.gt(scalar_tensor(0, {.dtype = y.dtype()})); });
  return y;
}

// y = min(max(x, lo), hi).   dy/dx = [lo <= x <= hi]
Tensor Tensor::clamp(double lo, double hi) const {
  check(!(lo > hi), "clamp: min {} is greater than max {}", lo, hi);
  const Tensor& x = *this;
  Tensor y = kernels::map(x, [lo, hi](auto v) {
    using T = decltype(v);
    return std::min(std::max(v, T(lo)), T(hi));
  }, "clamp");
  auto inside = [lo, hi](const Tensor& x) {
    return kernels::map(x, [lo, hi](auto v) {
      using T = decltype(v);
      return v >= T(lo) && v <= T(hi) ? T(1) : T(0);
    }, "clamp");
  };
  record("clamp", y, {x}, [x, inside](const Tensor& gy) { return grads(gy * inside(x)); }).saves(x);
  record_tangent(y, {x}, [&](const Tensor& t) { return t * inside(x); });
  return y;
}
Tensor Tensor::clamp_min(double lo) const { return clamp(lo, INFINITY); }
Tensor Tensor::clamp_max(double hi) const { return clamp(-INFINITY, hi); }

namespace {

// maximum/minimum: the gradient goes to the larger (smaller) input, split evenly on ties.
Tensor extremum(const Tensor& a, const Tensor& b, bool take_max, const char* name) {
  Tensor y = take_max ? kernels::zip(a, b, [](auto x, auto z) { return std::max(x, z); }, name)
                      : kernels::zip(a, b, [](auto x, auto z) { return std::min(x, z); }, name);
  auto share_of_a = [take_max](const Tensor& a, const Tensor& b) {
    return kernels::zip(a, b, [take_max](auto x, auto z) {
      using T = decltype(x);
      return x == z ? T(0.5) : (x > z) == take_max ? T(1) : T(0); }, "extremum");
  };
  record(name, y, {a, b}, [a, b, share_of_a](const Tensor& gy) {
    Tensor m = share_of_a(a, b);
    return grads(sum_to(gy * m, a.shape()), sum_to(gy * (1 - m), b.shape()));
  }).saves(a, b);
  record_tangent(y, {a, b}, [&](const Tensor& ta, const Tensor& tb) {
    Tensor m = share_of_a(a, b);
    return ta * m + tb * (1 - m);
  });
  return y;
}

// A mask of 0 and 1 in the operands' dtype (PyTorch gives bool; tapegrad has no bool dtype).
template <typename Pred>
Tensor compare(const Tensor& a, const Tensor& b, const char* name, Pred pred) {
  return kernels::zip<kernels::Types::All>(a, b, [pred](auto x, auto z) {
    return pred(x, z) ? decltype(x)(1) : decltype(x)(0);
  }, name);
}

}  // namespace

Tensor Tensor::maximum(const Tensor& o) const { return extremum(*this, o, true, "maximum"); }
Tensor Tensor::minimum(const Tensor& o) const { return extremum(*this, o, false, "minimum"); }
Tensor Tensor::gt(const Tensor& o) const { return compare(*this, o, "gt", [](auto x, auto z) { return x > z; }); }
Tensor Tensor::lt(const Tensor& o) const { return compare(*this, o, "lt", [](auto x, auto z) { return x < z; }); }
Tensor Tensor::ge(const Tensor& o) const { return compare(*this, o, "ge", [](auto x, auto z) { return x >= z; }); }
Tensor Tensor::le(const Tensor& o) const { return compare(*this, o, "le", [](auto x, auto z) { return x <= z; }); }
Tensor Tensor::eq(const Tensor& o) const { return compare(*this, o, "eq", [](auto x, auto z) { return x == z; }); }
Tensor Tensor::ne(const Tensor& o) const { return compare(*this, o, "ne", [](auto x, auto z) { return x != z; }); }
// y = sign(x) in {-1, 0, 1}.   dy/dx = 0 (recorded, so backward through it gives zeros)
Tensor Tensor::sign() const {
  Tensor y = kernels::map<kernels::Types::All>(*this, [](auto v) {
    return decltype(v)((v > 0) - (v < 0));
  }, "sign");
  record("sign", y, {*this}, [in = shape(), dtype = dtype()](const Tensor&) {
    return grads(zeros(in, {.dtype = dtype}));
  });
  record_tangent(y, {*this}, [](const Tensor& t) { return zeros_like(t); });
  return y;
}

// y = cond ? a : b.   dy/da = [cond], dy/db = [!cond]
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  check_same_dtype(a.dtype(), b.dtype(), "where");
  Tensor y = empty(shape, {.dtype = a.dtype()});
  Tensor mask = kernels::convert(cond, a.dtype());  // any dtype; nonzero selects a
  dispatch_all(a.dtype(), [&]<typename T>(std::type_identity<T>) {
    kernels::for_each_run<4, T>(shape,
        {{{y.data_ptr<T>(), y.strides()}, {mask.data_ptr<T>(), kernels::broadcast_strides(mask, shape)},
          {a.data_ptr<T>(), kernels::broadcast_strides(a, shape)},
          {b.data_ptr<T>(), kernels::broadcast_strides(b, shape)}}},
        [](auto p, int64_t n, auto s) {
          for (int64_t i = 0; i < n; ++i) p[0][i * s[0]] = p[1][i * s[1]] != 0 ? p[2][i * s[2]] : p[3][i * s[3]];
        });
  });
  record("where", y, {a, b}, [cond, sa = a.shape(), sb = b.shape()](const Tensor& gy) {
    Tensor zero = scalar_tensor(0, {.dtype = gy.dtype()});
    return grads(sum_to(where(cond, gy, zero), sa), sum_to(where(cond, zero, gy), sb));
  }).saves(cond);
  record_tangent(y, {a, b}, [&](const Tensor& ta, const Tensor& tb) { return where(cond, ta, tb); });
  return y;
}

}  // namespace tg
