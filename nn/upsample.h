// Upsampling: the Upsample module over functional::interpolate (declared in nn/functional.h,
// defined in upsample.cpp with its backward and tangent rules), nearest or bilinear resizing
// of the planes of [N, C, H, W] with PyTorch's index rules.
#pragma once

#include <string>

#include <tapegrad/autograd/tensor.h>
#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/module.h>

namespace tg::nn {

using functional::InterpolateMode;
using functional::InterpolateOptions;

/// Resizes [N, C, H, W] to a size or by a scale factor: PyTorch's Upsample, e.g.
/// `Upsample({.scale_factor = 2, .mode = InterpolateMode::Bilinear})`.
class Upsample : public Module {
 public:
  /// Exactly one of size and scale_factor; align_corners only with bilinear.
  explicit Upsample(const InterpolateOptions& options);
  /// functional::interpolate(input, options).
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  ///< "scale_factor=2.0, mode=bilinear"

  InterpolateOptions options;  ///< as given to the constructor
};

}  // namespace tg::nn
