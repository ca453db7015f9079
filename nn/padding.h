// Padding layers over functional::pad (declared in nn/functional.h, defined in padding.cpp
// with its backward and tangent rules): ZeroPad2d, ConstantPad2d, ReflectionPad2d and
// ReplicationPad2d, PyTorch's modules of those names. Conv2d's padding_mode uses the same pad().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tapegrad/autograd/tensor.h>
#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/module.h>

namespace tg::nn {

using functional::PaddingMode;

/// What the four 2-D padding layers share: pad() of the last two dims with a fixed mode.
/// `padding` is one number (all sides) or {left, right, top, bottom}, as in PyTorch.
class Pad2dBase : public Module {
 public:
  Tensor forward(const Tensor& input) override;  ///< functional::pad(input, padding, mode, value)
  std::string extra_repr() const override;       ///< "(1, 1, 2, 2)"

  std::vector<int64_t> padding;  ///< {left, right, top, bottom}
  PaddingMode mode;
  float value = 0;  ///< of the constant mode

 protected:
  Pad2dBase(std::vector<int64_t> padding, PaddingMode mode, float value, const char* layer);
};

/// Pads with zeros: PyTorch's ZeroPad2d.
class ZeroPad2d : public Pad2dBase {
 public:
  explicit ZeroPad2d(int64_t padding) : ZeroPad2d(std::vector<int64_t>(4, padding)) {}
  /// {left, right, top, bottom}; negative values crop.
  explicit ZeroPad2d(std::vector<int64_t> padding)
      : Pad2dBase(std::move(padding), PaddingMode::Constant, 0, "ZeroPad2d") {}
};

/// Pads with a constant: PyTorch's ConstantPad2d.
class ConstantPad2d : public Pad2dBase {
 public:
  ConstantPad2d(int64_t padding, float value)
      : ConstantPad2d(std::vector<int64_t>(4, padding), value) {}
  /// {left, right, top, bottom}; negative values crop.
  ConstantPad2d(std::vector<int64_t> padding, float value)
      : Pad2dBase(std::move(padding), PaddingMode::Constant, value, "ConstantPad2d") {}
  std::string extra_repr() const override;  ///< "padding=(1, 2, 3, 4), value=0.5"
};

/// Pads with the reflection of the input at its border, edge not repeated: PyTorch's
/// ReflectionPad2d (each pad smaller than the dim it pads).
class ReflectionPad2d : public Pad2dBase {
 public:
  explicit ReflectionPad2d(int64_t padding) : ReflectionPad2d(std::vector<int64_t>(4, padding)) {}
  /// {left, right, top, bottom}.
  explicit ReflectionPad2d(std::vector<int64_t> padding)
      : Pad2dBase(std::move(padding), PaddingMode::Reflect, 0, "ReflectionPad2d") {}
};

/// Pads by repeating the border values: PyTorch's ReplicationPad2d.
class ReplicationPad2d : public Pad2dBase {
 public:
  explicit ReplicationPad2d(int64_t padding)
      : ReplicationPad2d(std::vector<int64_t>(4, padding)) {}
  /// {left, right, top, bottom}.
  explicit ReplicationPad2d(std::vector<int64_t> padding)
      : Pad2dBase(std::move(padding), PaddingMode::Replicate, 0, "ReplicationPad2d") {}
};

}  // namespace tg::nn
