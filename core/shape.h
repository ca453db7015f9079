// Shape: the sizes (or strides) of a tensor, a small inline vector of int64.
// No heap allocation: a shape is copied by value on every op, so it must be
// cheap. Also the shape helpers every op shares: dim wrapping, broadcasting.
#pragma once

#include <fmt/core.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>

#include <tapegrad/core/error.h>

namespace tg {

/// Most dimensions a tensor may have.
inline constexpr int kMaxDims = 8;

/// Sizes or strides of a tensor: a fixed-capacity vector of up to kMaxDims values.
class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> values) : Shape(std::span(values.begin(), values.size())) {}
  explicit Shape(std::span<const int64_t> values) {
    check(values.size() <= size_t(kMaxDims), "shape: {} dims given, at most {} supported",
          values.size(), kMaxDims);
    for (int64_t v : values) data_[size_++] = v;
  }

  int size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t operator[](int i) const { return data_[i]; }
  int64_t& operator[](int i) { return data_[i]; }
  int64_t back() const { return data_[size_ - 1]; }
  const int64_t* begin() const { return data_.data(); }
  const int64_t* end() const { return data_.data() + size_; }
  int64_t* begin() { return data_.data(); }
  int64_t* end() { return data_.data() + size_; }

  void push_back(int64_t v) {
    check(size_ < kMaxDims, "shape: more than {} dims", kMaxDims);
    data_[size_++] = v;
  }
  void insert(int pos, int64_t v) {
    push_back(0);
    for (int i = size_ - 1; i > pos; --i) data_[i] = data_[i - 1];
    data_[pos] = v;
  }
  void erase(int pos) {
    for (int i = pos; i + 1 < size_; ++i) data_[i] = data_[i + 1];
    --size_;
  }

  /// Product of the values: the element count when this is a shape.
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < size_; ++i) n *= data_[i];
    return n;
  }

  friend bool operator==(const Shape& a, const Shape& b) {
    if (a.size_ != b.size_) return false;
    for (int i = 0; i < a.size_; ++i)
      if (a.data_[i] != b.data_[i]) return false;
    return true;
  }

 private:
  std::array<int64_t, kMaxDims> data_{};
  int size_ = 0;
};

/// Row-major strides of a contiguous tensor of this shape.
inline Shape contiguous_strides(const Shape& shape) {
  Shape strides = shape;
  int64_t s = 1;
  for (int i = shape.size() - 1; i >= 0; --i) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/// Wraps a possibly negative dim into [0, rank); `op` names the caller in the error.
inline int wrap_dim(int64_t dim, int rank, const char* op) {
  int64_t lo = rank == 0 ? -1 : -rank, hi = rank == 0 ? 0 : rank - 1;
  check(dim >= lo && dim <= hi, "{}: dim {} out of range for a tensor of {} dims (expected {}..{})",
        op, dim, rank, lo, hi);
  return int(dim < 0 ? dim + (rank == 0 ? 1 : rank) : dim);
}

/// NumPy broadcasting of two shapes; throws naming `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

/// The element count of `shape`, refusing negative sizes and counts past 2^62
/// (a plain product would overflow int64 and wrap to a small or zero count).
int64_t checked_numel(const Shape& shape, const char* op);

}  // namespace tg

/// Shapes print as [2, 3] (format is out of line, in shape.cpp: this header needs only fmt/core.h).
template <>
struct fmt::formatter<tg::Shape> {
  constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
  fmt::format_context::iterator format(const tg::Shape& s, fmt::format_context& ctx) const;
};
