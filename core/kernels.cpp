// Kernels that are not templates: copies, reductions and matrix products.
#include <tapegrad/core/kernels.h>

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>

namespace tg::kernels {

Shape broadcast_strides(const TensorBase& t, const Shape& shape) {
  Shape strides;
  int pad = shape.size() - t.dim();
  for (int d = 0; d < shape.size(); ++d) {
    int td = d - pad;
    strides.push_back(td < 0 || t.shape()[td] == 1 ? 0 : t.strides()[td]);
  }
  return strides;
}

void copy_into(const TensorBase& dst, const TensorBase& src) {
  check_same_dtype(dst.dtype(), src.dtype(), "copy");
  Shape strides = broadcast_strides(src, dst.shape());
  if (dst.is_contiguous() && src.is_contiguous() && src.shape() == dst.shape()) {
    std::memcpy(dst.raw_data(), src.raw_data(), element_size(dst.dtype()) * dst.numel());
    return;
  }
  dispatch_all(dst.dtype(), [&]<typename T>(std::type_identity<T>) {
    for_each_run<2, T>(dst.shape(), {{{dst.data_ptr<T>(), dst.strides()}, {src.data_ptr<T>(), strides}}},
                       [](auto p, int64_t n, auto s) {
                         for (int64_t i = 0; i < n; ++i) p[0][i * s[0]] = p[1][i * s[1]];
                       });
  });
}

TensorBase copy(const TensorBase& x) {
  TensorBase y = kernels::empty_like(x);
  copy_into(y, x);
  return y;
}

TensorBase convert(const TensorBase& x, Dtype dtype) {
  if (x.dtype() == dtype) return x;
  TensorBase c = contiguous(x);
  TensorBase y = kernels::empty(x.shape(), dtype);
  dispatch_all(x.dtype(), [&]<typename S>(std::type_identity<S>) {
    dispatch_all(dtype, [&]<typename T>(std::type_identity<T>) {
      const S* in = c.data_ptr<S>();
      T* out = y.data_ptr<T>();
      for (int64_t i = 0, n = c.numel(); i < n; ++i) out[i] = static_cast<T>(in[i]);
    });
  });
  return y;
}

std::pair<TensorBase, TensorBase> promote_operands(const TensorBase& a, const TensorBase& b,
                                                   const char* op) {
  if (a.dtype() != b.dtype() && a.is_floating_point() && b.is_floating_point()) {
    if (a.dim() == 0 && b.dim() != 0) return {convert(a, b.dtype()), b};
    if (b.dim() == 0 && a.dim() != 0) return {a, convert(b, a.dtype())};
    if (a.dim() == 0 && b.dim() == 0) return {convert(a, kFloat64), convert(b, kFloat64)};
  }
  check_same_dtype(a.dtype(), b.dtype(), op);
  return {a, b};
}

TensorBase sum_keepdim(const TensorBase& x, uint32_t mask) {
  Shape out_shape = x.shape();
  for (int d = 0; d < x.dim(); ++d)
    if (mask >> d & 1) out_shape[d] = 1;
  TensorBase y = kernels::zeros_like(x, out_shape);
  Shape out_strides = y.strides();
  for (int d = 0; d < x.dim(); ++d)
    if (mask >> d & 1) out_strides[d] = 0;
  dispatch_all(x.dtype(), [&]<typename T>(std::type_identity<T>) {
    // float32 accumulates along a run in double; float64 and int64 in their own type
    using Acc = std::conditional_t<std::is_same_v<T, float>, double, T>;
    for_each_run<2, T>(x.shape(), {{{y.data_ptr<T>(), out_strides}, {x.data_ptr<T>(), x.strides()}}},
                       [](auto p, int64_t n, auto s) {
                         T *out = p[0], *in = p[1];
                         if (s[0] == 0) {  // reducing along the run
                           Acc acc = 0;
                           for (int64_t i = 0; i < n; ++i) acc += in[i * s[1]];
                           *out += T(acc);
                         } else if (s[0] == 1 && s[1] == 1) {
                           cpu::dispatch([&](auto) {
#pragma omp simd
                             for (int64_t i = 0; i < n; ++i) out[i] += in[i];
                           });
                         } else {
                           for (int64_t i = 0; i < n; ++i) out[i * s[0]] += in[i * s[1]];
                         }
                       });
  });
  return y;
}

std::pair<TensorBase, TensorBase> max_keepdim(const TensorBase& x_in, int dim, bool minimum) {
  TensorBase x = contiguous(x_in);
  check(x.shape()[dim] > 0, "{}: cannot reduce an empty dim {} of {}", minimum ? "min" : "max",
        dim, x.shape());
  int64_t outer = 1, r = x.shape()[dim], inner = 1;
  for (int d = 0; d < dim; ++d) outer *= x.shape()[d];
  for (int d = dim + 1; d < x.dim(); ++d) inner *= x.shape()[d];
  Shape out_shape = x.shape();
  out_shape[dim] = 1;
  TensorBase values = kernels::empty_like(x, out_shape), indices = kernels::empty(out_shape, kInt64);
  dispatch_all(x.dtype(), [&]<typename T>(std::type_identity<T>) {
    const T* in = x.data_ptr<T>();
    T* v = values.data_ptr<T>();
    int64_t* ix = indices.data_ptr<int64_t>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const T* p = in + o * r * inner + i;
        T best = p[0];
        int64_t best_k = 0;
        for (int64_t k = 1; k < r; ++k) {
          T c = p[k * inner];
          // NaN wins, as in PyTorch: it propagates instead of being skipped.
          bool better = minimum ? (c < best || c != c) : (c > best || c != c);
          if (better && best == best) best = c, best_k = k;
        }
        v[o * inner + i] = best;
        ix[o * inner + i] = best_k;
      }
    }
  });
  return {values, indices};
}

namespace {

void blas_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
               int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, int(m), int(n), int(k), alpha, a, int(lda), b,
              int(ldb), beta, c, int(ldc));
}

void blas_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
               const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
               int64_t ldc) {
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, int(m), int(n), int(k), alpha, a, int(lda), b,
              int(ldb), beta, c, int(ldc));
}

// OpenBLAS threads a product by itself above 2^18 multiply-adds, but on medium shapes (the
// Linear layers of small networks) its 2 threads measured slower than 1: bench/micro_bench
// gave 77 vs 90 GFLOP/s for [64, 400] @ [400, 120] and 47 vs 96 for [256, 120] @ [120, 84].
// In that range we split C into one block of rows (or of columns, when C has few rows) per
// thread of the OpenMP pool instead; OpenBLAS called inside a parallel region runs on one
// thread. Above 2^27 multiply-adds its own threading, which shares packed panels, wins.
constexpr double kSplitMin = 1 << 18, kSplitMax = 1 << 27;

}  // namespace

namespace {

template <typename T>
void gemm_split(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  double madds = double(m) * double(n) * double(k);
  int threads = omp_get_max_threads();
  if (threads == 1 || omp_in_parallel() || madds < kSplitMin || madds > kSplitMax) {
    blas_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // Blocks in multiples of 16 rows or columns, the width of OpenBLAS's AVX-512 kernels.
  bool by_rows = m >= n || m >= 16 * threads;
  int64_t extent = by_rows ? m : n;
  int64_t block = (extent + threads - 1) / threads;
  block = std::min(extent, (block + 15) / 16 * 16);
#pragma omp parallel for schedule(static, 1) num_threads(threads)
  for (int64_t begin = 0; begin < extent; begin += block) {
    int64_t size = std::min(block, extent - begin);
    if (by_rows)  // rows [begin, begin + size) of C and of op(A)
      blas_gemm(trans_a, trans_b, size, n, k, alpha, trans_a ? a + begin : a + begin * lda, lda, b,
            ldb, beta, c + begin * ldc, ldc);
    else  // columns [begin, begin + size) of C and of op(B)
      blas_gemm(trans_a, trans_b, m, size, k, alpha, a, lda, trans_b ? b + begin * ldb : b + begin,
            ldb, beta, c + begin, ldc);
  }
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc) {
  gemm_split(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc) {
  gemm_split(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

namespace {

// How BLAS can read the last two dims of a tensor without a copy.
struct MatrixView {
  const std::byte* data;
  bool trans;
  int64_t ld;
  int64_t batch_stride;  // 0 when the batch is broadcast
};

bool as_matrix(const TensorBase& t, MatrixView& view) {
  int r = t.dim();
  int64_t rows = t.shape()[r - 2], cols = t.shape()[r - 1];
  int64_t rs = t.strides()[r - 2], cs = t.strides()[r - 1];
  view.data = static_cast<const std::byte*>(t.raw_data());
  view.batch_stride = r == 3 && t.shape()[0] > 1 ? t.strides()[0] : 0;
  if ((cs == 1 || cols == 1) && (rows == 1 || rs >= cols)) {
    view.trans = false;
    view.ld = std::max<int64_t>(rows == 1 ? cols : rs, 1);
    return true;
  }
  if ((rs == 1 || rows == 1) && (cols == 1 || cs >= rows)) {  // a transposed view
    view.trans = true;
    view.ld = std::max<int64_t>(cols == 1 ? rows : cs, 1);
    return true;
  }
  return false;
}

}  // namespace

TensorBase matmul(const TensorBase& a_in, const TensorBase& b_in) {
  check_same_dtype(a_in.dtype(), b_in.dtype(), "matmul");
  TensorBase a = a_in, b = b_in;
  MatrixView va, vb;
  if (!as_matrix(a, va)) a = copy(a), as_matrix(a, va);
  if (!as_matrix(b, vb)) b = copy(b), as_matrix(b, vb);
  int ra = a.dim(), rb = b.dim();
  int64_t m = a.shape()[ra - 2], k = a.shape()[ra - 1], n = b.shape()[rb - 1];
  int64_t batch_a = ra == 3 ? a.shape()[0] : 1, batch_b = rb == 3 ? b.shape()[0] : 1;
  int64_t batch = std::max(batch_a, batch_b);
  Shape shape = ra == 3 || rb == 3 ? Shape{batch, m, n} : Shape{m, n};
  if (k == 0) return kernels::zeros_like(a, shape);
  TensorBase c = kernels::empty_like(a, shape);
  dispatch_floating(a.dtype(), "matmul", [&]<typename T>(std::type_identity<T>) {
    const T* pa = reinterpret_cast<const T*>(va.data);
    const T* pb = reinterpret_cast<const T*>(vb.data);
    for (int64_t i = 0; i < batch; ++i)
      gemm(va.trans, vb.trans, m, n, k, T(1), pa + i * va.batch_stride, va.ld,
           pb + i * vb.batch_stride, vb.ld, T(0), c.data_ptr<T>() + i * m * n,
           std::max<int64_t>(n, 1));
  });
  return c;
}

}  // namespace tg::kernels
