// Printing tensors like PyTorch: nested brackets, aligned columns, and "..."
// summaries for large tensors. `fmt::print("{}\n", t)` or `to_string(t)`.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

#include <tapegrad/core/tensor_base.h>

namespace tg {

/// The values as PyTorch prints them: `tensor([[1., 2.], [3., 4.]])`; a non-empty
/// `annotation` is appended inside the parentheses (autograd adds `grad_fn=<mul>`).
std::string to_string(const TensorBase& t, std::string_view annotation = {});

}  // namespace tg

template <>
struct fmt::formatter<tg::TensorBase> : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(const tg::TensorBase& t, Context& ctx) const {
    return fmt::format_to(ctx.out(), "{}", tg::to_string(t));
  }
};
