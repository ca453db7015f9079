// Tests of nn::BasicBlock and nn::CifarResNet against a PyTorch model written independently in
// tests/nn/fixtures/make_resnet_fixtures.py (torchvision's names, both shortcut options): the
// same weights (set by a formula on both sides), the same batch, then training-mode logits,
// gradients, running statistics and eval-mode logits agree; parameter counts of ResNet-20/56;
// a gradient check of a tiny block; errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/gradcheck.h>
#include <tapegrad/core/random.h>
#include <tapegrad/nn/resnet.h>
#include "tests/nn/fixture.h"
#include "tests/test_util.h"

using namespace tg;
using test::error_of;

namespace {

// make_resnet_fixtures.py's set_by_formula.
void set_by_formula(nn::Module& net) {
  NoGradGuard no_grad;
  int k = 0;
  for (auto& [name, p] : net.named_parameters()) {
    std::vector<float> v(size_t(p.numel()));
    const double fan_in = double(p.numel()) / double(p.size(0));
    for (size_t j = 0; j < v.size(); ++j) {
      double s = std::sin(0.37 * double(j) + 1.3 * k);
      v[j] = float(p.dim() > 1 ? 1.5 * s / std::sqrt(fan_in) : 0.5 + 0.25 * s);
    }
    p.copy_(tensor(v, p.shape()));
    ++k;
  }
}

Tensor formula(const Shape& shape, double step, bool cosine) {
  std::vector<float> v(size_t(shape.numel()));
  for (size_t j = 0; j < v.size(); ++j)
    v[j] = float(cosine ? std::cos(step * double(j)) : std::sin(step * double(j)));
  return tensor(v, shape);
}

Tensor grad_of(const nn::Module& net, const std::string& name) {
  for (const auto& [n, p] : net.named_parameters())
    if (n == name) return p.grad();
  FAIL("no parameter ", name);
  return {};
}

}  // namespace

TEST_CASE("CifarResNet: depth 8 agrees with PyTorch in training and eval mode, both shortcuts") {
  test::Fixture f("resnet.json");
  const Tensor x = formula({2, 3, 32, 32}, 0.013, false), u = formula({2, 10}, 0.7, true);
  for (nn::Shortcut option : {nn::Shortcut::A, nn::Shortcut::B}) {
    const std::string p = option == nn::Shortcut::A ? "A." : "B.";
    CAPTURE(p);
    nn::CifarResNet net({.depth = 8, .shortcut = option});
    set_by_formula(net);
    Tensor y = net(x);
    TG_CHECK_CLOSE(y, f[p + "y"], 1e-4f, 1e-4f);
    (y * u).sum().backward();
    TG_CHECK_CLOSE(grad_of(net, "conv1.weight"), f[p + "gconv1"], 1e-3f, 1e-4f);
    TG_CHECK_CLOSE(grad_of(net, "layer3.0.bn2.weight"), f[p + "gbn"], 1e-3f, 1e-4f);
    TG_CHECK_CLOSE(grad_of(net, "fc.weight"), f[p + "gfc"], 1e-3f, 1e-4f);
    TG_CHECK_CLOSE(net.bn1->running_mean, f[p + "running_mean"], 1e-4f, 1e-5f);
    net.eval();
    NoGradGuard no_grad;
    TG_CHECK_CLOSE(net(x), f[p + "y_eval"], 1e-4f, 1e-4f);
  }
}

TEST_CASE("CifarResNet: parameter counts and names as PyTorch's") {
  test::Fixture f("resnet.json");
  CHECK(nn::parameter_count(nn::resnet20()) == int64_t(f.scalar("A.params20")));  // 269,722
  CHECK(nn::parameter_count(nn::resnet56()) == int64_t(f.scalar("A.params56")));
  CHECK(nn::parameter_count(nn::CifarResNet({.depth = 20, .shortcut = nn::Shortcut::B})) ==
        int64_t(f.scalar("B.params20")));
  nn::CifarResNet b({.depth = 20, .shortcut = nn::Shortcut::B});
  std::vector<std::string> names;
  for (const auto& [name, t] : b.named_parameters()) names.push_back(name);
  CHECK(names.front() == "conv1.weight");
  CHECK(std::find(names.begin(), names.end(), "layer2.0.downsample.0.weight") != names.end());
  CHECK(std::find(names.begin(), names.end(), "layer3.2.bn2.bias") != names.end());
  CHECK(names.back() == "fc.bias");
  CHECK(b(randn({1, 3, 8, 8})).shape() == Shape{1, 10});  // global pooling: any image size
}

TEST_CASE("BasicBlock: gradients match finite differences (option A with stride, option B)") {
  manual_seed(3);
  for (nn::Shortcut option : {nn::Shortcut::A, nn::Shortcut::B}) {
    nn::BasicBlock block({.in = 2, .out = 4, .stride = 2, .shortcut = option});
    block.eval();  // running statistics: the output is a smooth function of the weights
    Tensor x = randn({2, 2, 5, 5}, {.requires_grad = true});
    std::vector<Tensor> inputs{x, block.conv1->weight, block.conv2->weight, block.bn2->bias};
    GradcheckResult r = gradcheck([&] { return block(x); }, inputs, {.atol = 1e-2f, .rtol = 1e-2f});
    CHECK_MESSAGE(r.ok, r.message);
  }
}

TEST_CASE("BasicBlock and CifarResNet: errors name the layer and the problem") {
  CHECK(error_of([] { nn::CifarResNet({.depth = 21}); }).find("6n + 2") != std::string::npos);
  CHECK(error_of([] { nn::CifarResNet({.num_classes = 0}); }).find("num_classes") !=
        std::string::npos);
  CHECK(error_of([] { nn::BasicBlock({.in = 8, .out = 4, .stride = 2}); })
            .find("cannot shrink") != std::string::npos);
  CHECK(error_of([] { nn::BasicBlock({.in = 0, .out = 4}); }).find("positive") !=
        std::string::npos);
  nn::CifarResNet net({.depth = 8});
  CHECK(error_of([&] { net(randn({2, 1, 8, 8})); }).find("[N, 3, H, W]") != std::string::npos);
  nn::BasicBlock block({.in = 2, .out = 4, .stride = 2});
  CHECK(error_of([&] { block(randn({1, 3, 6, 6})); }).find("BasicBlock") != std::string::npos);
}
