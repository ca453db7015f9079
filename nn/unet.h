// UNet: the encoder-decoder with skip connections of Ronneberger, Fischer and Brox (MICCAI
// 2015), in the small form image-to-image reconstruction uses (fastMRI's baseline, Zbontar et
// al. 2018): at each level two 3x3 convolutions, each followed by GroupNorm and ReLU; 2x2 max
// pooling down; a 2x2 stride-2 transposed convolution up, whose output is concatenated with the
// skip of its level before the level's two convolutions; a 1x1 convolution out. PyTorch ships
// no UNet (nor does torchvision); this is the common reference layout, built from nn's layers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <tapegrad/nn/container.h>
#include <tapegrad/nn/conv.h>
#include <tapegrad/nn/module.h>
#include <tapegrad/nn/sequential.h>

namespace tg::nn {

/// Options of UNet, for `UNet({.in = 1, .out = 1, .channels = 16, .depth = 2})`.
struct UNetOptions {
  int64_t in = 1;         ///< input channels
  int64_t out = 1;        ///< output channels
  int64_t channels = 16;  ///< channels of the first level, doubled at each level down
  int64_t depth = 2;      ///< number of 2x downsamplings (0: one level, no skip)
  int64_t groups = 4;     ///< GroupNorm groups; must divide `channels`
};

/// A U-Net mapping [N, in, H, W] to [N, out, H, W]; H and W must be multiples of 2^depth.
/// Children: down.i and up.i / decode.i (ModuleLists, level i from the top), bottom, head.
class UNet : public Module {
 public:
  explicit UNet(const UNetOptions& options);

  /// The network on x [N, in, H, W]: [N, out, H, W].
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  ///< "in=1, out=1, channels=16, depth=2, groups=4"

  UNetOptions options;  ///< the sizes given to the constructor

 private:
  std::shared_ptr<ModuleList> down_, up_, decode_;  // one entry per level above the bottom
  std::shared_ptr<Sequential> bottom_;
  std::shared_ptr<Conv2d> head_;
};

}  // namespace tg::nn
