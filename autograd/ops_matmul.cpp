// Matrix products through cblas_sgemm. Transposed views are handed to BLAS
// as transposes, never copied, so backward's a^T and b^T cost nothing.
#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/kernels.h>

namespace tg {

// y = a b.   dL/da = dL/dy b^T,   dL/db = a^T dL/dy   (summed over broadcast batches)
Tensor matmul(const Tensor& a, const Tensor& b) {
  check(a.dim() >= 1 && b.dim() >= 1, "matmul: operands must have at least 1 dim, got {} and {}",
        a.shape(), b.shape());
  check(a.dim() <= 3 && b.dim() <= 3, "matmul: operands of at most 3 dims supported, got {} and {}",
        a.shape(), b.shape());
  // 1-D operands become matrices and lose that dim again afterwards, as in torch.matmul.
  if (a.dim() == 1 && b.dim() == 1) return matmul(a.unsqueeze(0), b.unsqueeze(1)).reshape({});
  if (a.dim() == 1) return matmul(a.unsqueeze(0), b).squeeze(-2);
  if (b.dim() == 1) return matmul(a, b.unsqueeze(1)).squeeze(-1);
  int64_t k = a.shape()[a.dim() - 1], kb = b.shape()[b.dim() - 2];
  check(k == kb, "matmul: shapes {} and {} are not aligned ({} != {})", a.shape(), b.shape(), k, kb);
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
