// Dtypes (core/dtype.h): factories and conversions, the promotion rule and its errors, int64
// results of argmax and indices, printing and files in each dtype, and the op table run in
// both float32 and float64: the two dtypes compute the same values and gradients.
#include <cmath>
#include <filesystem>

#include <tapegrad/autograd/forward.h>
#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/state_dict.h>
#include <tapegrad/core/kernels.h>
#include "tests/op_table.h"

using namespace tg;

TEST_CASE("dtypes: factories, to() and item in each dtype") {
  CHECK(zeros({2}).dtype() == kFloat32);
  CHECK(zeros({2}, {.dtype = kFloat64}).dtype() == kFloat64);
  CHECK(ones_like(zeros({2}, {.dtype = kFloat64})).dtype() == kFloat64);
  CHECK(tensor(std::vector<int64_t>{1, 2}).dtype() == kInt64);
  CHECK(arange(5, {.dtype = kInt64}).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4});
  CHECK(eye(2, -1, {.dtype = kFloat64}).to_vector<double>() == std::vector<double>{1, 0, 0, 1});
  CHECK(randn({3}, {.dtype = kFloat64}).dtype() == kFloat64);

  // float64 keeps what float32 rounds away: 1 + 2^-40.
  Tensor x = full({}, 1 + 0x1p-40, {.dtype = kFloat64});
  CHECK(x.item<double>() == 1 + 0x1p-40);
  CHECK(x.to(kFloat32).item<double>() == 1.0);
  CHECK((x - 1).item<double>() == 0x1p-40);
  // float to int64 truncates toward zero, as PyTorch's .to(torch.int64)
  CHECK(tensor({-1.7f, 2.9f}).to(kInt64).to_vector<int64_t>() == std::vector<int64_t>{-1, 2});
  Tensor same = tensor({3.0f});
  CHECK(same.to(kFloat32).same(same));  // the dtype is already right: no copy

  CHECK_THROWS_CONTAINING(zeros({2}, {.dtype = kInt64, .requires_grad = true}),
                          "only floating-point tensors can require grad");
  CHECK_THROWS_CONTAINING(tensor(std::vector<int64_t>{1}).requires_grad_(),
                          "only floating-point tensors can require grad");
}

TEST_CASE("dtypes: mixing is an error naming the op and both dtypes; 0-d tensors adopt") {
  Tensor a = ones({2}), b = ones({2}, {.dtype = kFloat64});
  CHECK_THROWS_CONTAINING(a + b, "add: the operands' dtypes differ (float32 and float64)");
  CHECK_THROWS_CONTAINING(a.matmul(b), "matmul: the operands' dtypes differ");
  CHECK_THROWS_CONTAINING(cat({a, b}), "cat: tensor 1 is float64, tensor 0 is float32");
  CHECK_THROWS_CONTAINING(a + tensor(std::vector<int64_t>{1, 2}), "add: the operands' dtypes differ");
  CHECK_THROWS_CONTAINING(tensor(std::vector<int64_t>{1, 2}).exp(),
                          "exp: int64 tensors are not supported");
  // PyTorch's rule for 0-d tensors: a float32 scalar_tensor meets a float64 tensor in float64,
  // and its gradient comes back in its own dtype.
  Tensor s = scalar_tensor(2, {.requires_grad = true});
  Tensor x = tensor(std::vector<double>{1, 3}, {2}, {.dtype = kFloat64, .requires_grad = true});
  Tensor y = (x * s).sum();
  CHECK(y.dtype() == kFloat64);
  y.backward();
  CHECK(s.grad().dtype() == kFloat32);
  CHECK(s.grad().item() == 4);
  CHECK(x.grad().to_vector<double>() == std::vector<double>{2, 2});
  // a gradient of the wrong dtype for backward is refused
  Tensor z = x * 2;
  CHECK_THROWS_CONTAINING(z.backward(ones({2})), "backward: a float32 gradient for the float64");
}

TEST_CASE("dtypes: to() is differentiable, the gradient in the source dtype") {
  // y = sum(x64 * w) with x64 = x.to(float64): dy/dx = w, delivered as float32.
  Tensor x = tensor({1, 2, 3}, {3}, {.requires_grad = true});
  Tensor w = tensor(std::vector<double>{0.5, -1, 1 + 0x1p-30}, {3}, {.dtype = kFloat64});
  (x.to(kFloat64) * w).sum().backward();
  CHECK(x.grad().dtype() == kFloat32);
  CHECK(x.grad().to_vector() == std::vector<float>{0.5f, -1, float(1 + 0x1p-30)});
  // forward mode: the tangent is converted the same way
  auto [y, t] = jvp([](const std::vector<Tensor>& in) { return in[0].to(kFloat64) * 3; },
                    {tensor({2.0f})}, {tensor({1.0f})});
  CHECK(t.dtype() == kFloat64);
  CHECK(t.item<double>() == 3);
}

TEST_CASE("dtypes: argmax, max indices and int64 arithmetic") {
  Tensor x = tensor({1, 5, 2, 7, 0, 3}, {2, 3});
  Tensor am = x.argmax(1);
  CHECK(am.dtype() == kInt64);
  CHECK(am.to_vector<int64_t>() == std::vector<int64_t>{1, 0});
  CHECK(x.max(0).second.to_vector<int64_t>() == std::vector<int64_t>{1, 0, 1});
  // accuracy the PyTorch way: (pred == labels).sum()
  Tensor labels = tensor(std::vector<int64_t>{1, 2});
  Tensor hits = am.eq(labels).sum();
  CHECK(hits.dtype() == kInt64);
  CHECK(hits.item<int64_t>() == 1);
  // int64 indices beyond 2^24, exact (floats holding them would round)
  Tensor big = tensor(std::vector<int64_t>{(1 << 24) + 1});
  CHECK((big + big).item<int64_t>() == 2 * ((1 << 24) + 1));
  CHECK_THROWS_CONTAINING(x.gather(1, tensor({0.5f, 1}, {2, 1})), "is not an integer");
}

TEST_CASE("dtypes: printing and saving keep the dtype") {
  CHECK(to_string(tensor(std::vector<double>{1.5, 2}, {2}, {.dtype = kFloat64})) ==
        "tensor([1.5000, 2.0000], dtype=torch.float64)");
  CHECK(to_string(tensor(std::vector<int64_t>{3, -1})) == "tensor([ 3, -1])");
  CHECK(to_string(tensor({1, 2})) == "tensor([1., 2.])");

  namespace fs = std::filesystem;
  fs::path path = fs::temp_directory_path() / "tapegrad_test_dtypes.safetensors";
  StateDict dict;
  dict.insert("f64", tensor(std::vector<double>{1 + 0x1p-40, -2}, {2}, {.dtype = kFloat64}));
  dict.insert("i64", tensor(std::vector<int64_t>{(int64_t(1) << 40) + 1}));
  dict.insert("f32", tensor({0.25f}));
  save(dict, path.string());
  StateDict back = load(path.string());
  fs::remove(path);
  REQUIRE(back.find("f64"));
  CHECK(back.find("f64")->dtype() == kFloat64);
  CHECK(back.find("f64")->to_vector<double>() == std::vector<double>{1 + 0x1p-40, -2});
  CHECK(back.find("i64")->to_vector<int64_t>() == std::vector<int64_t>{(int64_t(1) << 40) + 1});
  CHECK(back.find("f32")->dtype() == kFloat32);
}

TEST_CASE("dtypes: gradcheck defaults to float64 and its tolerances") {
  // The inputs form checks float64 copies: a rule off by 0.2% passes float32's tolerances
  // (rtol 1%) but fails float64's (rtol 0.1%).
  auto slightly_wrong = [](const std::vector<Tensor>& x) {
    Tensor y = kernels::map(x[0], [](auto v) { return v * v; }, "square");
    record("square", y, {x[0]}, [x0 = x[0]](const Tensor& gy) {
      return grads(gy * x0 * 2.004);
    }).saves(x[0]);
    return y;
  };
  Tensor x = tensor({0.5f, -1, 2});
  CHECK_FALSE(gradcheck(slightly_wrong, {x}).ok);
  CHECK(gradcheck(slightly_wrong, {x}, {.dtype = kFloat32}).ok);
}

TEST_CASE("dtypes: every op in the table computes the same values and gradients in both") {
  manual_seed(5);
  for (const test::OpCase& c : test::op_table()) {
    SUBCASE(c.name.c_str()) {
      std::vector<Tensor> x64 = test::make_inputs(c, kFloat64);
      std::vector<Tensor> x32;
      for (const Tensor& x : x64) x32.push_back(x.to(kFloat32));
      Generator gen;
      gen.seed(3);
      Tensor y64 = c.f(x64);
      Tensor u = test::random_like(y64.shape(), gen, kFloat64);
      auto [v64, g64] = vjp(c.f, x64, u);
      auto [v32, g32] = vjp(c.f, x32, u.to(kFloat32));
      INFO(c.name);
      CHECK(y64.dtype() == kFloat64);
      CHECK(v32.dtype() == kFloat32);
      CHECK(allclose(v32.to(kFloat64), y64, 1e-4, 1e-5));
      for (size_t k = 0; k < g64.size(); ++k) {
        INFO("gradient ", k);
        REQUIRE(g32[k].defined() == g64[k].defined());
        if (!g64[k].defined()) continue;
        CHECK(g64[k].dtype() == kFloat64);
        CHECK(g32[k].dtype() == kFloat32);
        CHECK(allclose(g32[k].to(kFloat64), g64[k], 1e-3, 1e-4));
      }
    }
  }
}
