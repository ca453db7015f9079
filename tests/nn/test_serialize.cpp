// Tests of a module's state dict through tg::save and tg::load: a bit-exact round trip
// (parameters and buffers), a state dict written by PyTorch giving PyTorch's outputs, and
// files that are corrupt, missing or do not fit, each leaving the module unchanged with a
// clear message.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <tapegrad/autograd/state_dict.h>
#include <tapegrad/core/atomic_file.h>
#include <tapegrad/core/safetensors.h>
#include <tapegrad/nn/activation.h>
#include <tapegrad/nn/linear.h>
#include <tapegrad/nn/sequential.h>
#include "tests/data/temp_dir.h"
#include "tests/nn/fixture.h"
#include "tests/test_util.h"

using namespace tg;
using test::error_of;

namespace {

// The fixture's PyTorch model: Linear(4, 8), ReLU, Linear(8, 3).
nn::Sequential mlp() { return nn::Sequential(nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 3)); }

// A model with a buffer, to show buffers are saved too.
struct Scaled : nn::Module {
  std::shared_ptr<nn::Linear> fc = register_module("fc", nn::Linear(3, 2));
  Tensor scale = register_buffer("scale", full({2}, 1.5f));
  Tensor forward(const Tensor& x) override { return (*fc)(x) * scale; }
};

// Copies of every state-dict value, to compare the module against later.
std::vector<std::vector<float>> snapshot(const nn::Module& m) {
  std::vector<std::vector<float>> values;
  for (const auto& [name, t] : m.state_dict()) values.push_back(t.to_vector());
  return values;
}

}  // namespace

TEST_CASE("nn save/load: save then load restores every parameter and buffer bit for bit") {
  test::TempDir dir;
  manual_seed(0);
  Scaled a;
  a.scale.fill_(-0.1f);
  save(a.state_dict(), dir / "scaled.safetensors");
  manual_seed(1);
  Scaled b;
  CHECK(snapshot(a) != snapshot(b));
  b.load_state_dict(load(dir / "scaled.safetensors"));
  CHECK(snapshot(a) == snapshot(b));  // exact equality of every float
  Tensor x = randn({4, 3});
  TG_CHECK_CLOSE(b(x), a(x), 0.0f, 0.0f);
  // The file is a standard safetensors file with PyTorch's names.
  Safetensors file = load_safetensors(dir / "scaled.safetensors");
  CHECK(file.metadata == std::map<std::string, std::string>{{"format", "pt"}});
  REQUIRE(file.tensors.size() == 3);
  CHECK(file.tensors[0].first == "fc.bias");
  CHECK(file.tensors[1].first == "fc.weight");
  CHECK(file.tensors[1].second.shape() == Shape{2, 3});
  CHECK(file.tensors[2].first == "scale");
}

TEST_CASE("nn save/load: a state dict saved by PyTorch gives PyTorch's outputs") {
  test::Fixture f("serialize.json");
  nn::Sequential net = mlp();
  net.load_state_dict(load(test::nn_fixture_path("mlp.safetensors")));
  TG_CHECK_CLOSE(net(f["x"]), f["y"]);
}

TEST_CASE("nn save/load: a file that does not fit leaves the module unchanged") {
  test::TempDir dir;
  manual_seed(2);
  nn::Sequential net = mlp();
  auto before = snapshot(net);
  std::string path = dir / "other.safetensors";
  save({{"0.weight", ones({4, 8})}, {"0.bias", ones({8})}, {"2.weight", ones({3, 8})},
        {"3.weight", ones({1})}},
       path);
  CHECK(error_of([&] { net.load_state_dict(load(path)); }) ==
        "load_state_dict: the state dict does not fit Sequential; nothing was loaded:\n"
        "  missing keys: 2.bias\n"
        "  unexpected keys: 3.weight\n"
        "  shape mismatch: 0.weight expected [8, 4], got [4, 8]");
  CHECK(snapshot(net) == before);

  // A different architecture entirely: the PyTorch MLP into a wider model.
  nn::Sequential wide(nn::Linear(4, 16), nn::ReLU(), nn::Linear(16, 3));
  auto wide_before = snapshot(wide);
  CHECK(error_of([&] { wide.load_state_dict(load(test::nn_fixture_path("mlp.safetensors"))); })
            .find("shape mismatch: 0.weight expected [16, 4], got [8, 4]") != std::string::npos);
  CHECK(snapshot(wide) == wide_before);

  // strict = false loads the part that fits and skips the rest.
  nn::Sequential partial(nn::Linear(4, 8));
  save({{"0.bias", full({8}, 2.0f)}, {"extra", zeros({1})}}, path);
  partial.load_state_dict(load(path), false);
  TG_CHECK_CLOSE(partial.at<nn::Linear>(0)->bias, full({8}, 2.0f), 0.0f, 0.0f);
}

TEST_CASE("nn save/load: corrupt or missing files leave the module unchanged") {
  test::TempDir dir;
  manual_seed(3);
  nn::Sequential net = mlp();
  auto before = snapshot(net);
  std::string good = dir / "good.safetensors";
  save(net.state_dict(), good);
  std::string bytes = read_file(good);
  std::string truncated = dir.write("truncated.safetensors", bytes.substr(0, bytes.size() - 5));
  std::string message = error_of([&] { net.load_state_dict(load(truncated)); });
  CHECK(message.starts_with("safetensors: " + truncated + ": "));
  CHECK(snapshot(net) == before);
  std::string garbage = dir.write("garbage.safetensors", "not a safetensors file at all");
  CHECK(error_of([&] { net.load_state_dict(load(garbage)); })
            .starts_with("safetensors: " + garbage));
  CHECK(error_of([&] { net.load_state_dict(load(dir / "absent.safetensors")); }) ==
        "read_file: cannot open '" + (dir / "absent.safetensors") + "': No such file or directory");
  CHECK(snapshot(net) == before);
}

TEST_CASE("nn save/load: saving into a missing folder fails and writes nothing") {
  test::TempDir dir;
  nn::Sequential net = mlp();
  std::string path = dir / "no/such/folder/net.safetensors";
  CHECK(error_of([&] { save(net.state_dict(), path); }).find(path) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(path));
  // Saving over an existing file replaces it whole.
  std::string target = dir.write("net.safetensors", "old");
  save(net.state_dict(), target);
  nn::Sequential other = mlp();
  other.load_state_dict(load(target));
  CHECK(snapshot(other) == snapshot(net));
}
