// Kernels: the non-differentiable loops every op is built from. They take and
// return plain tensors and know nothing of the tape. Elementwise loops walk
// any strided layout by coalescing dims into contiguous "runs", so the common
// contiguous case is one flat, vectorisable loop, compiled for the CPU's widest
// vectors by cpu::dispatch.
#pragma once

#include <omp.h>

#include <array>
#include <type_traits>
#include <utility>

#include <tapegrad/core/cpu.h>
#include <tapegrad/core/tensor_base.h>

namespace tg::kernels {

/// Splits [0, n) into chunks run on the OpenMP pool when n is at least `grain`.
template <typename F>
void parallel_for(int64_t n, int64_t grain, F&& body) {
  int threads = omp_get_max_threads();
  if (n < grain || threads == 1 || omp_in_parallel()) {
    body(int64_t(0), n);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    int64_t begin = n * t / nt, end = n * (t + 1) / nt;
    if (begin < end) body(begin, end);
  }
}

/// A pointer plus its strides over the iteration shape (0 on broadcast dims).
template <typename T>
struct Operand {
  T* ptr;
  Shape strides;
};

/// Calls f(ptrs, n, inner_strides) for each innermost run of `shape`, after
/// dropping size-1 dims and merging dims that are contiguous in every operand.
template <size_t K, typename T, typename F>
void for_each_run(const Shape& shape, const std::array<Operand<T>, K>& operands, F&& f) {
  if (shape.numel() == 0) return;  // an empty tensor has no runs
  Shape sizes;
  std::array<Shape, K> strides;
  for (int d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool mergeable = !sizes.empty();
    for (size_t k = 0; k < K && mergeable; ++k)
      mergeable = strides[k].back() == operands[k].strides[d] * shape[d];
    if (mergeable) {
      sizes[sizes.size() - 1] *= shape[d];
      for (size_t k = 0; k < K; ++k) strides[k][strides[k].size() - 1] = operands[k].strides[d];
    } else {
      sizes.push_back(shape[d]);
      for (size_t k = 0; k < K; ++k) strides[k].push_back(operands[k].strides[d]);
    }
  }
  std::array<T*, K> ptrs;
  std::array<int64_t, K> inner;
  for (size_t k = 0; k < K; ++k) ptrs[k] = operands[k].ptr;
  if (sizes.empty()) {  // a single element
    inner.fill(0);
    f(ptrs, int64_t(1), inner);
    return;
  }
  int last = sizes.size() - 1;
  for (size_t k = 0; k < K; ++k) inner[k] = strides[k][last];
  int64_t runs = shape.numel() / sizes[last];
  std::array<int64_t, kMaxDims> index{};
  for (int64_t r = 0; r < runs; ++r) {
    f(ptrs, sizes[last], inner);
    for (int d = last - 1; d >= 0; --d) {  // odometer increment over the outer dims
      for (size_t k = 0; k < K; ++k) ptrs[k] += strides[k][d];
      if (++index[d] < sizes[d]) break;
      for (size_t k = 0; k < K; ++k) ptrs[k] -= strides[k][d] * sizes[d];
      index[d] = 0;
    }
  }
}

/// Strides that make `t` cover `shape` by broadcasting (0 on new or size-1 dims).
Shape broadcast_strides(const TensorBase& t, const Shape& shape);

/// x converted to `dtype` (x itself when it already is; float to int64 truncates toward zero).
TensorBase convert(const TensorBase& x, Dtype dtype);

/// Which dtypes an elementwise loop accepts: floating types only (the default: the lambda
/// may call std::exp and the like), or int64 too (copies, comparisons, signs).
enum class Types { Floating, All };

/// The operands of a binary op as it computes them: PyTorch's rule for 0-d tensors, which
/// take the other operand's dtype when both are floating (x64 * scalar_tensor(2) is float64;
/// two 0-d tensors of different floating dtypes meet in float64). Any other mix of dtypes
/// is a tg::Error naming `op`.
std::pair<TensorBase, TensorBase> promote_operands(const TensorBase& a, const TensorBase& b,
                                                   const char* op);

namespace detail {
/// Calls body(type_identity<T>) for x's dtype, refusing int64 unless `types` is All.
template <Types types, typename B>
[[gnu::always_inline]] inline decltype(auto) dispatch(Dtype dtype, const char* op, B&& body) {
  if constexpr (types == Types::All)
    return dispatch_all(dtype, std::forward<B>(body));
  else
    return dispatch_floating(dtype, op, std::forward<B>(body));
}
/// An elementwise lambda must give back its input type: one taking float parameters would
/// silently compute a float64 tensor in float32 (write it with auto parameters).
template <typename T, typename R>
constexpr void check_result_type() {
  static_assert(std::is_same_v<R, T>,
                "an elementwise lambda must return its operands' type: use auto parameters and "
                "T-typed constants");
}
}  // namespace detail

/// y = f(x), elementwise, y contiguous and of x's dtype; f is generic (auto parameters).
template <Types types = Types::Floating, typename F>
TensorBase map(const TensorBase& x, F f, const char* op) {
  return detail::dispatch<types>(x.dtype(), op, [&]<typename T>(std::type_identity<T>) TG_INLINE {
    detail::check_result_type<T, decltype(f(T()))>();
    TensorBase y = kernels::empty_like(x);
    T* out = y.data_unchecked<T>();
    if (x.is_contiguous()) {
      const T* in = x.data_unchecked<T>();
      parallel_for(x.numel(), 1 << 16, [&](int64_t b, int64_t e) {
        cpu::dispatch([&](auto) {
#pragma omp simd
          for (int64_t i = b; i < e; ++i) out[i] = f(in[i]);
        });
      });
      return y;
    }
    for_each_run<2, T>(x.shape(), {{{out, y.strides()}, {x.data_unchecked<T>(), x.strides()}}},
                       [&](auto p, int64_t n, auto s) {
                         for (int64_t i = 0; i < n; ++i) p[0][i * s[0]] = f(p[1][i * s[1]]);
                       });
    return y;
  });
}

/// out = f(a, b) over the iteration `shape`, each operand with its own strides.
template <typename T, typename F>
void zip_into(const Shape& shape, Operand<T> out, Operand<T> a, Operand<T> b, F f) {
  detail::check_result_type<T, decltype(f(T(), T()))>();
  for_each_run<3, T>(shape, {{out, a, b}}, [&](auto p, int64_t n, auto s) {
    T *o = p[0], *x = p[1], *y = p[2];
    cpu::dispatch([&](auto) {
      if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
      } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {
        T c = *y;
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], c);
      } else if (s[0] == 1 && s[1] == 0 && s[2] == 1) {
        T c = *x;
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) o[i] = f(c, y[i]);
      } else {
        for (int64_t i = 0; i < n; ++i) o[i * s[0]] = f(x[i * s[1]], y[i * s[2]]);
      }
    });
  });
}

/// y = f(a, b) with NumPy broadcasting, of a's dtype (b's must match); `op` names the caller in
/// shape and dtype errors. f is generic (auto parameters).
template <Types types = Types::Floating, typename F>
TensorBase zip(const TensorBase& a, const TensorBase& b, F f, const char* op) {
  if (a.dtype() != b.dtype()) [[unlikely]] {
    auto operands = promote_operands(a, b, op);
    return zip<types>(operands.first, operands.second, f, op);
  }
  return detail::dispatch<types>(a.dtype(), op, [&]<typename T>(std::type_identity<T>) TG_INLINE {
    if (a.shape() == b.shape() && a.is_contiguous() && b.is_contiguous()) {
      detail::check_result_type<T, decltype(f(T(), T()))>();
      TensorBase y = kernels::empty_like(a);
      T *out = y.data_unchecked<T>(), *x = a.data_unchecked<T>(), *z = b.data_unchecked<T>();
      parallel_for(a.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
        cpu::dispatch([&](auto) {
#pragma omp simd
          for (int64_t i = begin; i < end; ++i) out[i] = f(x[i], z[i]);
        });
      });
      return y;
    }
    Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
    TensorBase y = kernels::empty_like(a, shape);
    zip_into<T>(shape, {y.data_unchecked<T>(), y.strides()},
                {a.data_unchecked<T>(), broadcast_strides(a, shape)},
                {b.data_unchecked<T>(), broadcast_strides(b, shape)}, f);
    return y;
  });
}

/// a = f(a, b) in place; b broadcasts to a's shape (never the other way).
template <Types types = Types::Floating, typename F>
void zip_inplace(const TensorBase& a, const TensorBase& b_in, F f, const char* op) {
  // a 0-d floating operand takes the target's dtype; the target's dtype never changes
  TensorBase b = b_in.dim() == 0 && a.is_floating_point() && b_in.is_floating_point()
                     ? convert(b_in, a.dtype()) : b_in;
  check_same_dtype(a.dtype(), b.dtype(), op);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  check(shape == a.shape(), "{}: cannot broadcast {} into the in-place target {}", op, b.shape(),
        a.shape());
  detail::dispatch<types>(a.dtype(), op, [&]<typename T>(std::type_identity<T>) TG_INLINE {
    zip_into<T>(shape, {a.data_unchecked<T>(), a.strides()}, {a.data_unchecked<T>(), a.strides()},
                {b.data_unchecked<T>(), broadcast_strides(b, shape)}, f);
  });
}

/// a = f(a) in place.
template <Types types = Types::Floating, typename F>
void map_inplace(const TensorBase& a, F f, const char* op) {
  detail::dispatch<types>(a.dtype(), op, [&]<typename T>(std::type_identity<T>) TG_INLINE {
    detail::check_result_type<T, decltype(f(T()))>();
    for_each_run<1, T>(a.shape(), {{{a.data_unchecked<T>(), a.strides()}}},
                       [&](auto p, int64_t n, auto s) {
      T* x = p[0];
      cpu::dispatch([&](auto) {
        if (s[0] == 1) {
#pragma omp simd
          for (int64_t i = 0; i < n; ++i) x[i] = f(x[i]);
        } else {
          for (int64_t i = 0; i < n; ++i) x[i * s[0]] = f(x[i * s[0]]);
        }
      });
    });
  });
}

/// dst = src (src broadcast to dst's shape); dst may be any strided view.
void copy_into(const TensorBase& dst, const TensorBase& src);
/// A contiguous copy with its own storage.
TensorBase copy(const TensorBase& x);
/// Sum over the dims whose bit is set in `mask`; the result keeps those dims with size 1.
TensorBase sum_keepdim(const TensorBase& x, uint32_t mask);
/// Max (or min) along one dim, keeping it with size 1: values and their int64 indices.
std::pair<TensorBase, TensorBase> max_keepdim(const TensorBase& x, int dim, bool minimum);
/// C = alpha * op(A) op(B) + beta * C for row-major matrices, through cblas_sgemm / dgemm.
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc);
/// Matrix product of a [.., m, k] and b [.., k, n] (rank 2 or 3, batch broadcast allowed).
TensorBase matmul(const TensorBase& a, const TensorBase& b);

}  // namespace tg::kernels
