// Kernels that are not templates: copies, reductions and matrix products.
#include <tapegrad/core/kernels.h>

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstring>

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
  Shape strides = broadcast_strides(src, dst.shape());
  if (dst.is_contiguous() && src.is_contiguous() && src.shape() == dst.shape()) {
    std::memcpy(dst.data(), src.data(), sizeof(float) * dst.numel());
    return;
  }
  for_each_run<2>(dst.shape(), {{{dst.data(), dst.strides()}, {src.data(), strides}}},
                  [](auto p, int64_t n, auto s) {
                    for (int64_t i = 0; i < n; ++i) p[0][i * s[0]] = p[1][i * s[1]];
                  });
}

TensorBase copy(const TensorBase& x) {
  TensorBase y = kernels::empty(x.shape());
  copy_into(y, x);
  return y;
}

TensorBase sum_keepdim(const TensorBase& x, uint32_t mask) {
  Shape out_shape = x.shape();
  for (int d = 0; d < x.dim(); ++d)
    if (mask >> d & 1) out_shape[d] = 1;
  TensorBase y = kernels::zeros(out_shape);
  Shape out_strides = y.strides();
  for (int d = 0; d < x.dim(); ++d)
    if (mask >> d & 1) out_strides[d] = 0;
  for_each_run<2>(x.shape(), {{{y.data(), out_strides}, {x.data(), x.strides()}}},
                  [](auto p, int64_t n, auto s) {
                    float *out = p[0], *in = p[1];
                    if (s[0] == 0) {  // reducing along the run: accumulate in double
                      double acc = 0;
                      for (int64_t i = 0; i < n; ++i) acc += in[i * s[1]];
                      *out += float(acc);
                    } else if (s[0] == 1 && s[1] == 1) {
#pragma omp simd
                      for (int64_t i = 0; i < n; ++i) out[i] += in[i];
                    } else {
                      for (int64_t i = 0; i < n; ++i) out[i * s[0]] += in[i * s[1]];
                    }
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
  TensorBase values = kernels::empty(out_shape), indices = kernels::empty(out_shape);
  const float* in = x.data();
  float *v = values.data(), *ix = indices.data();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const float* p = in + o * r * inner + i;
      float best = p[0];
      int64_t best_k = 0;
      for (int64_t k = 1; k < r; ++k) {
        float c = p[k * inner];
        // NaN wins, as in PyTorch: it propagates instead of being skipped.
        bool better = minimum ? (c < best || c != c) : (c > best || c != c);
        if (better && best == best) best = c, best_k = k;
      }
      v[o * inner + i] = best;
      ix[o * inner + i] = float(best_k);
    }
  }
  return {values, indices};
}

namespace {

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
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

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc) {
  double madds = double(m) * double(n) * double(k);
  int threads = omp_get_max_threads();
  if (threads == 1 || omp_in_parallel() || madds < kSplitMin || madds > kSplitMax) {
    sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
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
      sgemm(trans_a, trans_b, size, n, k, alpha, trans_a ? a + begin : a + begin * lda, lda, b,
            ldb, beta, c + begin * ldc, ldc);
    else  // columns [begin, begin + size) of C and of op(B)
      sgemm(trans_a, trans_b, m, size, k, alpha, a, lda, trans_b ? b + begin * ldb : b + begin,
            ldb, beta, c + begin, ldc);
  }
}

namespace {

// How BLAS can read the last two dims of a tensor without a copy.
struct MatrixView {
  const float* data;
  bool trans;
  int64_t ld;
  int64_t batch_stride;  // 0 when the batch is broadcast
};

bool as_matrix(const TensorBase& t, MatrixView& view) {
  int r = t.dim();
  int64_t rows = t.shape()[r - 2], cols = t.shape()[r - 1];
  int64_t rs = t.strides()[r - 2], cs = t.strides()[r - 1];
  view.data = t.data();
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
  TensorBase a = a_in, b = b_in;
  MatrixView va, vb;
  if (!as_matrix(a, va)) a = copy(a), as_matrix(a, va);
  if (!as_matrix(b, vb)) b = copy(b), as_matrix(b, vb);
  int ra = a.dim(), rb = b.dim();
  int64_t m = a.shape()[ra - 2], k = a.shape()[ra - 1], n = b.shape()[rb - 1];
  int64_t batch_a = ra == 3 ? a.shape()[0] : 1, batch_b = rb == 3 ? b.shape()[0] : 1;
  int64_t batch = std::max(batch_a, batch_b);
  TensorBase c = ra == 3 || rb == 3 ? kernels::empty({batch, m, n}) : kernels::empty({m, n});
  if (k == 0) return kernels::zeros(c.shape());
  for (int64_t i = 0; i < batch; ++i)
    gemm(va.trans, vb.trans, m, n, k, 1.0f, va.data + i * va.batch_stride, va.ld,
         vb.data + i * vb.batch_stride, vb.ld, 0.0f, c.data() + i * m * n, std::max<int64_t>(n, 1));
  return c;
}

}  // namespace tg::kernels
