// The README's "Write your own op" example, compiled and run: the lines between the
// two markers below are the README's snippet, character for character (a test here
// checks that), so the README can never show an op that does not build or pass.
#include <tapegrad/core/random.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/test_util.h"

// [readme: write your own op]
#include <tapegrad/autograd/forward.h>    // jvp, vjp
#include <tapegrad/autograd/gradcheck.h>  // gradcheck
#include <tapegrad/autograd/node.h>       // record, grads
#include <tapegrad/autograd/tangent.h>    // record_tangent
#include <tapegrad/core/kernels.h>        // kernels::map
using namespace tg;

// y = log(1 + exp(x)), without overflow.   dy/dx = sigmoid(x)
Tensor softplus(const Tensor& x) {
  // auto: the same lambda serves float32 and float64 tensors
  Tensor y = kernels::map(x, [](auto v) {
    return std::max(v, decltype(v)(0)) + std::log1p(std::exp(-std::abs(v)));
  }, "softplus");
  // backward closure (reverse mode, a VJP): dL/dx = dL/dy * sigmoid(x); it reads x
  record("softplus", y, {x}, [x](const Tensor& gy) { return grads(gy * x.sigmoid()); })
      .saves(x);
  // tangent rule (forward mode, a JVP): dy = sigmoid(x) * dx
  record_tangent(y, {x}, [&](const Tensor& dx) { return dx * x.sigmoid(); });
  return y;
}

TEST_CASE("softplus: gradcheck, and forward mode agrees with reverse mode") {
  auto f = [](const std::vector<Tensor>& in) { return softplus(in[0]); };
  Tensor x = randn({3, 4}), v = randn({3, 4}), u = randn({3, 4});
  GradcheckResult r = gradcheck(f, {x});  // the closure against finite differences
  CHECK_MESSAGE(r.ok, r.message);
  auto [y, jv] = jvp(f, {x}, {v});  // J v by the tangent rule
  auto [y2, jtu] = vjp(f, {x}, u);  // J^T u by the backward closure
  CHECK((u * jv).sum().item() == doctest::Approx((jtu[0] * v).sum().item()));
}
// [readme: end]

TEST_CASE("softplus: values by hand, no overflow, and its tape") {
  test::check_values(
      softplus(tensor({0, 1, -2})),
      {float(std::log(2.0)), float(std::log1p(std::exp(1.0))), float(std::log1p(std::exp(-2.0)))});
  test::check_values(softplus(tensor({100, -100})), {100, 0});  // exp(100) would overflow
  Tensor x = tensor({0.5f}, {}, {.requires_grad = true});
  softplus(x).backward();
  test::check_values(x.grad(), {float(1 / (1 + std::exp(-0.5)))});
}

TEST_CASE("README: the 'Write your own op' snippet is the code compiled above") {
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), "cannot read ", path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  std::string self = read(std::string(TG_TEST_DIR) + "/autograd/test_custom_op.cpp");
  const std::string begin = "// [readme: write your own op]\n", end = "// [readme: end]\n";
  size_t from = self.find(begin), to = self.find(end);
  REQUIRE(from != std::string::npos);
  REQUIRE(to != std::string::npos);
  std::string snippet = self.substr(from + begin.size(), to - from - begin.size());
  std::string readme = read(std::string(TG_TEST_DIR) + "/../README.md");
  CHECK_MESSAGE(
      readme.find("```cpp\n" + snippet + "```\n") != std::string::npos,
      "README.md's 'Write your own op' block differs from tests/autograd/test_custom_op.cpp");
}
