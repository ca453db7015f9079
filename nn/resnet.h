// Residual networks: the basic block of He et al. 2016 ("Deep Residual Learning for Image
// Recognition") and the CIFAR-10 ResNets of its section 4.2: a 3x3 convolution to 16 channels,
// three stages of n basic blocks each (16, 32 and 64 channels; the second and third start with
// stride 2), global average pooling and a linear classifier; depth 6n + 2 (ResNet-20: n = 3,
// 0.27 M parameters; ResNet-56: n = 9).
//
//   nn::CifarResNet net = nn::resnet20();    // or nn::CifarResNet({.depth = 56})
//   Tensor logits = net(images);             // [N, 3, 32, 32] -> [N, 10]
//
// Names follow torchvision's ResNets ("layer2.0.conv1.weight", "layer2.0.downsample.0.weight",
// "fc.weight"), so a PyTorch model written that way exchanges state dicts with these.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <tapegrad/nn/conv.h>
#include <tapegrad/nn/linear.h>
#include <tapegrad/nn/module.h>
#include <tapegrad/nn/norm.h>
#include <tapegrad/nn/sequential.h>

namespace tg::nn {

/// How a block's shortcut matches the block's output when the shape changes (He et al. 2016,
/// section 3.3). A: the input subsampled by the stride, with zero channels added on both sides
/// (no parameters; the paper's choice for CIFAR-10). B: a 1x1 convolution with the stride,
/// then BatchNorm (torchvision's `downsample`). Blocks that keep the shape add the input itself.
enum class Shortcut { A, B };

/// Options of BasicBlock: `BasicBlock({.in = 16, .out = 32, .stride = 2})`.
struct BasicBlockOptions {
  int64_t in = 0;                   ///< input channels (torchvision's inplanes)
  int64_t out = 0;                  ///< output channels (planes)
  int64_t stride = 1;               ///< of the first convolution and the shortcut
  Shortcut shortcut = Shortcut::A;  ///< used only when stride != 1 or in != out
};

/// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), both convolutions 3x3 with padding 1 and
/// no bias. torchvision.models.resnet.BasicBlock. The closing add + ReLU is one op
/// (functional::add_relu); in eval mode without weight gradients each BatchNorm is folded into
/// its convolution (nn::conv_bn in fusion.h), which gives the same values up to rounding.
class BasicBlock : public Module {
 public:
  explicit BasicBlock(const BasicBlockOptions& options);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  ///< "16, 32, stride=2, shortcut=A"

  BasicBlockOptions options;
  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<BatchNorm2d> bn1, bn2;
  std::shared_ptr<Sequential> downsample;  ///< option B's 1x1 conv + BatchNorm, else null

 private:
  Tensor shortcut(const Tensor& input) const;
};

/// Options of CifarResNet.
struct CifarResNetOptions {
  int64_t depth = 20;               ///< 6n + 2: 20, 32, 44, 56, 110, ...
  int64_t num_classes = 10;
  Shortcut shortcut = Shortcut::A;  ///< of the two stride-2 stages
};

/// The CIFAR-10 ResNet of He et al. 2016, section 4.2, for [N, 3, H, W] inputs (32 x 32 in the
/// paper; any size works, the pooling is global). Convolution weights start from
/// kaiming_normal_(mode fan_out, relu) and BatchNorm from weight 1, bias 0, as torchvision's
/// ResNets; the classifier keeps Linear's default. Eval mode folds BatchNorm as BasicBlock does.
class CifarResNet : public Module {
 public:
  explicit CifarResNet(const CifarResNetOptions& options = {});
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  ///< "depth=20, num_classes=10, shortcut=A"

  CifarResNetOptions options;
  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<Sequential> layer1, layer2, layer3;
  std::shared_ptr<Linear> fc;
};

/// ResNet-20 for CIFAR-10 (0.27 M parameters; 91.25% test accuracy in the paper's Table 6).
CifarResNet resnet20(int64_t num_classes = 10);
/// ResNet-56 (0.85 M parameters; 93.03% in Table 6).
CifarResNet resnet56(int64_t num_classes = 10);

}  // namespace tg::nn
