// Printing tensors like PyTorch: nested brackets, aligned columns, and "..."
// summaries for large tensors. `fmt::print("{}\n", t)` or `to_string(t)`.
#pragma once

#include <fmt/format.h>

#include <string>

#include <tapegrad/core/tensor.h>

namespace tg {

/// The tensor as PyTorch prints it: `tensor([[1., 2.], [3., 4.]], grad_fn=<mul>)`.
std::string to_string(const Tensor& t);

}  // namespace tg

template <>
struct fmt::formatter<tg::Tensor> : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(const tg::Tensor& t, Context& ctx) const {
    return fmt::format_to(ctx.out(), "{}", tg::to_string(t));
  }
};
