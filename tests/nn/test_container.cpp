// Tests of ModuleList, ModuleDict, Module::modules()/named_modules() and Module::apply: a model
// holding both containers loads PyTorch's state dict under PyTorch's names and computes its
// output (fixtures from make_container_fixtures.py), traversal orders as PyTorch's, and every
// error message.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/state_dict.h>
#include <tapegrad/nn/activation.h>
#include <tapegrad/nn/container.h>
#include <tapegrad/nn/linear.h>
#include <tapegrad/nn/sequential.h>
#include "tests/nn/fixture.h"
#include "tests/test_util.h"

using namespace tg;
using test::error_of;

namespace {

// make_container_fixtures.py's Net.
struct Net : nn::Module {
  std::shared_ptr<nn::ModuleList> layers;
  std::shared_ptr<nn::ModuleDict> heads;
  Net()
      : layers(register_module("layers", nn::ModuleList(nn::Linear(4, 8), nn::Linear(8, 8)))),
        heads(register_module("heads", nn::ModuleDict())) {
    heads->insert("cls", nn::Linear(8, 3));
    heads->insert("reg", nn::Linear(8, 1));
  }
  Tensor forward(const Tensor& input) override {
    Tensor x = input;
    for (const auto& layer : *layers) x = (*layer)(x).relu();
    return cat({(*(*heads)["cls"])(x), (*heads->at<nn::Linear>("reg"))(x)}, 1);
  }
};

template <typename Named>
std::vector<std::string> names_of(const Named& named) {
  std::vector<std::string> names;
  for (const auto& [name, value] : named) names.push_back(name);
  return names;
}

}  // namespace

TEST_CASE("nn containers: a model with a ModuleList and a ModuleDict has PyTorch's names") {
  Net net;
  // PyTorch's state_dict keys for the same model (make_container_fixtures.py prints them).
  CHECK(names_of(net.state_dict()) ==
        std::vector<std::string>{"layers.0.weight", "layers.0.bias", "layers.1.weight",
                                 "layers.1.bias", "heads.cls.weight", "heads.cls.bias",
                                 "heads.reg.weight", "heads.reg.bias"});
  // PyTorch's file loads strictly (every name matches) and gives PyTorch's output.
  net.load_state_dict(load(test::nn_fixture_path("containers.safetensors")));
  test::Fixture f("containers.json");
  TG_CHECK_CLOSE(net(f["x"]), f["y"], 1e-5f, 1e-6f);
  // named_modules as PyTorch lists them: pre-order, "" for the root.
  CHECK(names_of(net.named_modules()) ==
        std::vector<std::string>{"", "layers", "layers.0", "layers.1", "heads", "heads.cls",
                                 "heads.reg"});
  std::vector<nn::Module*> all = net.modules();
  REQUIRE(all.size() == 7);
  CHECK(all[0] == &net);
  CHECK(all[2] == (*net.layers)[0].get());
  CHECK(all[6] == (*net.heads)["reg"].get());
  const Net& view = net;
  CHECK(view.modules().size() == 7);
  CHECK(view.named_modules()[5].second == (*net.heads)["cls"].get());
  // Registered children reach train/eval and the printed summary.
  net.eval();
  CHECK(!(*net.layers)[1]->is_training());
  std::string summary = nn::to_string(*net.layers);
  CHECK(summary.starts_with("ModuleList("));
  CHECK(summary.find("\n  (1): Linear(in_features=8, out_features=8, bias=True)") !=
        std::string::npos);
}

TEST_CASE("nn ModuleList: append, index, iterate, extend") {
  nn::ModuleList list;
  CHECK(list.empty());
  list.push_back(nn::Linear(2, 3));
  auto shared = std::make_shared<nn::ReLU>();
  list.append(shared);
  list.append(nn::Linear(3, 1));
  CHECK(list.size() == 3);
  CHECK(names_of(list.named_children()) == std::vector<std::string>{"0", "1", "2"});
  CHECK(list[1] == shared);
  CHECK(list[-1] == list[2]);  // negative indices count from the end, as in PyTorch
  CHECK(list.at<nn::Linear>(2)->weight.shape() == Shape{1, 3});
  int count = 0;
  for (const std::shared_ptr<nn::Module>& m : list) count += m->name() == "Linear";
  CHECK(count == 2);
  nn::ModuleList more(nn::Identity(), shared);
  list.extend(more);
  CHECK(list.size() == 5);
  CHECK(list[4] == shared);
  CHECK(names_of(list.named_parameters()) ==
        std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  // The same module twice is one module: listed once by modules(), like its parameters.
  CHECK(list.modules().size() == 5);  // the list, two Linear, ReLU and Identity
}

TEST_CASE("nn ModuleDict: insertion order, replace in place, lookups") {
  nn::ModuleDict dict({{"b", std::make_shared<nn::Linear>(2, 2)},
                       {"a", std::make_shared<nn::ReLU>()}});
  auto head = dict.insert("c", nn::Linear(2, 1));
  CHECK(head->weight.shape() == Shape{1, 2});
  CHECK(dict.keys() == std::vector<std::string>{"b", "a", "c"});  // not sorted
  CHECK(dict.contains("a"));
  CHECK(!dict.contains("z"));
  CHECK(dict["c"] == head);
  // Like PyTorch's dict[name] = module: the new module takes the old one's place.
  dict.insert("b", nn::Identity());
  CHECK(dict.keys() == std::vector<std::string>{"b", "a", "c"});
  CHECK(dict["b"]->name() == "Identity");
  CHECK(names_of(dict.state_dict()) == std::vector<std::string>{"c.weight", "c.bias"});
  CHECK(dict.size() == 3);
  CHECK(dict.values()[2] == head);
  std::vector<std::string> seen;
  for (const auto& [name, module] : dict) seen.push_back(name + ":" + module->name());
  CHECK(seen == std::vector<std::string>{"b:Identity", "a:ReLU", "c:Linear"});
}

TEST_CASE("nn Module::apply visits children before their parent, each module once") {
  auto inner = std::make_shared<nn::Sequential>(nn::Linear(1, 1), nn::ReLU());
  auto shared = std::make_shared<nn::Linear>(1, 1);
  nn::Sequential net(inner, shared, shared);
  std::vector<std::string> order;
  nn::Module& result = net.apply([&](nn::Module& m) { order.push_back(m.name()); });
  CHECK(&result == &net);
  // PyTorch's order for the same model: Linear, ReLU, Sequential, Linear, Sequential.
  CHECK(order ==
        std::vector<std::string>{"Linear", "ReLU", "Sequential", "Linear", "Sequential"});
  // A typical use: initialise every Linear's bias.
  net.apply([](nn::Module& m) {
    if (auto* linear = dynamic_cast<nn::Linear*>(&m)) {
      NoGradGuard guard;
      linear->bias.fill_(0.5f);
    }
  });
  CHECK(shared->bias.item() == 0.5f);
  CHECK(inner->at<nn::Linear>(0)->bias.item() == 0.5f);
  CHECK(names_of(net.named_modules()) == std::vector<std::string>{"", "0", "0.0", "0.1", "1"});
}

TEST_CASE("nn containers: errors name the container and the values") {
  nn::ModuleList list(nn::ReLU(), nn::Linear(2, 2));
  CHECK(error_of([&] { list[2]; }) == "ModuleList: index 2 is out of range for 2 modules");
  CHECK(error_of([&] { list[-3]; }) == "ModuleList: index -3 is out of range for 2 modules");
  CHECK(error_of([&] { list.at<nn::Linear>(0); }) ==
        "ModuleList::at: module 0 is a ReLU, not the requested type");
  CHECK(error_of([&] { list.extend(list); }) ==
        "ModuleList::extend: a list cannot extend itself");
  CHECK(error_of([&] { list.push_back(std::shared_ptr<nn::Module>()); }) ==
        "register_module: '2' is a null module");
  nn::ModuleDict dict({{"relu", std::make_shared<nn::ReLU>()}});
  CHECK(error_of([&] { dict["linear"]; }) == "ModuleDict: no module named 'linear'; keys: [relu]");
  CHECK(error_of([&] { dict.at<nn::Linear>("relu"); }) ==
        "ModuleDict::at: module 'relu' is a ReLU, not the requested type");
  CHECK(error_of([&] { dict.insert("a.b", nn::ReLU()); }) ==
        "register_module: name 'a.b' in ModuleDict contains '.', which separates the levels of "
        "dotted names");
  CHECK(error_of([&] { dict.insert("relu", std::shared_ptr<nn::Module>()); }) ==
        "ModuleDict::insert: 'relu' is a null module");
  CHECK(error_of([&] { list.apply(nullptr); }) == "apply: the function given to ModuleList is empty");
  CHECK(error_of([&] { list(zeros({1})); }).starts_with("forward: ModuleList does not implement"));
}
