// Gradient clipping (before a step) and projections (after a step). Clipping by the
// global norm rescales all gradients together: g <- g min(1, max_norm / (||g|| + 1e-6))
// (Pascanu, Mikolov & Bengio 2013; PyTorch's clip_grad_norm_). Projections keep the
// parameters in a convex set C, x <- argmin_{y in C} ||y - x||: projected gradient
// descent for constrained optimization (d2l 11.2.4).
#pragma once

#include <vector>

#include <tapegrad/autograd/tensor.h>

namespace tg::optim {

/// Scales all gradients so that their joint `norm_type`-norm (infinity allowed) is at most
/// max_norm; returns the norm before clipping. Parameters without a grad are ignored.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2,
                       bool error_if_nonfinite = false);

/// Clamps every gradient element into [-clip_value, clip_value].
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

/// Projects the parameters, seen as one vector, onto the L2 ball {x : ||x||_2 <= radius}:
/// x <- x min(1, radius / ||x||). Returns the norm before the projection.
double project_l2_ball_(const std::vector<Tensor>& params, double radius);

/// Projects every parameter element onto the box [low, high] (clamps it).
void project_box_(const std::vector<Tensor>& params, double low, double high);

}  // namespace tg::optim
