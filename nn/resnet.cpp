// The residual blocks and the CIFAR-10 ResNets (see resnet.h).
#include <tapegrad/nn/resnet.h>

#include <fmt/format.h>

#include <tapegrad/core/error.h>
#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/fusion.h>
#include <tapegrad/nn/init.h>

namespace tg::nn {

namespace {

const char* shortcut_name(Shortcut s) { return s == Shortcut::A ? "A" : "B"; }

Conv2d conv3x3(int64_t in, int64_t out, int64_t stride) {
  return Conv2d({.in = in, .out = out, .kernel = 3, .stride = stride, .padding = 1, .bias = false});
}

}  // namespace

BasicBlock::BasicBlock(const BasicBlockOptions& o) : options(o) {
  check(o.in > 0 && o.out > 0 && o.stride > 0,
        "BasicBlock: in ({}), out ({}) and stride ({}) must be positive", o.in, o.out, o.stride);
  const bool reshapes = o.stride != 1 || o.in != o.out;
  // Option A pads the subsampled input with (out - in) zero channels split over both sides.
  check(!reshapes || o.shortcut == Shortcut::B || o.out >= o.in,
        "BasicBlock: shortcut A cannot shrink {} channels to {}; use Shortcut::B", o.in, o.out);
  conv1 = register_module("conv1", conv3x3(o.in, o.out, o.stride));
  bn1 = register_module("bn1", BatchNorm2d(o.out));
  conv2 = register_module("conv2", conv3x3(o.out, o.out, 1));
  bn2 = register_module("bn2", BatchNorm2d(o.out));
  if (reshapes && o.shortcut == Shortcut::B)
    downsample = register_module(
        "downsample",
        Sequential(Conv2d({.in = o.in, .out = o.out, .kernel = 1, .stride = o.stride, .bias = false}),
                   BatchNorm2d(o.out)));
}

Tensor BasicBlock::shortcut(const Tensor& x) const {
  if (downsample) {
    auto conv = std::dynamic_pointer_cast<Conv2d>((*downsample)[0]);
    auto bn = downsample->size() == 2 ? std::dynamic_pointer_cast<BatchNorm2d>((*downsample)[1])
                                      : nullptr;
    return conv && bn ? conv_bn(*conv, *bn, x) : (*downsample)(x);
  }
  if (options.stride == 1 && options.in == options.out) return x;
  Tensor sub = options.stride == 1
                   ? x
                   : x.slice(2, 0, x.size(2), options.stride).slice(3, 0, x.size(3), options.stride);
  const int64_t extra = options.out - options.in, before = extra / 2;
  if (extra == 0) return sub;
  Shape s = sub.shape();
  s[1] = before;
  Tensor zeros_before = zeros(s);
  s[1] = extra - before;
  return cat({zeros_before, sub, zeros(s)}, 1);
}

Tensor BasicBlock::forward(const Tensor& x) {
  check(x.dim() == 4 && x.size(1) == options.in,
        "BasicBlock: expected an input of shape [N, {}, H, W], got {}", options.in, x.shape());
  // conv_bn folds each BatchNorm into its convolution in eval mode (fusion.h).
  Tensor out = conv_bn(*conv1, *bn1, x).relu();
  out = conv_bn(*conv2, *bn2, out);
  return functional::add_relu(out, shortcut(x));
}

std::string BasicBlock::extra_repr() const {
  return fmt::format("{}, {}, stride={}, shortcut={}", options.in, options.out, options.stride,
                     shortcut_name(options.shortcut));
}

CifarResNet::CifarResNet(const CifarResNetOptions& o) : options(o) {
  check(o.depth >= 8 && (o.depth - 2) % 6 == 0,
        "CifarResNet: depth must be 6n + 2 with n >= 1 (20, 32, 44, 56, 110), got {}", o.depth);
  check(o.num_classes > 0, "CifarResNet: num_classes must be positive, got {}", o.num_classes);
  const int64_t blocks = (o.depth - 2) / 6;
  conv1 = register_module("conv1", conv3x3(3, 16, 1));
  bn1 = register_module("bn1", BatchNorm2d(16));
  auto stage = [&](int64_t in, int64_t out, int64_t stride) {
    Sequential s;
    for (int64_t b = 0; b < blocks; ++b)
      s.push_back(BasicBlock({.in = b == 0 ? in : out, .out = out,
                              .stride = b == 0 ? stride : 1, .shortcut = o.shortcut}));
    return s;
  };
  layer1 = register_module("layer1", stage(16, 16, 1));
  layer2 = register_module("layer2", stage(16, 32, 2));
  layer3 = register_module("layer3", stage(32, 64, 2));
  fc = register_module("fc", Linear(64, o.num_classes));
  for (Module* m : modules())
    if (auto* conv = dynamic_cast<Conv2d*>(m))
      init::kaiming_normal_(conv->weight, 0, init::Mode::FanOut, init::Nonlinearity::ReLU);
}

Tensor CifarResNet::forward(const Tensor& x) {
  check(x.dim() == 4 && x.size(1) == 3,
        "CifarResNet: expected images of shape [N, 3, H, W], got {}", x.shape());
  Tensor h = conv_bn(*conv1, *bn1, x).relu();
  h = (*layer3)((*layer2)((*layer1)(h)));
  return (*fc)(h.mean({2, 3}));
}

std::string CifarResNet::extra_repr() const {
  return fmt::format("depth={}, num_classes={}, shortcut={}", options.depth, options.num_classes,
                     shortcut_name(options.shortcut));
}

CifarResNet resnet20(int64_t num_classes) { return CifarResNet({.depth = 20, .num_classes = num_classes}); }
CifarResNet resnet56(int64_t num_classes) { return CifarResNet({.depth = 56, .num_classes = num_classes}); }

}  // namespace tg::nn
