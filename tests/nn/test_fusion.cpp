// Tests of the fusions for residual networks: functional::add_relu against torch.relu(a + b)
// and its gradients (fixtures from make_fusion_fixtures.py), fuse_conv_bn_eval against
// torch.nn.utils.fusion.fuse_conv_bn_eval and against the unfused eval forward, when conv_bn
// folds and when it must not, and CifarResNet's folded eval forward against the same network
// computed module by module without folding. add_relu's gradcheck, tangent and double backward
// are rows of tests/op_table.h.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/node.h>
#include <tapegrad/core/random.h>
#include <tapegrad/nn/activation.h>
#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/fusion.h>
#include <tapegrad/nn/resnet.h>
#include <tapegrad/nn/linear.h>
#include <tapegrad/nn/pool.h>
#include <tapegrad/nn/sequential.h>
#include "tests/nn/fixture.h"
#include "tests/test_util.h"

using namespace tg;
using test::error_of;
namespace F = tg::nn::functional;

namespace {

// A Conv2d(4, 6, 3, stride 2, padding 1) and an eval-mode BatchNorm2d(6, eps 1e-3) holding
// the fixture's values under `p` ("bias." or "nobias.").
struct ConvBn {
  nn::Conv2d conv;
  nn::BatchNorm2d bn{6, 1e-3f};
  ConvBn(const test::Fixture& f, const std::string& p)
      : conv({.in = 4, .out = 6, .kernel = 3, .stride = 2, .padding = 1,
              .bias = f.contains(p + "conv_b")}) {
    NoGradGuard no_grad;
    conv.weight.copy_(f[p + "conv_w"]);
    if (conv.bias.defined()) conv.bias.copy_(f[p + "conv_b"]);
    bn.weight.copy_(f[p + "bn_w"]);
    bn.bias.copy_(f[p + "bn_b"]);
    bn.running_mean.copy_(f[p + "bn_rm"]);
    bn.running_var.copy_(f[p + "bn_rv"]);
    conv.eval();
    bn.eval();
  }
};

// The block's shortcut written out: the input, option B's modules in turn, or option A's
// subsampling with zero channels padded on both sides (pad, where the block uses cat).
Tensor shortcut_unfused(nn::BasicBlock& block, const Tensor& x) {
  const nn::BasicBlockOptions& o = block.options;
  if (block.downsample) {
    Tensor h = (*block.downsample->at<nn::Conv2d>(0))(x);
    return (*block.downsample->at<nn::BatchNorm2d>(1))(h);
  }
  if (o.stride == 1 && o.in == o.out) return x;
  Tensor sub = x.slice(2, 0, x.size(2), o.stride).slice(3, 0, x.size(3), o.stride);
  const int64_t extra = o.out - o.in;
  return F::pad(sub, {0, 0, 0, 0, extra / 2, extra - extra / 2});
}

// CifarResNet's forward, each convolution and BatchNorm module called on its own.
Tensor resnet_unfused(nn::CifarResNet& net, const Tensor& x) {
  Tensor h = (*net.bn1)((*net.conv1)(x)).relu();
  for (auto* stage : {net.layer1.get(), net.layer2.get(), net.layer3.get()})
    for (size_t i = 0; i < stage->size(); ++i) {
      nn::BasicBlock& b = *stage->at<nn::BasicBlock>(i);
      Tensor out = (*b.bn1)((*b.conv1)(h)).relu();
      out = (*b.bn2)((*b.conv2)(out));
      h = (out + shortcut_unfused(b, h)).relu();
    }
  return (*net.fc)(h.mean({2, 3}));
}

}  // namespace

TEST_CASE("nn add_relu: values and gradients match torch.relu(a + b), with broadcasting") {
  test::Fixture f("fusion.json");
  for (std::string p : {"same.", "bcast."}) {
    CAPTURE(p);
    Tensor a = f[p + "a"].requires_grad_(), b = f[p + "b"].requires_grad_();
    Tensor y = F::add_relu(a, b);
    TG_CHECK_CLOSE(y, f[p + "y"], 1e-6f, 1e-6f);
    y.backward(f[p + "u"]);
    TG_CHECK_CLOSE(a.grad(), f[p + "ga"], 1e-6f, 1e-6f);
    TG_CHECK_CLOSE(b.grad(), f[p + "gb"], 1e-6f, 1e-6f);
  }
  // By hand: a negative sum is cut to 0 and passes no gradient.
  Tensor a = tensor({1, -2, 0.5f}).requires_grad_(), b = tensor({1, 1, -1});
  Tensor y = F::add_relu(a, b);
  CHECK(y.to_vector() == std::vector<float>{2, 0, 0});
  y.sum().backward();
  CHECK(a.grad().to_vector() == std::vector<float>{1, 0, 0});
}

TEST_CASE("nn add_relu: errors name the op and both shapes") {
  std::string e = error_of([] { F::add_relu(zeros({2, 3}), zeros({4})); });
  CHECK(e.find("add_relu") != std::string::npos);
  CHECK(e.find("[2, 3]") != std::string::npos);
  CHECK(e.find("[4]") != std::string::npos);
}

TEST_CASE("nn fuse_conv_bn_eval: PyTorch's fused weights, the unfused eval output") {
  test::Fixture f("fusion.json");
  for (std::string p : {"nobias.", "bias."}) {
    CAPTURE(p);
    ConvBn m(f, p);
    Generator before = default_generator();
    Tensor w_before = m.conv.weight.clone();
    nn::Conv2d fused = nn::fuse_conv_bn_eval(m.conv, m.bn);
    CHECK(default_generator().state() == before.state());  // not advanced by the new layer
    TG_CHECK_CLOSE(m.conv.weight, w_before, 0, 0);        // the original is untouched
    CHECK(fused.bias.defined());
    CHECK(!fused.is_training());
    CHECK(fused.weight.requires_grad());  // fresh parameters, as PyTorch's
    TG_CHECK_CLOSE(fused.weight, f[p + "fused_w"], 1e-6f, 1e-6f);
    TG_CHECK_CLOSE(fused.bias, f[p + "fused_b"], 1e-6f, 1e-6f);
    NoGradGuard no_grad;
    Tensor x = f[p + "x"];
    TG_CHECK_CLOSE(fused(x), f[p + "y"], 1e-5f, 1e-5f);
    TG_CHECK_CLOSE(fused(x), m.bn(m.conv(x)), 1e-5f, 1e-5f);
    TG_CHECK_CLOSE(nn::conv_bn(m.conv, m.bn, x), f[p + "y"], 1e-5f, 1e-5f);
  }
}

TEST_CASE("nn conv_bn: folds only in eval mode and when no weight gradient is wanted") {
  test::Fixture f("fusion.json");
  ConvBn m(f, "bias.");
  Tensor x = f["bias.x"];
  // Eval, grad mode on, weights requiring grad: unfused, so the gradient reaches conv.weight.
  nn::conv_bn(m.conv, m.bn, x).sum().backward();
  CHECK(m.conv.weight.grad().defined());
  CHECK(m.bn.weight.grad().defined());
  // Eval with a frozen model but an input that wants its gradient: folded, same values and
  // the same input gradient as the unfused composition.
  for (Tensor& t : m.conv.parameters()) t.requires_grad_(false);
  for (Tensor& t : m.bn.parameters()) t.requires_grad_(false);
  Tensor x1 = x.clone().requires_grad_(), x2 = x.clone().requires_grad_();
  Tensor y1 = nn::conv_bn(m.conv, m.bn, x1), y2 = m.bn(m.conv(x2));
  TG_CHECK_CLOSE(y1, y2, 1e-5f, 1e-5f);
  Tensor u = randn(y1.shape());
  y1.backward(u);
  y2.backward(u);
  TG_CHECK_CLOSE(x1.grad(), x2.grad(), 1e-5f, 1e-5f);
  // Training: batch statistics and a running-statistics update, never folded.
  m.bn.train();
  Tensor before = m.bn.running_mean.clone();
  NoGradGuard no_grad;
  TG_CHECK_CLOSE(nn::conv_bn(m.conv, m.bn, x), m.bn(m.conv(x)), 1e-5f, 1e-5f);
  CHECK(!allclose(m.bn.running_mean, before));
}

TEST_CASE("nn fuse_conv_bn_eval and fuse_conv_bn_weights: errors name the op and the values") {
  test::Fixture f("fusion.json");
  ConvBn m(f, "bias.");
  m.bn.train();
  CHECK(error_of([&] { nn::fuse_conv_bn_eval(m.conv, m.bn); }).find("only for eval mode") !=
        std::string::npos);
  m.bn.eval();
  nn::BatchNorm2d wrong(5);
  wrong.eval();
  std::string e = error_of([&] { nn::fuse_conv_bn_eval(m.conv, wrong); });
  CHECK(e.find("BatchNorm2d(5)") != std::string::npos);
  CHECK(e.find("6 output channels") != std::string::npos);
  nn::BatchNorm2d untracked(6, 1e-5f, 0.1f, true, false);
  untracked.eval();
  CHECK(error_of([&] { nn::fuse_conv_bn_eval(m.conv, untracked); }).find("running statistics") !=
        std::string::npos);
  e = error_of([&] {
    nn::fuse_conv_bn_weights(m.conv.weight, m.conv.bias, zeros({5}), ones({6}), 1e-5f, Tensor(),
                             Tensor());
  });
  CHECK(e.find("fuse_conv_bn_weights: running_mean of shape [5]") != std::string::npos);
  CHECK(e.find("6 output channels") != std::string::npos);
}

TEST_CASE("CifarResNet: the folded eval forward equals the unfused one, both shortcuts") {
  manual_seed(4);
  for (nn::Shortcut option : {nn::Shortcut::A, nn::Shortcut::B}) {
    CAPTURE(int(option));
    nn::CifarResNet net({.depth = 20, .shortcut = option});
    {  // a few training batches give every BatchNorm running statistics of its own
      NoGradGuard no_grad;
      for (int i = 0; i < 3; ++i) net(randn({4, 3, 16, 16}));
      for (Tensor& w : net.parameters())  // and weights/biases away from their initial 1 and 0
        if (w.dim() == 1) w.copy_(w + randn(w.shape()) * 0.2f);
    }
    net.eval();
    Tensor x = randn({3, 3, 16, 16});
    Tensor unfused = resnet_unfused(net, x);
    Tensor with_grad = net(x);  // grad mode on, parameters requiring grad: not folded
    TG_CHECK_CLOSE(with_grad, unfused, 0, 1e-6f);
    NoGradGuard no_grad;
    TG_CHECK_CLOSE(net(x), unfused, 1e-5f, 1e-5f);
  }
}

namespace {

// The values of y, then of each tensor's gradient, as one vector.
std::vector<float> values_and_grads(const Tensor& y, const std::vector<Tensor>& leaves) {
  std::vector<float> all = y.detach().contiguous().to_vector<float>();
  for (const Tensor& t : leaves) {
    if (!t.defined()) continue;
    const std::vector<float> g = t.grad().to_vector<float>();
    all.insert(all.end(), g.begin(), g.end());
  }
  return all;
}

}  // namespace

// conv2d_relu computes relu(conv2d(...)) with the same kernels and the same mask, so values and
// gradients are bit for bit those of the two ops in turn, on each conv path: im2col + GEMM
// (LeNet's 5x5), the direct 3x3 kernel (3 input channels), Winograd (16 channels, 16 x 16;
// AVX-512 only), groups, padding "same".
TEST_CASE("conv2d_relu: exactly relu(conv2d(...)), values and gradients, on every conv path") {
  manual_seed(21);
  struct Case {
    const char* name;
    Shape x, w;
    bool bias;
    int64_t stride, padding, groups;
  };
  const std::vector<Case> cases = {
      {"5x5 valid (im2col)", {3, 3, 12, 12}, {6, 3, 5, 5}, true, 1, 0, 1},
      {"3x3 direct", {2, 3, 8, 8}, {5, 3, 3, 3}, true, 1, 1, 1},
      {"3x3 Winograd", {3, 16, 16, 16}, {16, 16, 3, 3}, false, 1, 1, 1},
      {"stride 2, groups 2", {2, 4, 7, 7}, {6, 2, 3, 3}, true, 2, 1, 2}};
  for (const Case& k : cases) {
    INFO(std::string(k.name));
    Tensor x = randn(k.x, {.requires_grad = true}), w = randn(k.w, {.requires_grad = true});
    Tensor b = k.bias ? randn({k.w[0]}, {.requires_grad = true}) : Tensor();
    auto run = [&](bool fused) {
      for (Tensor* t : {&x, &w, &b})
        if (t->defined()) t->zero_grad();
      Tensor y = fused ? F::conv2d_relu(x, w, b, k.stride, k.padding, 1, k.groups)
                       : F::relu(F::conv2d(x, w, b, k.stride, k.padding, 1, k.groups));
      Tensor gy = randn(y.shape());  // the same in both runs: seeded alike before each
      (y * gy).sum().backward();
      return values_and_grads(y, {x, w, b});
    };
    manual_seed(5);
    const std::vector<float> separate = run(false);
    manual_seed(5);
    const std::vector<float> fused = run(true);
    CHECK(fused == separate);
  }
  Tensor y = F::conv2d_relu(randn({1, 2, 5, 5}), randn({3, 2, 3, 3}, {.requires_grad = true}),
                            Tensor(), 1, "same");
  CHECK(std::string(y.grad_fn()->name) == "conv2d_relu");
  CHECK(y.min().item<float>() >= 0);
  CHECK_THROWS_CONTAINING(F::conv2d_relu(randn({1, 2, 5, 5}), randn({3, 2, 3, 3}), Tensor(), 2,
                                         "same"),
                          "conv2d_relu: padding='same' is not supported for strided "
                          "convolutions, got stride (2, 2)");
}

// nn::Sequential runs Conv2d + ReLU as conv2d_relu: the LeNet of the course gives the values
// and gradients of its modules applied one by one; a ReLU after anything else, or a Conv2d
// followed by another module, is left alone.
TEST_CASE("Sequential: a Conv2d followed by a ReLU runs as one conv2d_relu node") {
  manual_seed(22);
  nn::Sequential net(nn::Conv2d(3, 6, 5), nn::ReLU(), nn::MaxPool2d(2), nn::Conv2d(6, 16, 5),
                     nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(), nn::Linear(400, 120),
                     nn::ReLU(), nn::Linear(120, 10));
  Tensor x = randn({4, 3, 32, 32});
  Tensor fused = net(x);
  Tensor layered = x;
  for (const auto& m : net) layered = m->forward(layered);
  CHECK(fused.to_vector<float>() == layered.to_vector<float>());
  std::vector<Tensor> params = net.parameters();
  std::vector<std::vector<float>> grads;
  fused.sum().backward();
  for (Tensor& p : params) grads.push_back(p.grad().to_vector<float>()), p.zero_grad();
  layered.sum().backward();
  for (size_t i = 0; i < params.size(); ++i) CHECK(params[i].grad().to_vector<float>() == grads[i]);
  // The first two modules' output is conv2d_relu's.
  nn::Sequential head(nn::Conv2d(3, 6, 5), nn::ReLU());
  CHECK(std::string(head(x).grad_fn()->name) == "conv2d_relu");
  nn::Sequential relu_first(nn::ReLU(), nn::Conv2d(3, 6, 5));
  CHECK(std::string(relu_first(x).grad_fn()->name) == "conv2d");
}
