// Gauss-Newton and Levenberg-Marquardt steps: linearise r once per step, form the normal
// equations J^T J and J^T r in double, solve them, update the parameters.
#include <tapegrad/optim/least_squares.h>

#include <algorithm>

namespace tg::optim {

namespace {

// The normal equations of the linearisation: A = J^T J [n x n] and b = J^T r [n].
struct NormalEquations {
  std::vector<double> a, b;
  double cost = 0;  // 1/2 ||r||^2
};

NormalEquations normal_equations(const ResidualDerivatives& d) {
  const int64_t m = d.m, n = d.n;
  NormalEquations e{std::vector<double>(n * n, 0.0), std::vector<double>(n, 0.0)};
  for (int64_t i = 0; i < m; ++i) {
    const double* row = d.jacobian.data() + i * n;
    const double r = d.residual[i];
    e.cost += 0.5 * r * r;
    for (int64_t j = 0; j < n; ++j) {
      e.b[j] += row[j] * r;
      for (int64_t k = j; k < n; ++k) e.a[j * n + k] += row[j] * row[k];
    }
  }
  for (int64_t j = 0; j < n; ++j)
    for (int64_t k = 0; k < j; ++k) e.a[j * n + k] = e.a[k * n + j];
  return e;
}

// The parameters' values, to undo a rejected trial exactly (double holds float32 exactly too).
std::vector<std::vector<double>> snapshot(const std::vector<Tensor>& params) {
  std::vector<std::vector<double>> values;
  for (const Tensor& p : params) values.push_back(p.to_vector<double>());
  return values;
}

void restore(const std::vector<Tensor>& params, const std::vector<std::vector<double>>& values) {
  for (size_t k = 0; k < params.size(); ++k)
    dispatch_floating(params[k].dtype(), "restore", [&]<typename T>(std::type_identity<T>) {
      std::copy(values[k].begin(), values[k].end(), params[k].data_ptr<T>());
    });
}

double cost_of(const std::vector<double>& r) {
  double c = 0;
  for (double v : r) c += 0.5 * v * v;
  return c;
}

}  // namespace

GaussNewton::GaussNewton(std::vector<Tensor> params, GaussNewtonOptions options)
    : OptimizerWith("GaussNewton", {{std::move(params), options}}) {
  detail::check_lr(name_, options.lr);
}

void GaussNewton::step() {
  fail("GaussNewton: step() needs the residual function; call step(residual_fn)");
}

Tensor GaussNewton::step(const Closure& residual_fn) {
  const GaussNewtonOptions& o = options_[0];
  NormalEquations e =
      normal_equations(residual_derivatives(residual_fn, params_[0], o.jacobian, "GaussNewton"));
  std::vector<double> d = solve_dense(e.a, e.b, "GaussNewton", "J^T J");
  NoGradGuard no_grad;
  add_to_params(params_[0], d, -o.lr);
  for (ParamState& s : state_[0]) s.step++;
  return scalar_tensor(e.cost, {.dtype = params_[0][0].dtype()});  // the cost before the step
}

LevenbergMarquardt::LevenbergMarquardt(std::vector<Tensor> params,
                                       LevenbergMarquardtOptions options)
    : OptimizerWith("LevenbergMarquardt", {{std::move(params), options}}) {
  detail::check_lr(name_, options.lr);
  detail::check_positive(name_, "damping", options.damping);
  check(options.damping_up > 1, "LevenbergMarquardt: invalid damping_up: {} (expected > 1)",
        options.damping_up);
  check(options.damping_down > 1, "LevenbergMarquardt: invalid damping_down: {} (expected > 1)",
        options.damping_down);
  check(options.max_trials > 0, "LevenbergMarquardt: invalid max_trials: {} (expected > 0)",
        options.max_trials);
}

void LevenbergMarquardt::step() {
  fail("LevenbergMarquardt: step() needs the residual function; call step(residual_fn)");
}

double LevenbergMarquardt::damping() const {
  const auto& scalars = state_[0][0].scalars;
  auto it = scalars.find("damping");
  return it == scalars.end() ? options_[0].damping : it->second;
}

Tensor LevenbergMarquardt::step(const Closure& residual_fn) {
  const LevenbergMarquardtOptions& o = options_[0];
  const char* op = "LevenbergMarquardt";
  ResidualDerivatives lin = residual_derivatives(residual_fn, params_[0], o.jacobian, op);
  NormalEquations e = normal_equations(lin);
  const int64_t n = lin.n;
  double lambda = damping();
  accepted_ = false;
  NoGradGuard no_grad;
  const auto start = snapshot(params_[0]);
  for (int64_t trial = 0; trial < o.max_trials && !accepted_; ++trial) {
    std::vector<double> a = e.a;
    for (int64_t j = 0; j < n; ++j)
      a[j * n + j] += lambda * (o.scale_by_diagonal ? e.a[j * n + j] : 1.0);
    std::vector<double> d = solve_dense(a, e.b, op, "J^T J + lambda D");
    add_to_params(params_[0], d, -o.lr);
    accepted_ = cost_of(residual_values(residual_fn, op)) < e.cost;
    if (accepted_) {
      lambda /= o.damping_down;
    } else {
      restore(params_[0], start);
      lambda *= o.damping_up;
    }
  }
  state_[0][0].scalars["damping"] = lambda;
  for (ParamState& s : state_[0]) s.step++;
  return scalar_tensor(e.cost, {.dtype = params_[0][0].dtype()});  // the cost before the step
}

}  // namespace tg::optim
