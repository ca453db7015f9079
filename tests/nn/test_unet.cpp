// nn::UNet: output shapes and parameter names at several depths, a gradient check of a tiny
// instance over its input and every parameter, and the errors naming the bad size.
#include <doctest/doctest.h>

#include <tapegrad/tapegrad.h>
#include "tests/test_util.h"

using namespace tg;

TEST_CASE("UNet: output shapes, children and parameter count") {
  manual_seed(0);
  for (int64_t depth : {0, 1, 2, 3}) {
    INFO("depth ", depth);
    nn::UNet net({.in = 2, .out = 3, .channels = 4, .depth = depth, .groups = 2});
    Tensor y = net(randn({2, 2, 16, 8}));
    CHECK(y.shape() == Shape{2, 3, 16, 8});
    // per level: two 3x3 convs without bias + two GroupNorms (weight, bias), and for each
    // level above the bottom a transposed 2x2 conv (weight, bias) and its decoder pair
    int64_t count = 0;
    for (const Tensor& p : net.parameters()) count += p.numel();
    int64_t expected = 0, c = 4, from = 2;
    auto pair = [](int64_t in, int64_t out) { return in * out * 9 + out * out * 9 + 4 * out; };
    for (int64_t level = 0; level < depth; ++level, from = c, c *= 2)
      expected += pair(from, c) + (2 * c * c * 4 + c) + pair(2 * c, c);
    expected += pair(from, c) + (4 * 3 + 3);  // bottom, head (1x1 conv with bias)
    CHECK(count == expected);
  }
  nn::UNet net({.in = 1, .out = 1, .channels = 4, .depth = 1, .groups = 2});
  auto named = net.named_parameters();
  std::vector<std::string> names;
  for (auto& [name, p] : named) names.push_back(name);
  CHECK(names.front() == "down.0.0.weight");
  CHECK(std::find(names.begin(), names.end(), "up.0.weight") != names.end());
  CHECK(std::find(names.begin(), names.end(), "decode.0.4.bias") != names.end());
  CHECK(names.back() == "head.bias");
  CHECK(net.extra_repr() == "in=1, out=1, channels=4, depth=1, groups=2");
}

TEST_CASE("UNet: forward mode agrees with reverse mode over input and parameters") {
  // <u, J v> by the tangent rules against <J^T u, v> by the backward closures: exact at any
  // point, kinks of ReLU and max-pool included.
  manual_seed(2);
  nn::UNet net({.in = 1, .out = 2, .channels = 4, .depth = 2, .groups = 2});
  Tensor x = randn({2, 1, 8, 8});
  std::vector<Tensor> tensors = net.parameters();
  tensors.insert(tensors.begin(), x);
  std::vector<Tensor> v;
  for (const Tensor& t : tensors) v.push_back(randn(t.shape()));
  auto [y, jv] = jvp([&] { return net(x); }, tensors, v);
  Tensor u = randn(y.shape());
  auto [y2, jtu] = vjp([&] { return net(x); }, tensors, u);
  double reverse = 0;
  for (size_t i = 0; i < tensors.size(); ++i) reverse += (jtu[i] * v[i]).sum().item();
  CHECK((u * jv).sum().item() == doctest::Approx(reverse).epsilon(1e-4));
  CHECK(allclose(y, y2));
}

TEST_CASE("UNet: gradcheck of a tiny instance over its input and parameters") {
  // Finite differences are wrong where a step crosses a ReLU or max-pool kink, and a random
  // point of a U-Net has many units near one; this seed's point has none within the step
  // (the test above checks the same derivatives exactly, at any point).
  manual_seed(1);
  nn::UNet net({.in = 1, .out = 1, .channels = 2, .depth = 1, .groups = 1});
  Tensor x = randn({1, 1, 8, 8});
  std::vector<Tensor> tensors = net.parameters();
  tensors.insert(tensors.begin(), x);
  // GroupNorm divides by a standard deviation of float32 sums: loose tolerances.
  GradcheckOptions loose{.eps = 1e-3f, .atol = 3e-3f, .rtol = 3e-2f};
  GradcheckResult r = gradcheck([&] { return net(x); }, tensors, loose);
  CHECK_MESSAGE(r.ok, r.message);
}

TEST_CASE("UNet: errors name the sizes") {
  CHECK_THROWS_CONTAINING(nn::UNet({.channels = 6, .groups = 4}),
                          "UNet: groups=4 does not divide channels=6");
  CHECK_THROWS_CONTAINING(nn::UNet({.channels = 0}),
                          "UNet: in, out, channels and groups must be positive");
  CHECK_THROWS_CONTAINING(nn::UNet({.depth = -1}), "UNet: depth must be in [0, 16], got -1");
  nn::UNet net({.in = 1, .out = 1, .channels = 4, .depth = 2, .groups = 2});
  CHECK_THROWS_CONTAINING(
      net(zeros({1, 1, 12, 6})),
      "UNet: H and W must be multiples of 2^depth = 4, got input [1, 1, 12, 6]");
  CHECK_THROWS_CONTAINING(net(zeros({1, 2, 8, 8})),
                          "UNet: expected input [N, 1, H, W], got [1, 2, 8, 8]");
  CHECK_THROWS_CONTAINING(net(zeros({8, 8})), "UNet: expected input [N, 1, H, W], got [8, 8]");
}
