// Dtype: the element type of a tensor. float32 is the default and the fast path; float64 is
// there for checking gradients and for numerics that need it (every differentiable op works
// in both); int64 holds class labels and indices (argmax, gather's index, cross_entropy's
// targets). PyTorch's names: kFloat32, kFloat64, kInt64 (and libtorch's kFloat, kDouble,
// kLong). Kernels pick their loop with dispatch_floating or dispatch_all below.
//
// Promotion: none. An op given two tensors of different dtypes throws a tg::Error naming both
// (convert one with .to(dtype)); a C++ number mixed with a tensor takes the tensor's dtype.
// This is stricter than PyTorch, which promotes int64 + float32 to float32 silently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <tapegrad/core/error.h>

// Forces a kernel's per-dtype lambda inline: a tiny op's cost is a few hundred instructions,
// and an extra call layer per dispatch measured ~10% of it.
#define TG_INLINE __attribute__((always_inline))

namespace tg {

enum class Dtype : uint8_t { Float32, Float64, Int64 };

inline constexpr Dtype kFloat32 = Dtype::Float32;
inline constexpr Dtype kFloat64 = Dtype::Float64;
inline constexpr Dtype kInt64 = Dtype::Int64;
inline constexpr Dtype kFloat = kFloat32;   // libtorch's short names
inline constexpr Dtype kDouble = kFloat64;
inline constexpr Dtype kLong = kInt64;

/// "float32", "float64", "int64" (as torch prints them, without "torch.").
constexpr const char* dtype_name(Dtype d) {
  switch (d) {
    case Dtype::Float32: return "float32";
    case Dtype::Float64: return "float64";
    case Dtype::Int64: return "int64";
  }
  return "?";
}

/// Bytes per element.
constexpr size_t element_size(Dtype d) { return d == Dtype::Float32 ? 4 : 8; }

constexpr bool is_floating_point(Dtype d) { return d != Dtype::Int64; }

/// The Dtype of a C++ element type: dtype_of<double> == kFloat64.
template <typename T>
inline constexpr Dtype dtype_of = std::is_same_v<T, float>    ? kFloat32
                                  : std::is_same_v<T, double> ? kFloat64
                                                              : kInt64;

/// Calls f(std::type_identity<T>{}) with T the element type of a float32 or float64 tensor;
/// an int64 tensor is a tg::Error naming `op`.
template <typename F>
[[gnu::always_inline]] inline decltype(auto) dispatch_floating(Dtype d, const char* op, F&& f) {
  if (d == kFloat32) return f(std::type_identity<float>{});
  if (d == kFloat64) return f(std::type_identity<double>{});
  fail("{}: {} tensors are not supported (only float32 and float64); convert with "
       ".to(tg::kFloat32)", op, dtype_name(d));
}

/// The same over every dtype (for ops that make sense on integers: copies, comparisons, sums).
template <typename F>
[[gnu::always_inline]] inline decltype(auto) dispatch_all(Dtype d, F&& f) {
  if (d == kFloat32) return f(std::type_identity<float>{});
  if (d == kFloat64) return f(std::type_identity<double>{});
  return f(std::type_identity<int64_t>{});
}

/// A tg::Error unless a and b are the same dtype: "op: dtypes float32 and float64 differ ...".
inline void check_same_dtype(Dtype a, Dtype b, const char* op) {
  if (a != b) [[unlikely]]
    fail("{}: the operands' dtypes differ ({} and {}); tapegrad does not promote: convert one "
         "with .to(tg::k{})", op, dtype_name(a), dtype_name(b),
         b == kFloat64 || a == kFloat64 ? "Float64" : "Float32");
}

}  // namespace tg

template <>
struct fmt::formatter<tg::Dtype> : fmt::formatter<fmt::string_view> {
  template <typename Context>
  auto format(tg::Dtype d, Context& ctx) const {
    return fmt::format_to(ctx.out(), "{}", tg::dtype_name(d));
  }
};
