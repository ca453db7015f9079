// Matrix products through cblas_sgemm. Transposed views are handed to BLAS
// as transposes, never copied, so backward's a^T and b^T cost nothing. Batches
// of more than one dim broadcast as in torch.matmul and are flattened into one,
// so every product ends in the 2-D or 3-D path below.
#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/kernels.h>

namespace tg {

namespace {

// The batch dims of t: all but the last two.
Shape batch_of(const Tensor& t) {
  Shape batch;
  for (int d = 0; d + 2 < t.dim(); ++d) batch.push_back(t.shape()[d]);
  return batch;
}

Shape with_matrix(Shape batch, int64_t rows, int64_t cols) {
  batch.push_back(rows);
  batch.push_back(cols);
  return batch;
}

// a [..., m, k] times b [..., k, n] when either has more than 3 dims: the batch dims
// broadcast, then are flattened into one, so the product is the 3-D path's loop of GEMMs.
// Expanding and reshaping are recorded views, so backward sums the gradient over broadcast
// batches (expand's backward is sum_to) without a rule of its own here.
Tensor matmul_batched(const Tensor& a, const Tensor& b) {
  int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  Shape batch_a = batch_of(a), batch_b = batch_of(b), batch;
  int rank = std::max(batch_a.size(), batch_b.size());
  for (int d = 0; d < rank; ++d) {
    int da = d - (rank - batch_a.size()), db = d - (rank - batch_b.size());
    int64_t sa = da >= 0 ? batch_a[da] : 1, sb = db >= 0 ? batch_b[db] : 1;
    check(sa == sb || sa == 1 || sb == 1,
          "matmul: batch dims {} and {} do not broadcast (shapes {} and {})", batch_a, batch_b,
          a.shape(), b.shape());
    batch.push_back(sa == 1 ? sb : sa);
  }
  int64_t count = checked_numel(batch, "matmul");
  // A contiguous a times one matrix b is one GEMM with count * m rows.
  if (batch_b.numel() == 1 && batch_a == batch && a.is_contiguous())
    return a.reshape({count * m, k}).matmul(b.reshape({k, n})).reshape(with_matrix(batch, m, n));
  // One matrix for the whole batch stays 2-D (the 3-D path reads it with batch stride 0);
  // the others become [count, rows, cols]: a view when contiguous, expanded and copied
  // only when their batch is broadcast.
  auto flat = [&](const Tensor& t, const Shape& own, int64_t rows, int64_t cols) {
    if (own.numel() == 1) return t.reshape({rows, cols});
    Tensor full = own == batch ? t : t.expand(with_matrix(batch, rows, cols));
    return full.reshape({count, rows, cols});
  };
  Tensor y = matmul(flat(a, batch_a, m, k), flat(b, batch_b, k, n));
  return y.reshape(with_matrix(batch, m, n));
}

}  // namespace

// y = a b.   dL/da = dL/dy b^T,   dL/db = a^T dL/dy   (summed over broadcast batches)
Tensor matmul(const Tensor& a, const Tensor& b) {
  check(a.dim() >= 1 && b.dim() >= 1, "matmul: operands must have at least 1 dim, got {} and {}",
        a.shape(), b.shape());
  int64_t k = a.size(-1), kb = b.dim() == 1 ? b.size(0) : b.size(-2);
  check(k == kb, "matmul: shapes {} and {} are not aligned ({} != {})", a.shape(), b.shape(), k, kb);
  // 1-D operands become matrices and lose that dim again afterwards, as in torch.matmul.
  if (a.dim() == 1 && b.dim() == 1) return matmul(a.unsqueeze(0), b.unsqueeze(1)).reshape({});
  if (a.dim() == 1) return matmul(a.unsqueeze(0), b).squeeze(-2);
  if (b.dim() == 1) return matmul(a, b.unsqueeze(1)).squeeze(-1);
  if (a.dim() > 3 || b.dim() > 3) return matmul_batched(a, b);
  if (a.dim() == 3 && b.dim() == 3) {
    int64_t ba = a.shape()[0], bb = b.shape()[0];
    check(ba == bb || ba == 1 || bb == 1, "matmul: batch sizes {} and {} differ ({} vs {})", ba, bb,
          a.shape(), b.shape());
  }
  Tensor y = kernels::matmul(a, b);
  record("matmul", y, {a, b}, [a, b](const Tensor& gy, NeedsGrad need) {
    Tensor ga, gb;
    // Recording a backward (create_graph), the products are themselves differentiable matmuls.
    auto product = [](const Tensor& l, const Tensor& r) {
      return recording_backward() ? matmul(l, r) : Tensor(kernels::matmul(l, r));
    };
    if (need[0]) ga = sum_to(product(gy, b.transpose(-1, -2)), a.shape());
    if (need[1]) gb = sum_to(product(a.transpose(-1, -2), gy), b.shape());
    return grads(ga, gb);
  }).saves(a, b);
  record_tangent(y, {a, b}, [&](const Tensor& ta, const Tensor& tb) {
    return matmul(ta, b) + matmul(a, tb);
  });
  return y;
}

Tensor Tensor::matmul(const Tensor& other) const { return tg::matmul(*this, other); }

}  // namespace tg
