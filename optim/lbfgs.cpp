// L-BFGS, following torch/optim/lbfgs.py line by line: the cubic interpolation, the strong
// Wolfe line search, then the step with its two-loop recursion and stopping tests. Flat
// vectors have the parameters' element type T (float for float32, as PyTorch's, so the state
// saves exactly; double for float64); dot products and scalars are double.
#include <tapegrad/optim/lbfgs.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <utility>

namespace tg::optim {

namespace {

template <typename T>
using Flat = std::vector<T>;

template <typename T>
double dot(const Flat<T>& a, const Flat<T>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * double(b[i]);
  return s;
}

template <typename T>
double max_abs(const Flat<T>& a) {
  double m = 0;
  for (T v : a) m = std::max(m, double(std::abs(v)));
  return m;
}

// Minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clamped to the
// bounds (by default [min(x1, x2), max(x1, x2)]); the bounds' midpoint if it has none.
double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                         std::optional<std::array<double, 2>> bounds = std::nullopt) {
  auto [lo, hi] = bounds ? *bounds : (x1 <= x2 ? std::array{x1, x2} : std::array{x2, x1});
  double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  double d2_square = d1 * d1 - g1 * g2;
  if (d2_square < 0) return (lo + hi) / 2;
  double d2 = std::sqrt(d2_square);
  double min_pos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                            : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
  return std::min(std::max(min_pos, lo), hi);
}

template <typename T>
struct LineSearchResult {
  double f;
  Flat<T> g;
  double t;
  int64_t evals;
};

// f and its flat gradient at x + t d (the parameters are restored afterwards).
template <typename T>
using DirectionalObjective = std::function<double(double t, Flat<T>& g)>;

// Finds t satisfying the strong Wolfe conditions: bracketing, then zooming by cubic
// interpolation (Nocedal & Wright, Algorithms 3.5 and 3.6), as PyTorch's _strong_wolfe.
template <typename T>
LineSearchResult<T> strong_wolfe(const DirectionalObjective<T>& obj, double t, const Flat<T>& d,
                                 double f, const Flat<T>& g, double gtd, double tolerance_change,
                                 double c1 = 1e-4, double c2 = 0.9, int max_ls = 25) {
  const double d_norm = max_abs(d);
  Flat<T> g_new;
  double f_new = obj(t, g_new);
  int64_t evals = 1;
  double gtd_new = dot(g_new, d);
  double t_prev = 0, f_prev = f, gtd_prev = gtd;
  Flat<T> g_prev = g;
  bool done = false;
  int ls_iter = 0;
  std::array<double, 2> bracket{}, bracket_f{}, bracket_gtd{};
  std::array<Flat<T>, 2> bracket_g;
  int size = 0;  // 1 when the first trial already satisfies the conditions
  while (ls_iter < max_ls) {
    const bool no_decrease = f_new > f + c1 * t * gtd || (ls_iter > 1 && f_new >= f_prev);
    if (!no_decrease && std::abs(gtd_new) <= -c2 * gtd) {  // both conditions hold
      bracket[0] = t, bracket_f[0] = f_new, bracket_g[0] = g_new;
      size = 1;
      done = true;
      break;
    }
    if (no_decrease || gtd_new >= 0) {  // a minimiser lies between t_prev and t
      bracket = {t_prev, t}, bracket_f = {f_prev, f_new}, bracket_gtd = {gtd_prev, gtd_new};
      bracket_g = {g_prev, g_new};
      size = 2;
      break;
    }
    // Extrapolate between t + 0.01 (t - t_prev) and 10 t.
    double min_step = t + 0.01 * (t - t_prev), max_step = t * 10, previous = t;
    t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                          std::array{min_step, max_step});
    t_prev = previous, f_prev = f_new, g_prev = g_new, gtd_prev = gtd_new;
    f_new = obj(t, g_new);
    evals++;
    gtd_new = dot(g_new, d);
    ls_iter++;
  }
  if (ls_iter == max_ls) {  // reached the evaluation budget while bracketing
    bracket = {0, t}, bracket_f = {f, f_new}, bracket_g = {g, g_new};
    size = 2;
  }
  // Zoom: shrink the bracket until a point satisfies the conditions.
  bool insufficient_progress = false;
  int low = bracket_f[0] <= bracket_f[size - 1] ? 0 : 1, high = 1 - low;
  while (!done && ls_iter < max_ls) {
    if (std::abs(bracket[1] - bracket[0]) * d_norm < tolerance_change) break;
    t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1],
                          bracket_gtd[1]);
    // Keep t at least 10% of the bracket away from its ends, unless progress was good.
    double b_max = std::max(bracket[0], bracket[1]), b_min = std::min(bracket[0], bracket[1]);
    double eps = 0.1 * (b_max - b_min);
    if (std::min(b_max - t, t - b_min) < eps) {
      if (insufficient_progress || t >= b_max || t <= b_min) {
        t = std::abs(t - b_max) < std::abs(t - b_min) ? b_max - eps : b_min + eps;
        insufficient_progress = false;
      } else {
        insufficient_progress = true;
      }
    } else {
      insufficient_progress = false;
    }
    f_new = obj(t, g_new);
    evals++;
    gtd_new = dot(g_new, d);
    ls_iter++;
    if (f_new > f + c1 * t * gtd || f_new >= bracket_f[low]) {  // sufficient decrease fails
      bracket[high] = t, bracket_f[high] = f_new, bracket_g[high] = g_new;
      bracket_gtd[high] = gtd_new;
      low = bracket_f[0] <= bracket_f[1] ? 0 : 1, high = 1 - low;
    } else {
      if (std::abs(gtd_new) <= -c2 * gtd) {
        done = true;  // the curvature condition holds too
      } else if (gtd_new * (bracket[high] - bracket[low]) >= 0) {
        bracket[high] = bracket[low], bracket_f[high] = bracket_f[low];
        bracket_g[high] = bracket_g[low], bracket_gtd[high] = bracket_gtd[low];
      }
      bracket[low] = t, bracket_f[low] = f_new, bracket_g[low] = g_new;
      bracket_gtd[low] = gtd_new;
    }
  }
  return {bracket_f[low], std::move(bracket_g[low]), bracket[low], evals};
}

}  // namespace

LBFGS::LBFGS(std::vector<Tensor> params, LBFGSOptions options)
    : OptimizerWith("LBFGS", {{std::move(params), options}}) {
  const LBFGSOptions& o = options_[0];
  detail::check_lr(name_, o.lr);
  check(o.max_iter > 0, "LBFGS: invalid max_iter: {} (expected > 0)", o.max_iter);
  check(!o.max_eval || *o.max_eval > 0, "LBFGS: invalid max_eval: {} (expected > 0)",
        o.max_eval.value_or(0));
  detail::check_non_negative(name_, "tolerance_grad", o.tolerance_grad);
  detail::check_non_negative(name_, "tolerance_change", o.tolerance_change);
  check(o.history_size > 0, "LBFGS: invalid history_size: {} (expected > 0)", o.history_size);
  dtype_ = params_[0][0].dtype();
  for (const Tensor& p : params_[0])
    check(p.dtype() == dtype_,
          "LBFGS: the parameters are {} and {}; they form one flat vector, so they must share "
          "a dtype; hint: convert them with .to()", dtype_, p.dtype());
}

void LBFGS::step() {
  fail("LBFGS: step() needs a closure that re-evaluates the loss; call step(closure)");
}

template <typename T>
const LBFGS::History<T>& LBFGS::history() const {
  if constexpr (std::is_same_v<T, float>)
    return history32_;
  else
    return history64_;
}

template <typename T>
LBFGS::History<T>& LBFGS::history() {
  return const_cast<History<T>&>(std::as_const(*this).history<T>());
}

template <typename T>
Flat<T> LBFGS::gather_flat_grad() const {
  Flat<T> flat;
  for (const Tensor& p : params_[0]) {
    Tensor g = p.grad();
    if (!g.defined())
      flat.insert(flat.end(), p.numel(), T(0));
    else
      for (T v : g.to_vector<T>()) flat.push_back(v);
  }
  return flat;
}

template <typename T>
Flat<T> LBFGS::gather_params() const {
  Flat<T> flat;
  for (const Tensor& p : params_[0])
    flat.insert(flat.end(), p.data_ptr<T>(), p.data_ptr<T>() + p.numel());
  return flat;
}

template <typename T>
void LBFGS::set_params(const Flat<T>& x) {
  size_t offset = 0;
  for (Tensor& p : params_[0]) {
    std::copy(x.begin() + offset, x.begin() + offset + p.numel(), p.data_ptr<T>());
    offset += p.numel();
  }
}

template <typename T>
void LBFGS::add_to_params(double t, const Flat<T>& d) {
  const T step = T(t);
  size_t offset = 0;
  for (Tensor& p : params_[0]) {
    T* x = p.data_ptr<T>();
    for (int64_t i = 0; i < p.numel(); ++i) x[i] += step * d[offset + i];
    p.bump_version();
    offset += p.numel();
  }
}

Tensor LBFGS::step(const Closure& closure) {
  return dispatch_floating(dtype_, "LBFGS", [&]<typename T>(std::type_identity<T>) {
    return step_in<T>(closure);
  });
}

template <typename T>
Tensor LBFGS::step_in(const Closure& closure) {
  History<T>& h = history<T>();
  const LBFGSOptions& o = options_[0];
  const int64_t max_eval = o.max_eval.value_or(o.max_iter * 5 / 4);
  auto evaluate = [&]() -> Tensor {
    EnableGradGuard grad_mode;
    return closure();
  };
  auto loss_at = [&]() -> double {  // the loss in double, whatever its dtype
    Tensor l = evaluate();
    return l.item<double>();
  };
  NoGradGuard no_grad;
  Tensor orig_loss = evaluate();
  check(orig_loss.defined() && orig_loss.numel() == 1,
        "LBFGS: the closure must return the scalar loss");
  double loss = orig_loss.item<double>();
  int64_t current_evals = 1;
  func_evals_++;
  Flat<T> flat_grad = gather_flat_grad<T>();
  if (max_abs(flat_grad) <= o.tolerance_grad) return orig_loss;  // already optimal

  for (int64_t n_iter = 1; n_iter <= o.max_iter; ++n_iter) {
    n_iter_++;
    // The direction d = -H g from the two-loop recursion.
    if (n_iter_ == 1) {
      h.d.resize(flat_grad.size());
      for (size_t i = 0; i < h.d.size(); ++i) h.d[i] = -flat_grad[i];
      h.old_dirs.clear(), h.old_stps.clear(), ro_.clear();
      h_diag_ = 1;
    } else {
      Flat<T> y(flat_grad.size()), s(flat_grad.size());
      for (size_t i = 0; i < y.size(); ++i) {
        y[i] = flat_grad[i] - h.prev_flat_grad[i];
        s[i] = h.d[i] * T(t_);
      }
      double ys = dot(y, s);
      if (ys > 1e-10) {  // keep only pairs with positive curvature
        if (int64_t(h.old_dirs.size()) == o.history_size) {
          h.old_dirs.pop_front(), h.old_stps.pop_front(), ro_.pop_front();
        }
        h.old_dirs.push_back(y), h.old_stps.push_back(s), ro_.push_back(1 / ys);
        h_diag_ = ys / dot(y, y);
      }
      const size_t num_old = h.old_dirs.size();
      std::vector<double> al(num_old);
      Flat<T> q(flat_grad.size());
      for (size_t i = 0; i < q.size(); ++i) q[i] = -flat_grad[i];
      for (size_t k = num_old; k-- > 0;) {
        al[k] = dot(h.old_stps[k], q) * ro_[k];
        const T a = al[k];
        for (size_t i = 0; i < q.size(); ++i) q[i] -= a * h.old_dirs[k][i];
      }
      const T gamma = h_diag_;
      for (size_t i = 0; i < q.size(); ++i) h.d[i] = q[i] * gamma;
      for (size_t k = 0; k < num_old; ++k) {
        const T c = al[k] - dot(h.old_dirs[k], h.d) * ro_[k];
        for (size_t i = 0; i < h.d.size(); ++i) h.d[i] += c * h.old_stps[k][i];
      }
    }
    h.prev_flat_grad = flat_grad;
    prev_loss_ = loss;

    // The step length: a fixed lr (smaller on the very first iteration), or a line search.
    if (n_iter_ == 1) {
      double g_sum = 0;
      for (T v : flat_grad) g_sum += std::abs(v);
      t_ = std::min(1.0, 1.0 / g_sum) * o.lr;
    } else {
      t_ = o.lr;
    }
    double gtd = dot(flat_grad, h.d);
    if (gtd > -o.tolerance_change) break;  // not a descent direction any more

    int64_t ls_func_evals = 0;
    bool opt_cond = false;
    if (o.line_search_fn == LineSearch::strong_wolfe) {
      const Flat<T> x_init = gather_params<T>();
      auto obj = [&](double t, Flat<T>& g) {
        add_to_params(t, h.d);
        double f = loss_at();
        g = gather_flat_grad<T>();
        set_params(x_init);
        return f;
      };
      LineSearchResult<T> r =
          strong_wolfe<T>(obj, t_, h.d, loss, flat_grad, gtd, o.tolerance_change);
      loss = r.f, flat_grad = std::move(r.g), t_ = r.t, ls_func_evals = r.evals;
      add_to_params(t_, h.d);
      opt_cond = max_abs(flat_grad) <= o.tolerance_grad;
    } else {
      add_to_params(t_, h.d);
      if (n_iter != o.max_iter) {  // re-evaluate, unless this was the last iteration
        loss = loss_at();
        flat_grad = gather_flat_grad<T>();
        opt_cond = max_abs(flat_grad) <= o.tolerance_grad;
        ls_func_evals = 1;
      }
    }
    current_evals += ls_func_evals;
    func_evals_ += ls_func_evals;

    if (n_iter == o.max_iter || current_evals >= max_eval || opt_cond) break;
    if (max_abs(h.d) * std::abs(t_) <= o.tolerance_change) break;  // the step is tiny
    if (std::abs(loss - prev_loss_) < o.tolerance_change) break;  // the loss stalls
  }
  return orig_loss;
}

void LBFGS::save_extra_state(StateDict& dict) const {
  dict.set("lbfgs.n_iter", double(n_iter_));
  dict.set("lbfgs.func_evals", double(func_evals_));
  dict.set("lbfgs.t", t_);
  dict.set("lbfgs.H_diag", h_diag_);
  dict.set("lbfgs.prev_loss", prev_loss_);
  dict.set("lbfgs.history", double(ro_.size()));
  dispatch_floating(dtype_, "LBFGS", [&]<typename T>(std::type_identity<T>) {
    const History<T>& h = history<T>();
    auto as_tensor = [](const Flat<T>& v) {
      return tensor(std::vector<double>(v.begin(), v.end()), {int64_t(v.size())},
                    {.dtype = dtype_of<T>});
    };
    if (!h.d.empty()) dict.insert("lbfgs.d", as_tensor(h.d));
    if (!h.prev_flat_grad.empty()) dict.insert("lbfgs.prev_flat_grad", as_tensor(h.prev_flat_grad));
    for (size_t k = 0; k < h.old_dirs.size(); ++k) {
      dict.insert(fmt::format("lbfgs.old_dirs.{}", k), as_tensor(h.old_dirs[k]));
      dict.insert(fmt::format("lbfgs.old_stps.{}", k), as_tensor(h.old_stps[k]));
    }
  });
  for (size_t k = 0; k < ro_.size(); ++k) dict.set(fmt::format("lbfgs.ro.{}", k), ro_[k]);
}

void LBFGS::load_extra_state(const StateDict& extra) {
  dispatch_floating(dtype_, "LBFGS", [&]<typename T>(std::type_identity<T>) {
    const size_t n = gather_params<T>().size();
    std::set<std::string> used;  // every entry must be one of ours
    auto scalar = [&](const std::string& key) {
      check(extra.has(key), "LBFGS: load_state_dict: missing entry '{}'", key);
      used.insert(key);
      return extra.number(key);
    };
    auto flat = [&](const std::string& key, bool required) {
      const Tensor* t = extra.find(key);
      check(!required || t, "LBFGS: load_state_dict: missing entry '{}'", key);
      if (!t) return Flat<T>{};
      used.insert(key);
      check(t->numel() == int64_t(n),
            "LBFGS: load_state_dict: '{}' has {} elements, the parameters {}", key, t->numel(), n);
      check(is_floating_point(t->dtype()), "LBFGS: load_state_dict: '{}' is {}, expected a "
            "floating tensor", key, t->dtype());
      return t->to_vector<T>();  // in the parameters' dtype, as the first-order state
    };
    // Parse everything first, then commit: a refused dict leaves the optimizer as it was.
    const int64_t n_iter = int64_t(scalar("lbfgs.n_iter"));
    const int64_t func_evals = int64_t(scalar("lbfgs.func_evals"));
    const double t = scalar("lbfgs.t"), h_diag = scalar("lbfgs.H_diag");
    const double prev_loss = scalar("lbfgs.prev_loss");
    History<T> h;
    h.d = flat("lbfgs.d", false), h.prev_flat_grad = flat("lbfgs.prev_flat_grad", false);
    std::deque<double> ro;
    const double pairs = scalar("lbfgs.history");
    check(pairs >= 0 && pairs <= double(options_[0].history_size) && pairs == std::floor(pairs),
          "LBFGS: load_state_dict: 'lbfgs.history' is {}, expected a whole number in [0, {}]",
          pairs, options_[0].history_size);
    for (size_t k = 0; k < size_t(pairs); ++k) {
      h.old_dirs.push_back(flat(fmt::format("lbfgs.old_dirs.{}", k), true));
      h.old_stps.push_back(flat(fmt::format("lbfgs.old_stps.{}", k), true));
      ro.push_back(scalar(fmt::format("lbfgs.ro.{}", k)));
    }
    for (const auto& [key, value] : extra.metadata())
      check(used.contains(key), "LBFGS: load_state_dict: unexpected entry '{}'", key);
    for (const auto& [key, value] : extra)
      check(used.contains(key), "LBFGS: load_state_dict: unexpected entry '{}'", key);
    n_iter_ = n_iter, func_evals_ = func_evals, t_ = t, h_diag_ = h_diag, prev_loss_ = prev_loss;
    history<T>() = std::move(h);
    ro_ = std::move(ro);
  });
}

}  // namespace tg::optim
