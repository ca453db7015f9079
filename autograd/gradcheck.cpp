// Central differences in the params' dtype: the projected loss is summed in
// double, the step actually taken in that dtype is the denominator, and the
// default tolerances follow the dtype's rounding (gradcheck.h).
// The tape's side comes from vjp (forward.h); this file only perturbs and compares.
#include <tapegrad/autograd/gradcheck.h>

#include <cmath>

#include <tapegrad/autograd/grad.h>
#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/node.h>
#include <tapegrad/core/random.h>

namespace tg {

namespace {

double projected(const Tensor& y, const std::vector<double>& u) {
  std::vector<double> v = y.to_vector<double>();
  double s = 0;
  for (size_t i = 0; i < v.size(); ++i) s += u[i] * v[i];
  return s;
}

// A fixed random projection of f's output, in [-1, 1) (exact in float32 too).
std::vector<double> projection(const Tensor& y, uint64_t seed) {
  Generator gen;
  gen.seed(seed);
  std::vector<double> u(size_t(y.numel()));
  for (double& v : u) v = double(gen.uniform()) * 2 - 1;
  return u;
}

// The step and tolerances: the ones given, else the defaults of the params' dtype.
struct Settings {
  double eps, atol, rtol;
};
Settings settings_for(const GradcheckOptions& o, Dtype dtype) {
  bool f64 = dtype == kFloat64;
  return {o.eps.value_or(f64 ? 1e-6 : 1e-3), o.atol.value_or(f64 ? 1e-5 : 1e-3),
          o.rtol.value_or(f64 ? 1e-3 : 1e-2)};
}

// Copies of the inputs as fresh leaves in the dtype the options ask for.
std::vector<Tensor> leaves_of(const std::vector<Tensor>& inputs, const GradcheckOptions& o,
                              const char* op) {
  std::vector<Tensor> leaves;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    check(x.defined(), "{}: input {} is undefined", op, k);
    check(x.is_floating_point(), "{}: input {} is {}; only floating-point inputs can be "
          "differentiated", op, k, x.dtype());
    leaves.push_back(x.detach().to(o.dtype.value_or(x.dtype())).contiguous().clone());
  }
  return leaves;
}

// Every param requires grad for one scope (finite differences call f with grad mode off and
// plain leaves); each gets its own flag back afterwards.
class RequireGrad {
 public:
  explicit RequireGrad(const std::vector<Tensor>& params) : params_(params) {
    for (const Tensor& p : params_) {
      flags_.push_back(p.requires_grad());
      p.autograd_meta().requires_grad = true;
    }
  }
  ~RequireGrad() {
    for (size_t k = 0; k < params_.size(); ++k) params_[k].autograd_meta().requires_grad = flags_[k];
  }
  RequireGrad(const RequireGrad&) = delete;
  RequireGrad& operator=(const RequireGrad&) = delete;

 private:
  const std::vector<Tensor>& params_;
  std::vector<bool> flags_;
};

}  // namespace

GradcheckResult gradgradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs,
                              GradcheckOptions options) {
  std::vector<Tensor> leaves = leaves_of(inputs, options, "gradgradcheck");
  return gradgradcheck([&] { return f(leaves); }, leaves, options);
}

GradcheckResult gradgradcheck(const ParamFunction& f, const std::vector<Tensor>& params,
                              GradcheckOptions options) {
  Tensor y0;
  {
    NoGradGuard no_grad;
    y0 = f();
  }
  check(y0.defined(), "gradgradcheck: the function returned an undefined tensor");
  Tensor u = tensor(projection(y0, options.seed + 1), y0.shape(), {.dtype = y0.dtype()});
  Tensor w = tensor(projection(y0, options.seed + 2), y0.shape(), {.dtype = y0.dtype()});
  // The first derivatives as one flat vector, recorded so that they can be differentiated.
  // The loss is quadratic in y so that dL/dy depends on the inputs: a closure must be
  // differentiable in its incoming gradient too (PyTorch checks that through grad_outputs).
  ParamFunction first_derivatives = [&] {
    EnableGradGuard grad_mode;
    RequireGrad scoped(params);
    Tensor y = f();
    Tensor s = (y * u + y * y * w * 0.5).sum();
    std::vector<Tensor> flat;
    std::vector<Tensor> g;
    if (s.requires_grad())
      g = grad({s}, params, {}, {.create_graph = true, .allow_unused = true});
    for (size_t k = 0; k < params.size(); ++k)
      flat.push_back(k < g.size() && g[k].defined() ? g[k].reshape({-1})
                                                    : zeros({params[k].numel()}, {.dtype = params[k].dtype()}));
    return cat(flat);
  };
  GradcheckResult r = gradcheck(first_derivatives, params, options);
  r.message = "grad" + r.message;
  return r;
}

GradcheckResult gradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs,
                          GradcheckOptions options) {
  std::vector<Tensor> leaves = leaves_of(inputs, options, "gradcheck");
  return gradcheck([&] { return f(leaves); }, leaves, options);
}

GradcheckResult gradcheck(const ParamFunction& f, const std::vector<Tensor>& params,
                          GradcheckOptions options) {
  for (size_t k = 0; k < params.size(); ++k) {  // perturbed through data(), so plain leaves
    const Tensor& p = params[k];
    check(p.defined(), "gradcheck: tensor {} is undefined", k);
    check(p.is_leaf(),
          "gradcheck: tensor {} of shape {} is not a leaf (it was computed by '{}'); hint: pass "
          "the tensors f reads, such as x and module.parameters()",
          k, p.shape(), p.is_leaf() ? "" : p.grad_fn()->name);
    check(p.is_contiguous(),
          "gradcheck: tensor {} of shape {} is not contiguous; hint: pass x.contiguous().clone()",
          k, p.shape());
  }
  Tensor y0;
  {
    NoGradGuard no_grad;
    y0 = f();
  }
  check(y0.defined(), "gradcheck: the function returned an undefined tensor");
  std::vector<double> u = projection(y0, options.seed);
  std::vector<Tensor> analytic =
      vjp(f, params, tensor(u, y0.shape(), {.dtype = y0.dtype()})).second;

  GradcheckResult result;
  double worst = -INFINITY;
  NoGradGuard no_grad;
  for (size_t k = 0; k < params.size(); ++k) {
    check(params[k].is_floating_point(), "gradcheck: tensor {} is {}; only floating-point "
          "tensors can be differentiated", k, params[k].dtype());
    const Settings set = settings_for(options, params[k].dtype());
    std::vector<double> grad = analytic[k].to_vector<double>();
    dispatch_floating(params[k].dtype(), "gradcheck", [&]<typename T>(std::type_identity<T>) {
      for (int64_t i = 0; i < params[k].numel(); ++i) {
        T* p = params[k].data_ptr<T>() + i;
        const T saved = *p;
        struct Restore {  // also when f throws: the caller's tensor is left as it was
          T *at, value;
          ~Restore() { *at = value; }
        } restore{p, saved};
        const T up = saved + T(set.eps), down = saved - T(set.eps);
        *p = up;
        double plus = projected(f(), u);
        *p = down;
        double minus = projected(f(), u);
        // The step actually taken in T, not the nominal 2 eps.
        double numeric = (plus - minus) / (double(up) - double(down));
        double excess = std::abs(grad[i] - numeric) - (set.atol + set.rtol * std::abs(numeric));
        if (excess > worst) {
          worst = excess;
          result.input = int(k);
          result.index = i;
          result.analytic = grad[i];
          result.numeric = numeric;
          result.error = excess;
        }
      }
    });
  }
  result.ok = worst <= 0;
  result.message = fmt::format(
      "gradcheck {}: worst element is input {} index {}: tape {:.6g} vs finite differences {:.6g}",
      result.ok ? "passed" : "FAILED", result.input, result.index, result.analytic, result.numeric);
  return result;
}

}  // namespace tg
