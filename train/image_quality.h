// Image quality against a reference, as reconstruction papers report it: PSNR in dB and SSIM.
// Both compare two 2-D images of the same shape; data_range (the reference's max - min by
// default) is the L of the formulas, the span of values an image can take.
//
//   double db = train::psnr(fused, truth);          // higher is better; inf when identical
//   double s = train::ssim(fused, truth, 1.0);      // 1 when identical
//
// SSIM is Wang, Bovik, Sheikh and Simoncelli (IEEE TIP 2004) exactly as follows: local means,
// variances and covariance under an 11 x 11 Gaussian window of sigma 1.5 (weights summing to 1;
// variances are the window-weighted population ones, E[x^2] - E[x]^2), C1 = (0.01 L)^2,
// C2 = (0.03 L)^2, the SSIM map ((2 mu_x mu_y + C1)(2 sigma_xy + C2)) /
// ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2)) averaged over the valid region only
// (window centres at least 5 pixels from every edge: no padding). This is scikit-image's
// structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False) up to
// its border handling (it pads and crops); PyTorch itself has no SSIM.
#pragma once

#include <optional>

#include <tapegrad/autograd/tensor.h>

namespace tg::train {

/// Peak signal-to-noise ratio 10 log10(L^2 / MSE) in dB between two images of the same shape
/// (any shape). L = data_range, by default the reference's max - min. Identical images give
/// +inf (as scikit-image's peak_signal_noise_ratio). Throws tg::Error ("psnr: ...") on a shape
/// mismatch, an empty or non-finite image, a data_range <= 0, or a constant reference with
/// no data_range given.
double psnr(const Tensor& estimate, const Tensor& reference,
            std::optional<double> data_range = std::nullopt);

/// Mean structural similarity (Wang et al. 2004, the variant described at the top of this
/// file) of two (H, W) images, H and W >= 11. At most 1, equal to 1 for identical images.
/// Throws tg::Error ("ssim: ...") on a shape mismatch, a non-2-D or too small image, a
/// non-finite pixel, or a bad data_range (as psnr).
double ssim(const Tensor& estimate, const Tensor& reference,
            std::optional<double> data_range = std::nullopt);

}  // namespace tg::train
