// UNet: levels of (conv 3x3, GroupNorm, ReLU) x 2; max-pool down, transposed conv up, skips
// concatenated on the channel dim.
#include <tapegrad/nn/unet.h>

#include <fmt/format.h>

#include <tapegrad/nn/activation.h>
#include <tapegrad/nn/conv_transpose.h>
#include <tapegrad/nn/norm.h>
#include <tapegrad/nn/pool.h>

namespace tg::nn {

namespace {

// (conv 3x3 -> GroupNorm -> ReLU) twice; the convolutions have no bias (the norm removes it).
Sequential double_conv(int64_t in, int64_t out, int64_t groups) {
  return Sequential(Conv2d({.in = in, .out = out, .kernel = 3, .padding = 1, .bias = false}),
                    GroupNorm(groups, out), ReLU(),
                    Conv2d({.in = out, .out = out, .kernel = 3, .padding = 1, .bias = false}),
                    GroupNorm(groups, out), ReLU());
}

}  // namespace

UNet::UNet(const UNetOptions& o) : options(o) {
  check(o.in > 0 && o.out > 0 && o.channels > 0 && o.groups > 0,
        "UNet: in, out, channels and groups must be positive, got in={}, out={}, channels={}, "
        "groups={}", o.in, o.out, o.channels, o.groups);
  check(o.depth >= 0 && o.depth <= 16, "UNet: depth must be in [0, 16], got {}", o.depth);
  check(o.channels % o.groups == 0, "UNet: groups={} does not divide channels={}", o.groups,
        o.channels);
  down_ = register_module("down", ModuleList());
  up_ = register_module("up", ModuleList());
  decode_ = register_module("decode", ModuleList());
  int64_t c = o.channels, from = o.in;
  for (int64_t level = 0; level < o.depth; ++level, from = c, c *= 2) {
    down_->push_back(double_conv(from, c, o.groups));
    // up.i takes level i + 1's 2c channels to c; decode.i sees them beside the skip's c.
    up_->push_back(ConvTranspose2d({.in = 2 * c, .out = c, .kernel = 2, .stride = 2}));
    decode_->push_back(double_conv(2 * c, c, o.groups));
  }
  bottom_ = register_module("bottom", double_conv(from, c, o.groups));
  head_ = register_module("head", Conv2d(o.channels, o.out, 1));
}

Tensor UNet::forward(const Tensor& x) {
  const int64_t multiple = int64_t(1) << options.depth;
  check(x.dim() == 4 && x.size(1) == options.in,
        "UNet: expected input [N, {}, H, W], got {}", options.in, x.shape());
  check(x.size(2) % multiple == 0 && x.size(3) % multiple == 0,
        "UNet: H and W must be multiples of 2^depth = {}, got input {}", multiple, x.shape());
  std::vector<Tensor> skips;
  Tensor h = x;
  for (const auto& block : *down_) {
    skips.push_back((*block)(h));
    h = functional::max_pool2d(skips.back(), 2);
  }
  h = (*bottom_)(h);
  for (int64_t level = options.depth - 1; level >= 0; --level) {
    Tensor up = (*(*up_)[level])(h);
    h = (*(*decode_)[level])(cat({skips[size_t(level)], up}, 1));
  }
  return (*head_)(h);
}

std::string UNet::extra_repr() const {
  return fmt::format("in={}, out={}, channels={}, depth={}, groups={}", options.in, options.out,
                     options.channels, options.depth, options.groups);
}

}  // namespace tg::nn
