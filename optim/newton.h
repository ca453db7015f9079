// Newton's method for small parameter vectors (d2l 11.3.3): the Hessian, computed
// exactly by autodiff, rescales the gradient so that a quadratic is solved in one step.
//
//   x_{t+1} = x_t - eta H(x_t)^{-1} grad f(x_t)                 (eta = 1: pure Newton)
//   x_{t+1} = x_t - eta diag(H(x_t))^{-1} grad f(x_t)           (.diagonal: preconditioning)
// A step size eta < 1 damps the step ("damped Newton"). Each step costs n passes over the
// loss for n parameter elements (see curvature.h) and an n x n solve, so it is meant for
// n up to a few hundred. Newton heads for any stationary point: where H is not positive
// definite it can step uphill, as the course shows.
#pragma once

#include <tapegrad/optim/curvature.h>
#include <tapegrad/optim/optimizer.h>

namespace tg::optim {

/// Options of Newton.
struct NewtonOptions {
  double lr = 1.0;        ///< eta, the step size
  bool diagonal = false;  ///< use only diag(H): a diagonal preconditioner
  /// Every option by name: what state_dict() stores and load_state_dict() compares.
  Hyperparameters hyperparameters() const {
    return {{"lr", lr}, {"diagonal", diagonal}};
  }
};

/// Newton's method: `Newton opt(params); opt.step(loss_fn);` with loss_fn() returning f(x).
class Newton : public OptimizerWith<NewtonOptions> {
 public:
  /// The largest number of parameter elements (the Hessian is dense, n x n doubles).
  static constexpr int64_t kMaxParams = 4096;

  /// One group; throws if the parameters have more than kMaxParams elements.
  Newton(std::vector<Tensor> params, NewtonOptions options = {});
  /// Refused: Newton needs the loss function (call step(loss_fn)).
  void step() override;
  /// One Newton step; returns f before the step. loss_fn must only compute the loss
  /// (no zero_grad or backward): the Hessian needs its own passes. Leaves the gradient in .grad().
  Tensor step(const Closure& loss_fn) override;
};

}  // namespace tg::optim
