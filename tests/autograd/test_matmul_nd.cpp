// matmul beyond 3 dims (torch.matmul's broadcast batches, 1-D operands promoted and squeezed):
// values and gradients against PyTorch (tests/autograd/fixtures/ops.json), the paths it takes
// (one GEMM for a batch times a matrix, copies only for broadcast or strided batches), and
// its errors. Gradcheck and forward-vs-reverse run on the matmul rows of tests/op_table.h.
#include <doctest/doctest.h>

#include <tapegrad/tapegrad.h>
#include "tests/autograd/ops_fixture.h"
#include "tests/test_util.h"

using namespace tg;

TEST_CASE("matmul N-d: values and gradients against PyTorch") {
  for (const char* name : {"4d_x_3d", "1d_x_4d", "4d_x_1d", "4d_x_2d", "2d_x_4d", "3d_x_5d",
                           "4d_x_4d"}) {
    test::check_against_torch(std::string("matmul_") + name, 2,
                              [](auto& x) { return x[0].matmul(x[1]); }, 1e-5f, 1e-5f);
  }
}

TEST_CASE("matmul N-d: strided operands give the same product as contiguous ones") {
  manual_seed(3);
  Tensor a = randn({2, 3, 5, 4}), b = randn({2, 3, 4, 5});
  Tensor at = a.transpose(-1, -2).contiguous().transpose(-1, -2);  // same values, transposed layout
  Tensor bp = b.permute({1, 0, 2, 3}).contiguous().permute({1, 0, 2, 3});  // batch dims swapped
  CHECK(allclose(at.matmul(bp), a.matmul(b), 1e-5f, 1e-6f));
  // Each batch is the 2-D product of its matrices.
  Tensor y = a.matmul(b);
  auto batch = [](const Tensor& t, int i, int j) { return t.select(0, i).select(0, j); };
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      CHECK(allclose(batch(y, i, j), batch(a, i, j).matmul(batch(b, i, j)), 1e-5f, 1e-6f));
}

TEST_CASE("matmul N-d: a contiguous batch times a matrix is one GEMM; broadcast batches sum") {
  Tensor a = ones({2, 3, 4, 5}).requires_grad_(), w = ones({5, 2}).requires_grad_();
  Tensor y = a.matmul(w);
  CHECK(y.shape() == Shape{2, 3, 4, 2});
  std::string tape = tape_string(y);
  INFO(tape);
  CHECK(tape.find("matmul [24, 2]") != std::string::npos);  // the batch folded into the rows
  y.sum().backward();
  test::check_values(w.grad(), std::vector<float>(10, 24));  // summed over all 24 rows
  // b broadcast over a's leading batch dim: its gradient sums over that dim.
  Tensor b = ones({3, 5, 2}).requires_grad_();
  a.matmul(b).sum().backward();
  test::check_values(b.grad(), std::vector<float>(30, 8));  // 2 batches x 4 rows
  // Empty batches and an empty inner dim.
  CHECK(zeros({0, 3, 2, 4}).matmul(zeros({4, 5})).shape() == Shape{0, 3, 2, 5});
  CHECK(zeros({2, 1, 2, 0}).matmul(zeros({3, 0, 5})).to_vector() == std::vector<float>(60, 0));
}

TEST_CASE("matmul N-d: errors name matmul and both shapes") {
  CHECK_THROWS_CONTAINING(zeros({2, 3, 4, 5}).matmul(zeros({4, 5, 6})),
                          "matmul: batch dims [2, 3] and [4] do not broadcast (shapes [2, 3, 4, 5] "
                          "and [4, 5, 6])");
  CHECK_THROWS_CONTAINING(zeros({2, 1, 4, 5}).matmul(zeros({4, 6})),
                          "matmul: shapes [2, 1, 4, 5] and [4, 6] are not aligned (5 != 4)");
  CHECK_THROWS_CONTAINING(zeros({3}).matmul(zeros({2, 2, 4, 5})),
                          "matmul: shapes [3] and [2, 2, 4, 5] are not aligned (3 != 4)");
}
