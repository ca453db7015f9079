// Gauss-Newton and Levenberg-Marquardt for least squares: minimise the cost
// C(x) = 1/2 ||r(x)||^2 of a residual vector r: R^n -> R^m by linearising r around x,
// r(x + d) ~ r + J d (J the Jacobian, from the tape or from forward mode; curvature.h).
//
//   Gauss-Newton (Gauss 1809):   (J^T J) d = -J^T r,             x <- x + eta d
//   Levenberg (1944) - Marquardt (1963):
//                                (J^T J + lambda D) d = -J^T r,  D = diag(J^T J) (Marquardt)
//                                                                or I (.scale_by_diagonal = false)
//     the trial x + d is kept if it lowers C, and then lambda <- lambda / damping_down;
//     otherwise it is undone and lambda <- lambda * damping_up, and the solve is retried.
// Small lambda gives Gauss-Newton's step, large lambda a short gradient step. A linear
// least-squares problem is solved by one Gauss-Newton step.
#pragma once

#include <tapegrad/optim/curvature.h>
#include <tapegrad/optim/optimizer.h>

namespace tg::optim {

/// The name of a JacobianMode, as a state dict stores it ("automatic", "forward", "reverse").
inline const char* jacobian_mode_name(JacobianMode mode) {
  return mode == JacobianMode::forward ? "forward"
         : mode == JacobianMode::reverse ? "reverse"
                                         : "automatic";
}

/// Options of GaussNewton.
struct GaussNewtonOptions {
  double lr = 1.0;  ///< eta, the step size (1: the full step)
  JacobianMode jacobian = JacobianMode::automatic;
  /// Every option by name: what state_dict() stores and load_state_dict() compares.
  Hyperparameters hyperparameters() const {
    return {{"lr", lr}, {"jacobian", jacobian_mode_name(jacobian)}};
  }
};

/// Gauss-Newton: `GaussNewton opt(params); opt.step(residual_fn);` with residual_fn() = r(x).
class GaussNewton : public OptimizerWith<GaussNewtonOptions> {
 public:
  /// One group of parameters: the unknowns of the residual function.
  GaussNewton(std::vector<Tensor> params, GaussNewtonOptions options = {});
  /// Refused: Gauss-Newton needs the residual function (call step(residual_fn)).
  void step() override;
  /// One step; returns the cost 1/2 ||r||^2 before it. residual_fn must only compute r.
  Tensor step(const Closure& residual_fn) override;
};

/// Options of LevenbergMarquardt.
struct LevenbergMarquardtOptions {
  double lr = 1.0;                ///< scales the trial step (1: the full step)
  double damping = 1e-3;          ///< lambda at the first step; adapted after each trial
  double damping_up = 10;         ///< lambda *= damping_up after a rejected trial
  double damping_down = 10;       ///< lambda /= damping_down after an accepted trial
  int64_t max_trials = 10;        ///< rejected trials per step before giving up (x unchanged)
  bool scale_by_diagonal = true;  ///< D = diag(J^T J) (Marquardt) instead of I (Levenberg)
  JacobianMode jacobian = JacobianMode::automatic;
  /// Every option by name: what state_dict() stores and load_state_dict() compares.
  Hyperparameters hyperparameters() const {
    return {{"lr", lr},
            {"damping", damping},
            {"damping_up", damping_up},
            {"damping_down", damping_down},
            {"max_trials", max_trials},
            {"scale_by_diagonal", scale_by_diagonal},
            {"jacobian", jacobian_mode_name(jacobian)}};
  }
};

/// Levenberg-Marquardt: `LevenbergMarquardt opt(params); opt.step(residual_fn);`.
class LevenbergMarquardt : public OptimizerWith<LevenbergMarquardtOptions> {
 public:
  /// One group of parameters: the unknowns of the residual function.
  LevenbergMarquardt(std::vector<Tensor> params, LevenbergMarquardtOptions options = {});
  /// Refused: Levenberg-Marquardt needs the residual function (call step(residual_fn)).
  void step() override;
  /// One accepted step (or none after max_trials rejections); returns the cost before it.
  Tensor step(const Closure& residual_fn) override;
  /// The current damping lambda (kept in the state dict as "state.0.damping").
  double damping() const;
  /// Whether the last step() found a trial that lowered the cost.
  bool last_step_accepted() const { return accepted_; }

 private:
  bool accepted_ = false;
};

}  // namespace tg::optim
