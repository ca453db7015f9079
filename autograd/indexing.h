// Indexing sugar in libtorch's spirit (torch::indexing): Python's t[0, 1:, None, ..., idx] is
//   using namespace tg::indexing;
//   t.index({0, Slice(1, None), None, Ellipsis, idx})
// An integer removes its dim (negative counts from the end); a Slice(start, stop, step) keeps
// it (absent ends are None, negative ends count from the end, ends past the dim are clamped,
// as Python; the step must be positive, as PyTorch's); None inserts a dim of size 1; Ellipsis
// (or "...") stands for every dim the others do not name; an index tensor (int64, or floats
// holding integers; negative ones counting from the end) takes those entries of its dim, its shape
// replacing the dim. Integers, slices, None and Ellipsis give a view of t, as in PyTorch; an
// index tensor gives a copy (index_select). All of it is differentiable.
// Deviations from PyTorch: at most one index tensor (PyTorch broadcasts several into one
// advanced index, a different operation) and no boolean masks (use masked_fill or where).
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>

#include <tapegrad/autograd/tensor.h>

namespace tg::indexing {

/// Python's None (torch::indexing::None): an absent Slice end, or a new dim of size 1.
inline constexpr std::nullopt_t None = std::nullopt;

/// The type of Ellipsis.
struct EllipsisIndexType {
  explicit constexpr EllipsisIndexType() = default;
};
/// Python's `...`: as many full slices as the other indices leave dims.
inline constexpr EllipsisIndexType Ellipsis{};

/// Python's start:stop:step. Slice() is `:`, Slice(1, None) is `1:`, Slice(None, -1) is `:-1`.
struct Slice {
  std::optional<int64_t> start, stop, step;
  Slice(std::optional<int64_t> start = None, std::optional<int64_t> stop = None,
        std::optional<int64_t> step = None)
      : start(start), stop(stop), step(step) {}
};

/// One entry of an index list: an integer, a Slice, None, Ellipsis or an index tensor.
class TensorIndex {
 public:
  enum class Kind { Integer, Slice, None, Ellipsis, Tensor };

  template <std::integral I>
    requires(!std::same_as<I, bool>)
  TensorIndex(I integer) : kind_(Kind::Integer), integer_(int64_t(integer)) {}
  TensorIndex(Slice slice) : kind_(Kind::Slice), slice_(slice) {}
  TensorIndex(std::nullopt_t) : kind_(Kind::None) {}
  TensorIndex(EllipsisIndexType) : kind_(Kind::Ellipsis) {}
  /// "..." (libtorch accepts it for Ellipsis); any other string is a tg::Error.
  TensorIndex(const char* ellipsis);
  TensorIndex(Tensor index) : kind_(Kind::Tensor), tensor_(std::move(index)) {}

  Kind kind() const { return kind_; }
  int64_t integer() const { return integer_; }
  const Slice& slice() const { return slice_; }
  const Tensor& tensor() const { return tensor_; }

 private:
  Kind kind_;
  int64_t integer_ = 0;
  Slice slice_;
  Tensor tensor_;
};

}  // namespace tg::indexing
