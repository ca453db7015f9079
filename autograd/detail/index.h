// What the indexing ops share inside autograd/ (not installed): reading an index tensor
// (int64, or floats holding integers) into checked integers, and scatter_add's loop, which both
// Tensor::scatter_add (on a copy) and Tensor::scatter_add_ (in place) run.
#pragma once

#include <cstdint>
#include <vector>

#include <tapegrad/autograd/tensor.h>

namespace tg::detail {

/// The values of `index` in row-major order as integers in [0, size), or in [-size, size)
/// wrapped to [0, size) when `wrap_negative` (Python's indexing). Throws tg::Error naming `op`,
/// the bad value, its position in the index tensor, `dim` and its size, and `input`'s shape.
std::vector<int64_t> read_indices(const Tensor& index, int64_t size, bool wrap_negative,
                                  const char* op, int64_t dim, const Shape& input);

/// Checks scatter_add's shapes and indices, then adds src[p] at p with its `dim` coordinate
/// replaced by index[p] in `target` (any strided layout) for every position p of index.
/// Nothing is written when a check fails.
void scatter_add_into(const Tensor& target, int64_t dim, const Tensor& index, const Tensor& src,
                      const char* op);

}  // namespace tg::detail
