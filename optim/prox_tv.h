// The proximal operator of total variation, for proximal-gradient methods (a gradient step on
// the smooth terms, then this step on the TV term), as in image denoising and fusion:
//
//   prox_tv(v, w) = argmin_x  1/2 ||x - v||^2 + w TV(x)     [subject to x >= lower]
//
// TV is the isotropic total variation over the last two dims of (..., H, W), channel by channel
// (each (H, W) slice is solved on its own, its TV summed), with forward differences and nothing
// across the border:
//   TV(x) = sum_ij sqrt((x[i,j] - x[i+1,j])^2 + (x[i,j] - x[i,j+1])^2),
// a difference that would leave the image counting as 0.
//
// Solved by the fast gradient projection (FGP) of Beck & Teboulle, "Fast gradient-based
// algorithms for constrained total variation image denoising and deblurring problems", IEEE
// TIP 18(11), 2009, Algorithm FGP with lambda = w: projected gradient on the dual (p, q) (the
// differences' dual variables, each pair in the unit disc) with step 1/(8 lambda) and Nesterov
// momentum, the primal read back as x = P_C(v - lambda L(p, q)); C = {x >= lower} when a
// lower bound is given, else everything. The dual objective converges as O(1 / k^2).
// PyTorch has no TV prox; scikit-image's denoise_tv_chambolle solves the same problem without
// a constraint (its weight is w), by Chambolle's slower projection algorithm.
#pragma once

#include <cstdint>
#include <optional>

#include <tapegrad/autograd/tensor.h>

namespace tg::optim {

/// How prox_tv solves its problem.
struct ProxTVOptions {
  int64_t iterations = 50;          ///< FGP iterations (>= 1)
  std::optional<float> lower = {};  ///< the constraint x >= lower (FGP's P_C), e.g. 0
};

/// argmin_x 1/2 ||x - v||^2 + weight TV(x) (x >= options.lower if given), channel-wise over
/// the last two dims of v (..., H, W); same shape as v, a new tensor outside the tape (a
/// proximal step, not a differentiable op). weight = 0 returns v (projected onto x >= lower).
/// Throws tg::Error ("prox_tv: ...") for v with fewer than 2 dims or a non-finite value, a
/// negative or non-finite weight, iterations < 1, or a non-finite lower bound.
Tensor prox_tv(const Tensor& v, float weight, const ProxTVOptions& options = {});

/// The isotropic total variation of prox_tv (the same differences), summed over every (H, W)
/// slice of x (..., H, W). Throws tg::Error ("total_variation: ...") for fewer than 2 dims.
double total_variation(const Tensor& x);

}  // namespace tg::optim
