// Tests of StateDict itself and of tg::save / tg::load: numbers and strings survive a file
// exactly, prefixes nest and unnest dicts (what a checkpoint does), and every misuse is a
// tg::Error naming the key.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include <tapegrad/autograd/state_dict.h>
#include <tapegrad/core/safetensors.h>
#include "tests/data/temp_dir.h"
#include "tests/test_util.h"

using namespace tg;
using test::error_of;

TEST_CASE("state_dict: numbers and strings survive a file bit for bit") {
  test::TempDir dir;
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> numbers = {0.1, 1e-8, -0.0, 1.0 / 3, 5e-324, 1.7976931348623157e308,
                                       -inf, 9007199254740993.0, 123456789.0};
  StateDict dict;
  for (size_t i = 0; i < numbers.size(); ++i) dict.set(fmt::format("n{}", i), numbers[i]);
  dict.set("nan", std::numeric_limits<double>::quiet_NaN());
  dict.set("name", "héllo, wörld");
  dict.insert("w", tensor({1.5f, -2.0f, 0.1f}, {3}));
  dict.insert("a", tensor({7.0f}, {1}));
  CHECK(dict.size() == 2);
  CHECK(dict.begin()->first == "w");  // insertion order in memory

  save(dict, dir / "d.safetensors");
  StateDict back = load(dir / "d.safetensors");
  for (size_t i = 0; i < numbers.size(); ++i) {
    double v = back.number(fmt::format("n{}", i));
    CHECK(std::memcmp(&v, &numbers[i], sizeof v) == 0);  // the same bits, sign of zero too
  }
  CHECK(std::isnan(back.number("nan")));
  CHECK(back.text("name") == "héllo, wörld");
  CHECK(back.text("n0") == "0.1");  // the shortest text, as PyTorch users would write it
  CHECK(back.metadata() == dict.metadata());
  CHECK(back.begin()->first == "a");  // a file keeps tensors sorted by name
  CHECK(back.at("w").to_vector() == std::vector<float>{1.5f, -2.0f, 0.1f});
  CHECK(back.at("a").shape() == Shape{1});
}

TEST_CASE("state_dict: update adds a prefix, sub takes it away") {
  StateDict model = {{"weight", ones({2})}};
  model.set("format", "pt");
  StateDict optimizer;
  optimizer.set("kind", "SGD");
  optimizer.insert("state.0.momentum_buffer", zeros({2}));

  StateDict file;
  file.update(model, "model.");
  file.update(optimizer, "optimizer.");
  file.set("epoch", 3);
  CHECK(file.size() == 2);
  CHECK(file.contains("model.weight"));
  CHECK(file.text("optimizer.kind") == "SGD");

  StateDict m = file.sub("model.");
  CHECK(m.size() == 1);
  CHECK(m.at("weight").same(model.at("weight")));  // the same tensor, not a copy
  CHECK(m.metadata() == std::map<std::string, std::string>{{"format", "pt"}});
  StateDict o = file.sub("optimizer.");
  CHECK(o.contains("state.0.momentum_buffer"));
  CHECK(o.metadata() == optimizer.metadata());
  CHECK(file.sub("scheduler.").empty());
}

TEST_CASE("state_dict: misuse names the key") {
  StateDict dict;
  dict.set("step", "three");
  CHECK(error_of([&] { dict.number("step"); }) ==
        "state_dict: entry 'step' is 'three', not a number");
  CHECK(error_of([&] { dict.number("lr"); }) == "state_dict: no entry 'lr'");
  CHECK(error_of([&] { dict.text("lr"); }) == "state_dict: no entry 'lr'");
  dict.set("half", "0.5x");
  CHECK(error_of([&] { dict.number("half"); }) ==
        "state_dict: entry 'half' is '0.5x', not a number");
  dict.set("empty", "");
  CHECK(error_of([&] { dict.number("empty"); }) == "state_dict: entry 'empty' is '', not a number");
  CHECK(error_of([&] { dict.insert("w", Tensor()); }) ==
        "state_dict: key 'w' holds an undefined tensor");
  dict.insert("w", ones({1}));
  CHECK(error_of([&] { dict.insert("w", ones({1})); }) == "state_dict: key 'w' inserted twice");
  CHECK(error_of([&] { dict.at("v"); }) == "state_dict: no key 'v'; keys are: w");
  StateDict clash = {{"w", ones({1})}};
  CHECK(error_of([&] { clash.update(dict); }) == "state_dict: key 'w' inserted twice");
}
