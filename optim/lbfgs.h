// L-BFGS (Nocedal 1980; Liu & Nocedal 1989), a port of torch.optim.LBFGS (itself after
// Schmidt's minFunc): a quasi-Newton method that approximates H^{-1} from the last m pairs
// s_k = x_{k+1} - x_k, y_k = g_{k+1} - g_k (kept when y_k^T s_k > 1e-10), rho_k = 1 / y_k^T s_k.
//
//   two-loop recursion, d = -H_k g:  q = -g;  for k = newest..oldest: a_k = rho_k s_k^T q,
//       q -= a_k y_k;  r = gamma q with gamma = s^T y / y^T y (newest pair);
//       for k = oldest..newest: b = rho_k y_k^T r,  r += (a_k - b) s_k;  d = r
//   x <- x + t d,  t = lr (first iteration: min(1, 1 / ||g||_1) lr), or t from a line search
//       satisfying the strong Wolfe conditions (Nocedal & Wright, Algorithms 3.5-3.6):
//       f(x + t d) <= f(x) + c1 t g^T d  and  |g(x + t d)^T d| <= -c2 g^T d  (c1 1e-4, c2 0.9)
// One step(closure) runs up to max_iter iterations and stops early when max|g| <=
// tolerance_grad, or when the step or the change of the loss falls below tolerance_change.
// The closure re-evaluates the model as in PyTorch: zero_grad(), loss, backward(), return loss.
#pragma once

#include <deque>
#include <optional>

#include <tapegrad/optim/optimizer.h>

namespace tg::optim {

/// The line search of LBFGS.
enum class LineSearch { none, strong_wolfe };

/// Options of LBFGS, with PyTorch's names and defaults.
struct LBFGSOptions {
  double lr = 1;
  int64_t max_iter = 20;              ///< iterations per step()
  std::optional<int64_t> max_eval{};  ///< closure calls per step(); default max_iter * 5 / 4
  double tolerance_grad = 1e-7;
  double tolerance_change = 1e-9;
  int64_t history_size = 100;
  LineSearch line_search_fn = LineSearch::none;
  /// Every option by name: what state_dict() stores and load_state_dict() compares.
  Hyperparameters hyperparameters() const {
    return {{"lr", lr},
            {"max_iter", max_iter},
            {"max_eval", max_eval},
            {"tolerance_grad", tolerance_grad},
            {"tolerance_change", tolerance_change},
            {"history_size", history_size},
            {"line_search_fn", line_search_fn == LineSearch::strong_wolfe ? "strong_wolfe" : "none"}};
  }
};

/// L-BFGS over one group of parameters: `LBFGS opt(params, {.line_search_fn = ...});`
/// then `opt.step(closure)` (a full-batch method: the closure sees all the data).
class LBFGS : public OptimizerWith<LBFGSOptions> {
 public:
  /// One group only, as PyTorch's (all parameters form one flat vector, so they share a dtype).
  LBFGS(std::vector<Tensor> params, LBFGSOptions options = {});
  /// Refused: LBFGS re-evaluates the loss, so it needs a closure (call step(closure)).
  void step() override;
  /// Up to max_iter iterations; returns the loss of the first closure call.
  Tensor step(const Closure& closure) override;
  /// Iterations and closure calls since construction (PyTorch's state n_iter, func_evals).
  int64_t n_iter() const { return n_iter_; }
  int64_t func_evals() const { return func_evals_; }  ///< closure calls since construction

 protected:
  /// The history and counters, as "lbfgs.*" entries.
  void save_extra_state(StateDict& dict) const override;
  /// Checks and restores the "lbfgs.*" entries (sizes against the parameters).
  void load_extra_state(const StateDict& extra) override;

 private:
  // The history, over all parameter elements as one flat vector, in the parameters' dtype:
  // float for float32 (as PyTorch's, so the state saves exactly), double for float64.
  template <typename T>
  struct History {
    std::vector<T> d{}, prev_flat_grad{};
    std::deque<std::vector<T>> old_dirs{}, old_stps{};  // y_k and s_k, oldest first
  };
  template <typename T>
  History<T>& history();  // history32_ or history64_
  template <typename T>
  const History<T>& history() const;
  template <typename T>
  Tensor step_in(const Closure& closure);
  template <typename T>
  std::vector<T> gather_flat_grad() const;
  template <typename T>
  std::vector<T> gather_params() const;
  template <typename T>
  void set_params(const std::vector<T>& x);
  template <typename T>
  void add_to_params(double t, const std::vector<T>& d);

  Dtype dtype_;  // every parameter's
  int64_t n_iter_ = 0, func_evals_ = 0;
  History<float> history32_;
  History<double> history64_;
  double t_ = 0, h_diag_ = 1, prev_loss_ = 0;
  std::deque<double> ro_;
};

}  // namespace tg::optim
