// Gradient, Hessian and Jacobian by tangents on the parameters themselves: setting a
// leaf's tangent makes it a dual tensor for one pass, and every op carries the tangent
// along (autograd/tangent.h). A ScopedTangents object sets them and always removes them.
#include <tapegrad/optim/curvature.h>

#include <cmath>
#include <limits>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/core/error.h>

namespace tg::optim {

namespace {

// One-hot tangents over the flat parameter vector: select(j) sets e_j.
class ScopedTangents {
 public:
  explicit ScopedTangents(const std::vector<Tensor>& params) : params_(params) {
    for (const Tensor& p : params_) {
      saved_.push_back(p.autograd_meta().tangent);
      tangents_.push_back(zeros(p.shape()));
      p.autograd_meta().tangent = tangents_.back().impl_ptr();
    }
  }
  ~ScopedTangents() {
    for (size_t k = 0; k < params_.size(); ++k) params_[k].autograd_meta().tangent = saved_[k];
  }
  ScopedTangents(const ScopedTangents&) = delete;
  ScopedTangents& operator=(const ScopedTangents&) = delete;

  void select(int64_t j) {
    if (current_ >= 0) *find(current_) = 0;
    *find(j) = 1;
    current_ = j;
  }

 private:
  float* find(int64_t j) {
    for (Tensor& t : tangents_) {
      if (j < t.numel()) return t.data() + j;
      j -= t.numel();
    }
    return nullptr;  // unreachable: j < total_numel
  }

  const std::vector<Tensor>& params_;
  std::vector<std::shared_ptr<TensorImpl>> saved_;
  std::vector<Tensor> tangents_;
  int64_t current_ = -1;
};

// Appends the parameters' gradients (zeros where undefined) to `out`, then drops them.
void take_grads(const std::vector<Tensor>& params, std::vector<double>& out) {
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (g.defined()) {
      for (float v : g.to_vector()) out.push_back(v);
    } else {
      out.insert(out.end(), p.numel(), 0.0);
    }
    p.zero_grad();
  }
}

void append_values(const Tensor& t, int64_t count, std::vector<double>& out) {
  if (!t.defined()) {
    out.insert(out.end(), count, 0.0);
    return;
  }
  for (float v : t.to_vector()) out.push_back(v);
}

}  // namespace

int64_t total_numel(const std::vector<Tensor>& params) {
  int64_t n = 0;
  for (const Tensor& p : params) n += p.numel();
  return n;
}

LossDerivatives loss_derivatives(const ParamFunction& loss_fn, const std::vector<Tensor>& params,
                                 const char* op) {
  const int64_t n = total_numel(params);
  LossDerivatives d;
  d.hessian.reserve(n * n);
  ScopedTangents tangents(params);
  for (const Tensor& p : params) p.zero_grad();
  for (int64_t j = 0; j < n; ++j) {
    tangents.select(j);
    EnableGradGuard grad_mode;
    Tensor loss = loss_fn();
    check(loss.defined() && loss.numel() == 1, "{}: the loss function must return a scalar, got {}",
          op, loss.defined() ? fmt::format("{}", loss.shape()) : "an undefined tensor");
    for (const Tensor& p : params)
      check(!p.grad().defined(),
            "{}: the loss function called backward(); it must only compute "
            "the loss (the method differentiates it itself)",
            op);
    if (j == 0) d.loss = loss.item();
    Tensor directional = loss.tangent();  // df/dx_j, on the tape as a function of x
    d.gradient.push_back(directional.defined() ? directional.item() : 0.0);
    if (directional.defined() && directional.requires_grad()) directional.backward();
    take_grads(params, d.hessian);  // row j of H = column j (H is symmetric)
  }
  for (int64_t i = 0; i < n; ++i) {  // symmetrise away float round-off
    for (int64_t j = i + 1; j < n; ++j) {
      double s = (d.hessian[i * n + j] + d.hessian[j * n + i]) / 2;
      d.hessian[i * n + j] = d.hessian[j * n + i] = s;
    }
  }
  NoGradGuard no_grad;
  int64_t offset = 0;
  for (const Tensor& p : params) {
    std::vector<float> g(d.gradient.begin() + offset, d.gradient.begin() + offset + p.numel());
    p.set_grad(tensor(g, p.shape()));
    offset += p.numel();
  }
  return d;
}

std::vector<double> residual_values(const ParamFunction& residual_fn, const char* op) {
  NoGradGuard no_grad;
  Tensor r = residual_fn();
  check(r.defined() && r.numel() > 0, "{}: the residual function returned no values", op);
  std::vector<double> out;
  append_values(r, r.numel(), out);
  return out;
}

ResidualDerivatives residual_derivatives(const ParamFunction& residual_fn,
                                         const std::vector<Tensor>& params, JacobianMode mode,
                                         const char* op) {
  ResidualDerivatives d;
  d.n = total_numel(params);
  d.residual = residual_values(residual_fn, op);
  d.m = int64_t(d.residual.size());
  if (mode == JacobianMode::automatic)
    mode = d.n <= d.m ? JacobianMode::forward : JacobianMode::reverse;
  if (mode == JacobianMode::forward) {  // column j = J e_j, by n forward passes
    std::vector<double> columns;
    ScopedTangents tangents(params);
    NoGradGuard no_grad;
    for (int64_t j = 0; j < d.n; ++j) {
      tangents.select(j);
      append_values(residual_fn().tangent(), d.m, columns);
    }
    d.jacobian.resize(d.m * d.n);
    for (int64_t j = 0; j < d.n; ++j)
      for (int64_t i = 0; i < d.m; ++i) d.jacobian[i * d.n + j] = columns[j * d.m + i];
    return d;
  }
  EnableGradGuard grad_mode;  // row i = e_i^T J, by m backward passes through one tape
  for (const Tensor& p : params) p.zero_grad();
  Tensor r = residual_fn();
  d.jacobian.reserve(d.m * d.n);
  for (int64_t i = 0; i < d.m; ++i) {
    if (r.requires_grad()) {
      Tensor seed = zeros(r.shape());
      seed.data()[i] = 1;
      r.backward(seed, /*retain_graph=*/i + 1 < d.m);
    }
    take_grads(params, d.jacobian);
  }
  return d;
}

std::vector<double> solve_dense(std::vector<double> a, std::vector<double> b, const char* op,
                                const char* what) {
  const int64_t n = int64_t(b.size());
  double scale = 0;
  for (double v : a) scale = std::max(scale, std::abs(v));
  const double tiny = double(n) * std::numeric_limits<double>::epsilon() * scale;
  for (int64_t k = 0; k < n; ++k) {
    int64_t pivot = k;
    for (int64_t i = k + 1; i < n; ++i)
      if (std::abs(a[i * n + k]) > std::abs(a[pivot * n + k])) pivot = i;
    check(std::abs(a[pivot * n + k]) > tiny && std::isfinite(a[pivot * n + k]),
          "{}: {} is singular (no usable pivot in column {} of {})", op, what, k, n);
    if (pivot != k) {
      for (int64_t j = 0; j < n; ++j) std::swap(a[k * n + j], a[pivot * n + j]);
      std::swap(b[k], b[pivot]);
    }
    for (int64_t i = k + 1; i < n; ++i) {
      double f = a[i * n + k] / a[k * n + k];
      for (int64_t j = k; j < n; ++j) a[i * n + j] -= f * a[k * n + j];
      b[i] -= f * b[k];
    }
  }
  for (int64_t k = n - 1; k >= 0; --k) {  // back substitution
    for (int64_t j = k + 1; j < n; ++j) b[k] -= a[k * n + j] * b[j];
    b[k] /= a[k * n + k];
  }
  return b;
}

void add_to_params(const std::vector<Tensor>& params, const std::vector<double>& step,
                   double scale) {
  size_t offset = 0;
  for (const Tensor& p : params) {
    float* x = p.data();
    for (int64_t i = 0; i < p.numel(); ++i) x[i] += float(scale * step[offset + i]);
    p.bump_version();
    offset += p.numel();
  }
}

}  // namespace tg::optim
