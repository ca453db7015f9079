// jvp, vjp, grad_and_value, hvp, hessian and jacobian built on tangents and the tape. The
// forms taking explicit inputs hand detached copies to the forms over tensors read in
// place, which do the work: two scope guards make the params differentiable leaves with
// tangents for one call and put everything back afterwards.
#include <tapegrad/autograd/forward.h>

#include <string>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>

namespace tg {

namespace {

std::string shape_of(const Tensor& t) {
  return t.defined() ? fmt::format("shape {}", t.shape()) : "an undefined tensor";
}

// Jacobians and Hessians come in the params' dtype (float32 when there are none).
Dtype dtype_of_params(const std::vector<Tensor>& params) {
  return params.empty() ? kFloat32 : params[0].dtype();
}

Tensor tangent_of(const Tensor& y) {
  Tensor t = y.tangent();
  return t.defined() ? t.detach() : zeros_like(y);
}

// For one transform: every param requires grad and starts without a gradient; on exit each
// gets back its own requires_grad flag and .grad().
class ScopedLeaves {
 public:
  ScopedLeaves(const std::vector<Tensor>& params, const char* op) : params_(params) {
    for (size_t k = 0; k < params_.size(); ++k) {
      const Tensor& p = params_[k];
      check(p.defined(), "{}: parameter {} is undefined", op, k);
      check(p.is_leaf(),
            "{}: parameter {} of shape {} is not a leaf (it was computed by '{}'); hint: pass the "
            "tensors f reads, such as module.parameters()",
            op, k, p.shape(), p.is_leaf() ? "" : p.grad_fn()->name);
      AutogradMeta& meta = p.autograd_meta();
      requires_grad_.push_back(meta.requires_grad);
      grads_.push_back(std::move(meta.grad));  // leaves meta.grad empty
      meta.requires_grad = true;
    }
  }
  ~ScopedLeaves() {
    for (size_t k = 0; k < params_.size(); ++k) {
      AutogradMeta& meta = params_[k].autograd_meta();
      meta.requires_grad = requires_grad_[k];
      meta.grad = std::move(grads_[k]);
    }
  }
  ScopedLeaves(const ScopedLeaves&) = delete;
  ScopedLeaves& operator=(const ScopedLeaves&) = delete;

  /// The gradients since the last take (zeros where none arrived); clears them.
  std::vector<Tensor> take() {
    std::vector<Tensor> out;
    for (const Tensor& p : params_) {
      Tensor g = p.grad();
      out.push_back(g.defined() ? g : zeros_like(p));
      p.zero_grad();
    }
    return out;
  }

  /// The same as one flat vector, written to out[0], out[stride], out[2 stride], ...
  void take_into(double* out, int64_t stride) {
    int64_t i = 0;
    for (const Tensor& g : take())
      for (double v : g.to_vector<double>()) out[stride * i++] = v;
  }

 private:
  std::vector<Tensor> params_;
  std::vector<bool> requires_grad_;
  std::vector<std::shared_ptr<TensorImpl>> grads_;
};

// Tangents on the params themselves for one transform (each param is then a dual tensor); the
// previous ones come back on exit. Without tangents given, they start at zero for select().
class ScopedTangents {
 public:
  ScopedTangents(const std::vector<Tensor>& params, const std::vector<Tensor>& tangents,
                 const char* op)
      : params_(params) {
    for (size_t k = 0; k < params_.size(); ++k) {
      const Tensor& p = params_[k];
      check(p.defined(), "{}: parameter {} is undefined", op, k);
      Tensor t = tangents.empty() ? zeros_like(p) : tangents[k].detach();
      check(t.shape() == p.shape(), "{}: tangent of shape {} for parameter {} of shape {}", op,
            t.shape(), k, p.shape());
      AutogradMeta& meta = p.autograd_meta();
      saved_.push_back(meta.tangent);
      meta.tangent = t.impl_ptr();
      tangents_.push_back(t);
    }
  }
  ~ScopedTangents() {
    for (size_t k = 0; k < params_.size(); ++k) params_[k].autograd_meta().tangent = saved_[k];
  }
  ScopedTangents(const ScopedTangents&) = delete;
  ScopedTangents& operator=(const ScopedTangents&) = delete;

  /// Sets the tangents to e_j over the flat params (they must have started at zero).
  void select(int64_t j) {
    if (current_ >= 0) set(current_, 0);
    set(j, 1);
    current_ = j;
  }

 private:
  void set(int64_t j, double value) {
    for (Tensor& t : tangents_) {
      if (j < t.numel()) {
        dispatch_floating(t.dtype(), "select", [&]<typename T>(std::type_identity<T>) {
          t.data_ptr<T>()[j] = T(value);
        });
        return;
      }
      j -= t.numel();
    }
    fail("select: index out of range");  // unreachable: callers stay below total_numel
  }

  DualLevel level_;  // drops the tangents the call attached (see DualLevel)
  std::vector<Tensor> params_, tangents_;
  std::vector<std::shared_ptr<TensorImpl>> saved_;
  int64_t current_ = -1;
};

// One reverse-over-forward pass: f() with the params' tangents v set, then a backward through
// its tangent <grad f, v>, which is on the tape as a function of the params: their gradients
// become H v.
void backward_through_tangent(const ParamFunction& f, const char* op) {
  Tensor y = f();
  check(y.defined() && y.numel() == 1, "{}: f must return a scalar, got {}", op, shape_of(y));
  Tensor directional = y.tangent();
  if (directional.defined() && directional.requires_grad()) directional.backward();
}

}  // namespace

Tensor make_dual(const Tensor& primal, const Tensor& tangent) {
  check(primal.defined() && tangent.defined(), "make_dual: the {} is an undefined tensor",
        primal.defined() ? "tangent" : "primal");
  check(primal.shape() == tangent.shape(),
        "make_dual: tangent of shape {} for a primal of shape {}", tangent.shape(), primal.shape());
  Tensor dual = primal.expand(primal.shape());  // a recorded alias: a new handle, same storage
  detail::set_tangent(dual, tangent.detach(), "make_dual");
  return dual;
}

// ---- functions of explicit inputs ----------------------------------------------------------

std::pair<Tensor, Tensor> jvp(const TensorFunction& f, const std::vector<Tensor>& primals,
                              const std::vector<Tensor>& tangents) {
  check(primals.size() == tangents.size(), "jvp: {} primals but {} tangents", primals.size(),
        tangents.size());
  DualLevel level;
  std::vector<Tensor> duals;
  for (size_t i = 0; i < primals.size(); ++i) duals.push_back(make_dual(primals[i], tangents[i]));
  Tensor y = f(duals);
  check(y.defined(), "jvp: f returned an undefined tensor");
  return {y.detach(), tangent_of(y)};
}

std::pair<Tensor, std::vector<Tensor>> vjp(const TensorFunction& f,
                                           const std::vector<Tensor>& primals,
                                           const Tensor& cotangent) {
  std::vector<Tensor> leaves;
  for (const Tensor& p : primals) leaves.push_back(p.detach());
  return vjp([&] { return f(leaves); }, leaves, cotangent);
}

Tensor hvp(const std::function<Tensor(const Tensor&)>& f, const Tensor& x, const Tensor& v) {
  check(x.shape() == v.shape(), "hvp: v of shape {} for x of shape {}", v.shape(), x.shape());
  Tensor leaf = x.detach();
  return hvp([&] { return f(leaf); }, {leaf}, {v})[0];
}

Tensor hessian(const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
  Tensor leaf = x.detach();
  return hessian([&] { return f(leaf); }, {leaf});
}

Tensor jacobian(const std::function<Tensor(const Tensor&)>& f, const Tensor& x, JacobianMode mode) {
  Tensor leaf = x.detach();
  return jacobian([&] { return f(leaf); }, {leaf}, mode);
}

// ---- functions of tensors read in place ------------------------------------------------------

int64_t total_numel(const std::vector<Tensor>& params) {
  int64_t n = 0;
  for (const Tensor& p : params) n += p.numel();
  return n;
}

std::pair<Tensor, Tensor> jvp(const ParamFunction& f, const std::vector<Tensor>& params,
                              const std::vector<Tensor>& tangents) {
  check(params.size() == tangents.size(), "jvp: {} parameters but {} tangents", params.size(),
        tangents.size());
  ScopedTangents scoped(params, tangents, "jvp");
  Tensor y = f();
  check(y.defined(), "jvp: f returned an undefined tensor");
  return {y.detach(), tangent_of(y)};
}

std::pair<Tensor, std::vector<Tensor>> vjp(const ParamFunction& f,
                                           const std::vector<Tensor>& params,
                                           const Tensor& cotangent) {
  ScopedLeaves leaves(params, "vjp");
  Tensor y;
  {
    EnableGradGuard grad;
    y = f();
  }
  check(y.defined(), "vjp: f returned an undefined tensor");
  check(cotangent.shape() == y.shape(), "vjp: cotangent of shape {} for an output of shape {}",
        cotangent.shape(), y.shape());
  if (y.requires_grad()) y.backward(cotangent);
  return {y.detach(), leaves.take()};
}

std::pair<std::vector<Tensor>, Tensor> grad_and_value(const ParamFunction& f,
                                                      const std::vector<Tensor>& params) {
  ScopedLeaves leaves(params, "grad_and_value");
  EnableGradGuard grad;
  Tensor y = f();
  check(y.defined() && y.numel() == 1, "grad_and_value: f must return a scalar, got {}",
        shape_of(y));
  if (y.requires_grad()) y.backward();
  return {leaves.take(), y.detach()};
}

std::vector<Tensor> hvp(const ParamFunction& f, const std::vector<Tensor>& params,
                        const std::vector<Tensor>& v) {
  check(params.size() == v.size(), "hvp: {} parameters but {} vectors", params.size(), v.size());
  ScopedLeaves leaves(params, "hvp");
  ScopedTangents tangents(params, v, "hvp");
  EnableGradGuard grad;
  backward_through_tangent(f, "hvp");
  return leaves.take();
}

Tensor hessian(const ParamFunction& f, const std::vector<Tensor>& params) {
  const int64_t n = total_numel(params);
  ScopedLeaves leaves(params, "hessian");
  ScopedTangents tangents(params, {}, "hessian");
  EnableGradGuard grad;
  std::vector<double> h(size_t(n * n));
  for (int64_t j = 0; j < n; ++j) {  // column j = H e_j
    tangents.select(j);
    backward_through_tangent(f, "hessian");
    leaves.take_into(h.data() + j, n);
  }
  return tensor(h, {n, n}, {.dtype = dtype_of_params(params)});
}

Tensor jacobian(const ParamFunction& f, const std::vector<Tensor>& params, JacobianMode mode) {
  const int64_t n = total_numel(params);
  int64_t m = -1;
  auto count = [&m](const Tensor& y) {
    check(y.defined(), "jacobian: f returned an undefined tensor");
    check(m < 0 || y.numel() == m, "jacobian: f returned {} values, then {}", m, y.numel());
    m = y.numel();
  };
  if (mode == JacobianMode::automatic || n == 0) {
    NoGradGuard no_grad;
    count(f());
    if (n == 0) return zeros({m, 0}, {.dtype = dtype_of_params(params)});
    mode = n <= m ? JacobianMode::forward : JacobianMode::reverse;
  }
  if (mode == JacobianMode::forward) {  // column j = J e_j, by n forward passes
    ScopedTangents tangents(params, {}, "jacobian");
    NoGradGuard no_grad;
    std::vector<double> jac;
    for (int64_t j = 0; j < n; ++j) {
      tangents.select(j);
      Tensor y = f();
      count(y);
      if (j == 0) jac.assign(size_t(m * n), 0.0);
      std::vector<double> column = tangent_of(y).to_vector<double>();
      for (int64_t i = 0; i < m; ++i) jac[size_t(i * n + j)] = column[size_t(i)];
    }
    return tensor(jac, {m, n}, {.dtype = dtype_of_params(params)});
  }
  ScopedLeaves leaves(params, "jacobian");  // row i = e_i^T J, by m backward passes
  Tensor y;
  {
    EnableGradGuard grad;
    y = f();
  }
  count(y);
  std::vector<double> jac(size_t(m * n), 0.0);
  for (int64_t i = 0; i < m && y.requires_grad(); ++i) {
    Tensor seed = zeros_like(y);
    seed.reshape({-1}).narrow(0, i, 1).fill_(1);
    y.backward(seed, /*retain_graph=*/i + 1 < m);
    leaves.take_into(jac.data() + i * n, 1);
  }
  return tensor(jac, {m, n}, {.dtype = dtype_of_params(params)});
}

}  // namespace tg
