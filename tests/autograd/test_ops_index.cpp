// logsumexp, gather/scatter_add(_), index_select/index_add, masked_fill and the indexing sugar
// (t.index({...})): values and gradients against PyTorch (tests/autograd/fixtures/ops.json,
// make_ops_fixtures.py), edge values by hand, views sharing storage, and every error naming
// its op. Gradcheck and forward-vs-reverse run on their rows of tests/op_table.h.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include <tapegrad/tapegrad.h>
#include "tests/autograd/ops_fixture.h"
#include "tests/test_util.h"

using namespace tg;
using namespace tg::indexing;
using test::ops_array;

namespace {

const float kInf = std::numeric_limits<float>::infinity();

}  // namespace

TEST_CASE("logsumexp: values and gradients against PyTorch") {
  test::check_against_torch("logsumexp_dim1", 1, [](auto& x) { return x[0].logsumexp(1); });
  // Entries up to ~90 in magnitude: exp alone would overflow float.
  test::check_against_torch("logsumexp_dim-3_keepdim", 1,
                            [](auto& x) { return x[0].logsumexp(-3, true); });
}

TEST_CASE("logsumexp: infinities, empty dims, 0-d and large offsets as PyTorch") {
  Tensor x = tensor({-kInf, -kInf, -kInf, 1, 2, 3}, {2, 3}).requires_grad_();
  Tensor y = x.logsumexp(1);
  CHECK(y.at({0}) == -kInf);
  CHECK(y.at({1}) == doctest::Approx(3.4076059644));  // log(e + e^2 + e^3)
  y.sum().backward();
  std::vector<float> g = x.grad().to_vector();
  for (int i = 0; i < 3; ++i) CHECK(std::isnan(g[i]));  // PyTorch: exp(-inf - -inf) = nan
  CHECK(g[5] == doctest::Approx(std::exp(3 - 3.4076059644)));
  CHECK(tensor({kInf, 1}).logsumexp(0).item() == kInf);
  Tensor empty_dim = zeros({2, 0}).logsumexp(1);
  CHECK(empty_dim.shape() == Shape{2});
  CHECK(empty_dim.at({1}) == -kInf);
  CHECK(scalar_tensor(5).logsumexp(0).item() == 5);
  CHECK(scalar_tensor(5).logsumexp(-1, true).shape() == Shape{});
  // log(2 e^10000) = 10000 + log 2, to float precision at 1e4.
  CHECK(tensor({1e4f, 1e4f}).logsumexp(0).item() == doctest::Approx(1e4 + std::log(2.0)));
  CHECK_THROWS_CONTAINING(zeros({2, 3}).logsumexp(2), "logsumexp: dim 2 out of range");
}

TEST_CASE("gather, scatter_add, index_select, index_add, masked_fill against PyTorch") {
  for (const char* name : {"gather_dim0", "gather_dim-2"}) {
    int dim = std::string(name) == "gather_dim0" ? 0 : -2;
    Tensor index = ops_array(std::string(name) + ".index");
    test::check_against_torch(name, 1, [&](auto& x) { return x[0].gather(dim, index); });
  }
  for (const char* name : {"scatter_add_dim0", "scatter_add_dim-1"}) {
    int dim = std::string(name) == "scatter_add_dim0" ? 0 : -1;
    Tensor index = ops_array(std::string(name) + ".index");
    test::check_against_torch(name, 2, [&](auto& x) { return x[0].scatter_add(dim, index, x[1]); });
  }
  Tensor index = ops_array("index_select_dim0.index");
  test::check_against_torch("index_select_dim0", 1,
                            [&](auto& x) { return x[0].index_select(0, index); });
  Tensor index2 = ops_array("index_select_dim-1.index");
  test::check_against_torch("index_select_dim-1", 1,
                            [&](auto& x) { return x[0].index_select(-1, index2); });
  Tensor index3 = ops_array("index_add_dim0_alpha.index");
  test::check_against_torch("index_add_dim0_alpha", 2,
                            [&](auto& x) { return x[0].index_add(0, index3, x[1], 0.5f); });
  Tensor mask = ops_array("masked_fill_broadcast_mask.mask");
  test::check_against_torch("masked_fill_broadcast_mask", 1,
                            [&](auto& x) { return x[0].masked_fill(mask, 2.5f); });
  Tensor mask2 = ops_array("masked_fill_broadcast_both.mask");
  test::check_against_torch("masked_fill_broadcast_both", 1,
                            [&](auto& x) { return x[0].masked_fill(mask2, -1); });
}

TEST_CASE("scatter_add: a src larger than index adds only its index-shaped corner") {
  Tensor src = ops_array("scatter_add_large_src.src").requires_grad_();  // [2, 5], index [2, 3]
  Tensor index = tensor({0, 2, 2, 1, 0, 2}, {2, 3});
  Tensor y = zeros({3, 4}).scatter_add(0, index, src);
  TG_CHECK_CLOSE(y, ops_array("scatter_add_large_src.y"));
  // dL/dsrc = gy gathered at index, 0 where src reaches past it (PyTorch 1.13 fails here).
  Tensor gy = arange(12).reshape({3, 4});
  y.backward(gy);
  test::check_values(src.grad(), {0, 9, 10, 0, 0, 4, 1, 10, 0, 0});
}

TEST_CASE("scatter_add_: in place, bumps the version, refuses what the tape saved") {
  Tensor x = zeros({2, 3}), index = tensor({1, 0, 1}, {1, 3}), src = tensor({1, 2, 3}, {1, 3});
  uint64_t before = x.version();
  x.scatter_add_(0, index, src);
  CHECK(x.version() == before + 1);
  test::check_values(x, {0, 2, 0, 1, 0, 3});
  // Equal to the out-of-place op, also on a strided view.
  Tensor base = zeros({3, 2});
  base.t().scatter_add_(0, index, src);
  test::check_values(base.t(), {0, 2, 0, 1, 0, 3});
  // A source sharing the target's memory is read before it is written.
  Tensor self = tensor({1, 2, 3});
  self.scatter_add_(0, tensor({1, 2, 0}), self);
  test::check_values(self, {4, 3, 5});
  // A tensor an op saved for backward, changed by scatter_add_, is refused by backward.
  Tensor w = tensor({1, 2, 3}, {1, 3}).requires_grad_();
  Tensor saved = tensor({0.5f, 1, 2}, {1, 3});
  Tensor loss = (w * saved).sum();
  saved.scatter_add_(0, tensor({0, 0, 0}, {1, 3}), src);
  CHECK_THROWS_CONTAINING(loss.backward(), "modified in place");
  // Refused on a leaf that requires grad while grad mode is on, untouched when a check fails.
  CHECK_THROWS_CONTAINING(w.scatter_add_(0, index, src),
                          "scatter_add_: a tensor that requires grad");
  Tensor y = zeros({2, 3});
  CHECK_THROWS_CONTAINING(y.scatter_add_(0, tensor({1, 0, 2}, {1, 3}), src),
                          "scatter_add_: index 2 at [0, 2]");
  CHECK(y.to_vector() == std::vector<float>(6, 0.0f));
  CHECK(y.version() == 0);
}

TEST_CASE("gather and index_select read any strided input; backward through them is recorded") {
  Tensor x = arange(12).reshape({3, 4}).t();  // [4, 3], not contiguous
  test::check_values(x.gather(1, tensor({2, 0}, {2, 1})), {8, 1});
  test::check_values(x.index_select(0, tensor({3, 1})), {3, 7, 11, 1, 5, 9});
  // The index is saved: changing it in place before backward is refused.
  Tensor leaf = ones({3}).requires_grad_();
  Tensor index = tensor({0, 2});
  Tensor y = leaf.index_select(0, index).sum();
  index.add_(0.0f);
  CHECK_THROWS_CONTAINING(y.backward(), "modified in place");
  // Empty indices give empty results and zero gradients.
  Tensor e = leaf.index_select(0, tensor(std::vector<float>{}));
  CHECK(e.shape() == Shape{0});
  e.sum().backward();
  test::check_values(leaf.grad(), {0, 0, 0});
}

TEST_CASE("index ops: bad indices and shapes are tg::Errors naming the op") {
  Tensor x = zeros({2, 3});
  CHECK_THROWS_CONTAINING(x.gather(1, tensor({0, 1.5f}, {1, 2})),
                          "gather: index 1.5 at [0, 1] of the float32 index tensor [1, 2] is "
                          "not an integer");
  CHECK_THROWS_CONTAINING(x.gather(1, tensor({0, 3}, {1, 2})),
                          "gather: index 3 at [0, 1] of the index tensor [1, 2] is out of range "
                          "for dim 1 of size 3 (input [2, 3])");
  CHECK_THROWS_CONTAINING(x.gather(0, tensor({-1}, {1, 1})), "gather: index -1 at [0, 0]");
  CHECK_THROWS_CONTAINING(x.gather(0, tensor({NAN}, {1, 1})), "is not an integer");
  CHECK_THROWS_CONTAINING(x.gather(0, tensor({0, 0}, {2})),
                          "gather: index [2] must have as many dims as the input [2, 3]");
  CHECK_THROWS_CONTAINING(x.gather(0, zeros({1, 4})),
                          "gather: index [1, 4] is larger than the input [2, 3] in dim 1 (4 > 3)");
  CHECK_THROWS_CONTAINING(x.gather(2, zeros({1, 1})), "gather: dim 2 out of range");
  CHECK_THROWS_CONTAINING(scalar_tensor(1).gather(0, scalar_tensor(0)),
                          "gather: expects a tensor of at least 1 dim");
  CHECK_THROWS_CONTAINING(x.scatter_add(0, zeros({1, 3}), zeros({1, 2})),
                          "scatter_add: index [1, 3] is larger than src [1, 2] in dim 1 (3 > 2)");
  // Along dim itself the index may be longer than the input (PyTorch's rule).
  test::check_values(x.scatter_add(0, zeros({3, 2}), ones({3, 2})), {3, 3, 0, 0, 0, 0});
  CHECK_THROWS_CONTAINING(x.scatter_add(1, zeros({3, 2}), zeros({3, 2})),
                          "scatter_add: index [3, 2] is larger than the input [2, 3] in dim 0");
  CHECK_THROWS_CONTAINING(x.scatter_add(0, zeros({1, 1}), zeros({3})),
                          "scatter_add: src [3] must have as many dims as the input [2, 3]");
  CHECK_THROWS_CONTAINING(x.scatter_add(0, tensor({2}, {1, 1}), zeros({1, 1})),
                          "scatter_add: index 2 at [0, 0] of the index tensor [1, 1] is out of "
                          "range");
  CHECK_THROWS_CONTAINING(x.index_select(1, zeros({1, 1})),
                          "index_select: index must be 1-D, got shape [1, 1]");
  CHECK_THROWS_CONTAINING(x.index_select(-1, tensor({0, 5})),
                          "index_select: index 5 at [1] of the index tensor [2] is out of range "
                          "for dim 1 of size 3");
  CHECK_THROWS_CONTAINING(x.index_add(0, tensor({0, 1}), zeros({2, 2})),
                          "index_add: source [2, 2] must have the input's shape [2, 3]");
  CHECK_THROWS_CONTAINING(x.index_add(0, tensor({0.5f}), zeros({1, 3})),
                          "index_add: index 0.5 at [0]");
  CHECK_THROWS_CONTAINING(x.masked_fill(zeros({2}), 1), "masked_fill");
  CHECK_THROWS_CONTAINING(x.masked_fill(Tensor(), 1), "undefined");
}

// Python expressions of make_ops_fixtures.py's indexing_cases, each written with t.index.
TEST_CASE("index: values and gradients against PyTorch's x[...]") {
  Tensor idx = ops_array("index.idx");
  auto check = [](const char* name, std::function<Tensor(const Tensor&)> f) {
    test::check_against_torch(std::string("index_") + name, 1, [&](auto& x) { return f(x[0]); });
  };
  check("int", [](const Tensor& x) { return x.index({1}); });
  check("negative_int", [](const Tensor& x) { return x.index({-1, -2}); });
  check("slice", [](const Tensor& x) { return x.index({Slice(1, None), Slice(None, None, 2)}); });
  check("slice_negative_ends",
        [](const Tensor& x) { return x.index({Slice(), Slice(-3, -1), Slice(1, None, 3)}); });
  check("slice_clamped", [](const Tensor& x) { return x.index({Slice(-10, 10), Slice(2, 100)}); });
  check("none_ellipsis", [](const Tensor& x) { return x.index({None, Ellipsis, 2, None}); });
  check("ellipsis_int", [](const Tensor& x) { return x.index({"...", 0}); });
  check("mixed",
        [&](const Tensor& x) { return x.index({1, Slice(1, None), None, Ellipsis, idx}); });
  check("tensor_first", [](const Tensor& x) { return x.index({tensor({2, 0})}); });
  check("int_then_tensor", [](const Tensor& x) { return x.index({0, Slice(), tensor({1, 4})}); });
  check("tensor_2d",
        [](const Tensor& x) { return x.index({Slice(), tensor({0, 1, 3, 3}, {2, 2}), 1}); });
}

TEST_CASE("index: integers, slices, None and Ellipsis give views; a tensor gives a copy") {
  Tensor x = arange(24).reshape({2, 3, 4});
  Tensor v = x.index({1, Slice(None, None, 2), None, Slice(-2, None)});
  CHECK(v.shape() == Shape{2, 1, 2});
  test::check_values(v, {14, 15, 22, 23});
  x.index({1, 0, Slice(2, None)}).fill_(-1);  // a write through the view reaches x
  CHECK(x.at({1, 0, 2}) == -1);
  CHECK(x.at({1, 0, 3}) == -1);
  Tensor copy = x.index({0, tensor({1})});
  copy.fill_(7);
  CHECK(x.at({0, 1, 0}) == 4);  // unchanged
  CHECK(x.index({}).shape() == x.shape());
  CHECK(scalar_tensor(3).index({None}).shape() == Shape{1});
  CHECK(x.index({Slice(5, 1)}).shape() == Shape{0, 3, 4});  // an empty slice, as Python
  // The tape shows one view node.
  Tensor leaf = zeros({2, 3}).requires_grad_();
  Tensor y = leaf.index({-1, Slice(1, None)});
  CHECK(y.grad_fn() != nullptr);
  CHECK(tape_string(y).find("index [2]") != std::string::npos);
}

TEST_CASE("index: bad index lists are tg::Errors naming index") {
  Tensor x = zeros({2, 3});
  CHECK_THROWS_CONTAINING(x.index({0, 0, 0}),
                          "index: too many indices (3) for a tensor of 2 dims ([2, 3])");
  CHECK_THROWS_CONTAINING(x.index({Ellipsis, 0, Ellipsis}), "index: at most one Ellipsis");
  CHECK_THROWS_CONTAINING(x.index({tensor({0}), tensor({0})}), "index: at most one index tensor");
  CHECK_THROWS_CONTAINING(x.index({Slice(0, 2, 0)}), "index: slice step must be positive, got 0");
  CHECK_THROWS_CONTAINING(x.index({Slice(None, None, -1)}), "index: slice step must be positive");
  CHECK_THROWS_CONTAINING(x.index({0, 3}),
                          "index: index 3 is out of range for dim 1 of size 3 (tensor of shape "
                          "[2, 3])");
  CHECK_THROWS_CONTAINING(x.index({-3}), "index: index -3 is out of range for dim 0 of size 2");
  CHECK_THROWS_CONTAINING(x.index({Slice(), tensor({-4})}),
                          "index: index -4 at [0] of the index tensor [1] is out of range for "
                          "dim 1 of size 3");
  CHECK_THROWS_CONTAINING(x.index({tensor({0.5f})}), "index: index 0.5 at [0]");
  CHECK_THROWS_CONTAINING(x.index({"..,"}), "index: the only string index is \"...\"");
  CHECK_THROWS_CONTAINING(x.index({None, None, None, None, None, None, None}),
                          "index: the result would have 9 dims, at most 8 supported");
  CHECK_THROWS_CONTAINING(Tensor().index({0}), "undefined");
}

// hvp runs reverse mode over the tangent rules, so it differentiates them: logsumexp's reads
// the output y, gather's tangent is a gather whose backward is a scatter_add.
TEST_CASE("logsumexp and gather: Hessian-vector products match their closed forms") {
  // H of logsumexp(x) over a row is diag(p) - p p^T with p = softmax(x).
  Tensor x = tensor({0.5f, -1, 2, 0.25f}), v = tensor({1, 2, -1, 0.5f});
  Tensor hv = hvp([](const Tensor& t) { return t.logsumexp(0); }, x, v);
  Tensor p = (x - x.logsumexp(0)).exp();
  Tensor expected = p * v - p * (p * v).sum();
  CHECK(allclose(hv, expected, 1e-4f, 1e-6f));
  // sum(gather(x)^2) with x_0 taken twice and x_2 once: H = diag(4, 0, 2, 0).
  Tensor index = tensor({0, 2, 0});
  Tensor hg = hvp([&](const Tensor& t) { return t.gather(0, index).pow(2).sum(); }, x, v);
  test::check_values(hg, {4, 0, -2, 0});
}
