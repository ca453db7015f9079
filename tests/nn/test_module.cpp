// Tests of Module and Sequential: a custom module in a few lines, dotted names on nested
// containers, shared (tied) parameters, train/eval recursion, state dicts and every
// load_state_dict error, and the printed summary with parameter counts.
#include <doctest/doctest.h>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/gradcheck.h>
#include <tapegrad/nn/activation.h>
#include <tapegrad/nn/linear.h>
#include <tapegrad/nn/sequential.h>
#include "tests/nn/fixture.h"
#include "tests/test_util.h"

using namespace tg;
using test::error_of;

namespace {

// The custom module of the README: two layers, a buffer, and forward.
struct Net : nn::Module {
  std::shared_ptr<nn::Sequential> features;
  std::shared_ptr<nn::Linear> head;
  Tensor steps;
  Net()
      : features(register_module("features", nn::Sequential(nn::Linear(4, 8), nn::ReLU()))),
        head(register_module("head", nn::Linear(8, 2))),
        steps(register_buffer("steps", zeros({1}))) {}
  Tensor forward(const Tensor& x) override { return (*head)((*features)(x)); }
};

std::vector<std::string> names_of(const std::vector<std::pair<std::string, Tensor>>& named) {
  std::vector<std::string> names;
  for (const auto& [name, t] : named) names.push_back(name);
  return names;
}

}  // namespace

TEST_CASE("nn module: a custom module registers parameters, buffers and children") {
  manual_seed(0);
  Net net;
  Tensor y = net(randn({3, 4}));
  CHECK(y.shape() == Shape{3, 2});
  CHECK(names_of(net.named_parameters()) ==
        std::vector<std::string>{"features.0.weight", "features.0.bias", "head.weight",
                                 "head.bias"});
  CHECK(names_of(net.named_buffers()) == std::vector<std::string>{"steps"});
  CHECK(net.parameters().size() == 4);
  CHECK(net.parameters(false).empty());  // Net itself owns no parameter
  CHECK(net.children().size() == 2);
  CHECK(net.named_children()[1].first == "head");
  CHECK(nn::parameter_count(net) == 4 * 8 + 8 + 8 * 2 + 2);
  for (const Tensor& p : net.parameters()) CHECK(p.requires_grad());
  CHECK_FALSE(net.buffers()[0].requires_grad());
  // The typed pointers and the registry hold the same tensors.
  CHECK(net.head->weight.same(net.named_parameters()[2].second));
  CHECK(net.name() == "Net");
  CHECK(net.features->at<nn::Linear>(0)->in_features == 4);
}

TEST_CASE("nn module: register_parameter makes a leaf require grad; registration errors") {
  nn::Module m;
  Tensor w = m.register_parameter("w", zeros({2}));
  CHECK(w.requires_grad());
  Tensor frozen = m.register_parameter("frozen", zeros({2}), false);
  CHECK_FALSE(frozen.requires_grad());
  CHECK(error_of([&] { m.register_parameter("w", zeros({1})); }) ==
        "register_parameter: name 'w' is already used in Module");
  CHECK(error_of([&] { m.register_buffer("a.b", zeros({1})); }) ==
        "register_buffer: name 'a.b' in Module contains '.', which separates the levels of "
        "dotted names");
  CHECK(error_of([&] { m.register_module("", nn::ReLU()); }) ==
        "register_module: empty name in Module");
  Tensor leaf = ones({2}, {.requires_grad = true});
  CHECK(error_of([&] { m.register_parameter("product", leaf * 2); }) ==
        "register_parameter: 'product' [2] is the output of an op, not a leaf; hint: create it "
        "under NoGradGuard or pass t.detach()");
  CHECK(error_of([&] { m.register_parameter("none", Tensor()); }) ==
        "register_parameter: 'none' is an undefined tensor");
  CHECK(error_of([&] { m(ones({1})); }) ==
        "forward: Module does not implement forward(Tensor); hint: override "
        "`Tensor forward(const Tensor& x)` in the subclass");
}

TEST_CASE("nn module: dotted names on nested Sequentials") {
  nn::Sequential inner(nn::Linear(4, 3), nn::Tanh());
  nn::Sequential net;
  net.push_back(inner);  // a single Sequential argument to the constructor would copy it
  net.push_back(nn::Linear(3, 2));
  net.add("out", nn::Sequential(nn::ReLU(), nn::Linear(2, 1)));
  CHECK(names_of(net.named_parameters()) ==
        std::vector<std::string>{"0.0.weight", "0.0.bias", "1.weight", "1.bias", "out.1.weight",
                                 "out.1.bias"});
  CHECK(net.size() == 3);
  CHECK(net[1]->name() == "Linear");
  CHECK(net.parameters(false).empty());
  CHECK(error_of([&] { net[3]; }) == "Sequential: index 3 is out of range for 3 modules");
  CHECK(error_of([&] { net.at<nn::Linear>(0); }) ==
        "Sequential::at: module 0 is a Sequential, not the requested type");
  // The copied Sequential shares its modules (copies are shallow, like Tensor handles).
  CHECK(net.at<nn::Sequential>(0)->at<nn::Linear>(0)->weight.same(inner.at<nn::Linear>(0)->weight));
}

TEST_CASE("nn module: Sequential from values and shared_ptrs; forward chains the modules") {
  manual_seed(1);
  nn::Linear first(3, 4);
  auto second = std::make_shared<nn::Linear>(4, 2);
  nn::Sequential net(first, nn::ReLU(), second);
  Tensor x = randn({5, 3});
  Tensor expected = (*second)(first(x).relu());
  TG_CHECK_CLOSE(net(x), expected, 0.0f, 0.0f);
  CHECK(net.at<nn::Linear>(0)->weight.same(first.weight));  // copied value shares parameters
  CHECK(net[2] == second);
  int visited = 0;
  for (const auto& m : net) visited += m != nullptr;
  CHECK(visited == 3);
}

TEST_CASE("nn module: a shared (tied) parameter is listed once") {
  nn::Sequential net;
  auto layer = std::make_shared<nn::Linear>(3, 3);
  net.push_back(layer);
  net.push_back(layer);
  CHECK(net.parameters().size() == 2);
  CHECK(names_of(net.named_parameters()) == std::vector<std::string>{"0.weight", "0.bias"});
  CHECK(nn::parameter_count(net) == 12);
  CHECK(net.state_dict().size() == 4);  // a state dict keeps every name, as PyTorch's does
}

TEST_CASE("nn module: train and eval reach every submodule") {
  Net net;
  CHECK(net.is_training());
  net.eval();
  CHECK_FALSE(net.is_training());
  CHECK_FALSE(net.features->is_training());
  CHECK_FALSE((*net.features)[1]->is_training());
  CHECK_FALSE(net.head->is_training());
  net.train();
  CHECK((*net.features)[0]->is_training());
  net.train(false);
  CHECK_FALSE(net.head->is_training());
}

TEST_CASE("nn module: zero_grad clears every parameter's gradient") {
  Net net;
  net(randn({2, 4})).sum().backward();
  for (const Tensor& p : net.parameters()) CHECK(p.grad().defined());
  net.zero_grad();
  for (const Tensor& p : net.parameters()) CHECK_FALSE(p.grad().defined());
}

TEST_CASE("nn module: gradcheck of a custom module, for its input and its parameters") {
  manual_seed(2);
  Net net;
  Tensor x = randn({3, 4});
  std::vector<Tensor> tensors = net.parameters();
  tensors.insert(tensors.begin(), x);
  auto result = gradcheck([&] { return net(x); }, tensors);
  CHECK_MESSAGE(result.ok, result.message);
}

TEST_CASE("nn module: state_dict holds parameters and buffers, sharing storage") {
  Net net;
  StateDict dict = net.state_dict();
  std::vector<std::string> keys;
  for (const auto& [name, t] : dict) keys.push_back(name);
  CHECK(keys == std::vector<std::string>{"steps", "features.0.weight", "features.0.bias",
                                         "head.weight", "head.bias"});
  CHECK(dict.metadata() == std::map<std::string, std::string>{{"format", "pt"}});
  CHECK_FALSE(dict.at("head.bias").requires_grad());
  dict.at("head.bias").data()[0] = 42;  // a view of the parameter, as in PyTorch
  CHECK(net.head->bias.data()[0] == 42);
  CHECK(error_of([&] { dict.at("tail.bias"); }) ==
        "state_dict: no key 'tail.bias'; keys are: steps, features.0.weight, features.0.bias, "
        "head.weight, head.bias");
  CHECK(error_of([&] { dict.insert("steps", ones({1})); }) ==
        "state_dict: key 'steps' inserted twice");
}

TEST_CASE("nn module: load_state_dict copies values and keeps the module's own tensors") {
  manual_seed(3);
  Net a, b;
  Tensor b_weight = b.head->weight;
  a.steps.fill_(7);
  b.load_state_dict(a.state_dict());
  for (const auto& [name, t] : a.state_dict())
    TG_CHECK_CLOSE(b.state_dict().at(name), t, 0.0f, 0.0f);
  CHECK(b.head->weight.same(b_weight));  // copied into, not replaced: optimizers keep working
  CHECK(b.head->weight.requires_grad());
  CHECK(b.steps.item() == 7);
}

TEST_CASE("nn module: load_state_dict lists every problem and changes nothing") {
  manual_seed(4);
  Net net;
  StateDict before;
  for (const auto& [name, t] : net.state_dict()) before.insert(name, t.clone());
  StateDict bad = {
      {"features.0.weight", zeros({4, 8})},  // transposed: a shape mismatch
      {"features.0.bias", zeros({8})},       // fine, but must not be copied either
      {"head.weight", zeros({2, 8})},
      {"tail.weight", zeros({1})},           // unexpected
  };                                         // missing: steps, head.bias
  std::string message = error_of([&] { net.load_state_dict(bad); });
  CHECK(message ==
        "load_state_dict: the state dict does not fit Net; nothing was loaded:\n"
        "  missing keys: steps, head.bias\n"
        "  unexpected keys: tail.weight\n"
        "  shape mismatch: features.0.weight expected [8, 4], got [4, 8]");
  for (const auto& [name, t] : net.state_dict()) TG_CHECK_CLOSE(t, before.at(name), 0.0f, 0.0f);

  // Only key problems: the hint says how to skip them.
  StateDict partial = {{"head.bias", ones({2})}};
  CHECK(error_of([&] { net.load_state_dict(partial); }) ==
        "load_state_dict: the state dict does not fit Net; nothing was loaded:\n"
        "  missing keys: steps, features.0.weight, features.0.bias, head.weight\n"
        "hint: strict = false skips missing and unexpected keys");
  // Non-strict loading takes the keys that fit; a shape mismatch is still an error.
  StateDict extra = {{"head.bias", ones({2})}, {"other", ones({3})}};
  net.load_state_dict(extra, false);
  TG_CHECK_CLOSE(net.head->bias, ones({2}), 0.0f, 0.0f);
  StateDict wrong = {{"head.bias", ones({3})}};
  CHECK(error_of([&] { net.load_state_dict(wrong, false); }) ==
        "load_state_dict: the state dict does not fit Net; nothing was loaded:\n"
        "  shape mismatch: head.bias expected [2], got [3]");
}

TEST_CASE("nn module: the summary is PyTorch's repr with parameter counts") {
  nn::Sequential net(nn::Linear(4, 8), nn::ReLU(), nn::Dropout(0.25f), nn::Linear(8, 3, false));
  net.at<nn::Linear>(3)->weight.requires_grad_(false);  // frozen: counted as non-trainable
  CHECK(nn::to_string(net) ==
        "Sequential(                                               # 64\n"
        "  (0): Linear(in_features=4, out_features=8, bias=True)   # 40\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.25)\n"
        "  (3): Linear(in_features=8, out_features=3, bias=False)  # 24\n"
        ")\n"
        "Total params: 64\n"
        "Trainable params: 40\n"
        "Non-trainable params: 24");
  CHECK(fmt::format("{}", net) == nn::to_string(net));
  Net custom;
  std::string text = fmt::format("{}", custom);
  CHECK(text.starts_with("Net("));
  CHECK(text.find("  (features): Sequential(") != std::string::npos);
  CHECK(text.find("    (0): Linear(in_features=4, out_features=8, bias=True)") !=
        std::string::npos);
  CHECK(text.ends_with("Total params: 58\nTrainable params: 58\nNon-trainable params: 0"));
  nn::Sequential big(nn::Linear(1000, 1000));
  CHECK(nn::to_string(big).find("Total params: 1,001,000") != std::string::npos);
}
