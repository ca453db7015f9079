// Every op's tape gradient against central finite differences (the table in
// tests/op_table.h, core and nn rows), a check that no recorded op is missing from
// the table, and gradcheck's own behaviour: both forms, catching a wrong rule,
// leaving the caller's tensors and gradients as they were, and its errors.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <tapegrad/autograd/gradcheck.h>
#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tape.h>
#include <tapegrad/core/random.h>
#include "tests/op_table.h"

using namespace tg;

TEST_CASE("gradcheck: every op in the table") {
  manual_seed(7);
  for (const test::OpCase& c : test::op_table()) {
    SUBCASE(c.name.c_str()) {
      GradcheckResult r = gradcheck(c.f, test::make_inputs(c), c.tolerance);
      INFO(c.name, ": ", r.message);
      CHECK(r.ok);
    }
  }
}

namespace {

// The op names that autograd/ and nn/ record with a literal name: record("name", ...).
std::set<std::string> recorded_in_sources() {
  namespace fs = std::filesystem;
  static const std::regex site(R"re(record\(\s*"([A-Za-z0-9_]+)")re");
  std::set<std::string> names;
  for (const char* folder : {"autograd", "nn"}) {
    for (const auto& entry : fs::directory_iterator(fs::path(TG_TEST_DIR).parent_path() / folder)) {
      if (entry.path().extension() != ".cpp") continue;
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      std::string s = text.str();
      for (std::sregex_iterator it(s.begin(), s.end(), site), end; it != end; ++it)
        names.insert((*it)[1]);
    }
  }
  return names;
}

// The op names on a tensor's tape: tape_string prints "#3 mul [4, 1] <- ..." per node.
void add_tape_names(const Tensor& y, std::set<std::string>& names) {
  std::istringstream lines(tape_string(y));
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string number, name;
    if (words >> number >> name && number.starts_with("#")) names.insert(name);
  }
}

}  // namespace

TEST_CASE("op table: every op recorded in autograd/ and nn/ is on some row's tape") {
  std::set<std::string> in_sources = recorded_in_sources();
  REQUIRE(in_sources.size() > 20);  // the scan found the sources
  REQUIRE(in_sources.count("conv2d") == 1);
  manual_seed(1);
  std::set<std::string> on_tapes;
  for (const test::OpCase& c : test::op_table()) {
    std::vector<Tensor> leaves;
    // in float32: some rows convert to float64 and back, which is recorded only from float32
    for (Tensor x : test::make_inputs(c, kFloat32)) leaves.push_back(x.requires_grad_());
    add_tape_names(c.f(leaves), on_tapes);
  }
  std::string missing;
  for (const std::string& name : in_sources)
    if (!on_tapes.count(name)) missing += " " + name;
  INFO("recorded in the sources but on no row's tape:", missing);
  CHECK(missing.empty());
}

TEST_CASE("gradcheck catches a wrong backward rule") {
  // y = x^2 with a deliberately wrong derivative (x instead of 2x).
  auto wrong_square = [](const std::vector<Tensor>& x) {
    Tensor y = x[0].detach() * x[0].detach();
    record("wrong_square", y, {x[0]}, [a = x[0]](const Tensor& gy) { return grads(gy * a); });
    return y;
  };
  GradcheckResult r = gradcheck(wrong_square, {tensor({1, 2, 3})});
  CHECK_FALSE(r.ok);
  CHECK(r.message.find("FAILED") != std::string::npos);
  CHECK(r.input == 0);
  CHECK(r.index == 2);  // the largest error, 3 against 6
  CHECK(r.analytic != doctest::Approx(r.numeric));
}

TEST_CASE("gradcheck of tensors read in place: finds the wrong one, leaves them as they were") {
  // f = w * x + b * sin(b); the rule for b is wrong (cos(b) instead of sin(b) + b cos(b)).
  Tensor x = tensor({0.5f, -1, 2}), w = tensor({1, 2, 3}), b = tensor({0.3f});
  auto half_wrong = [&] {
    Tensor z = (b * b.sin()).detach();
    record("half_wrong", z, {b}, [b = b](const Tensor& gy) { return grads(gy * b.cos()); });
    return z + w * x;
  };
  Tensor w_grad = tensor({7, 7, 7});
  w.set_grad(w_grad);
  GradcheckResult r = gradcheck(half_wrong, {x, w, b});
  CHECK_FALSE(r.ok);
  CHECK(r.input == 2);
  CHECK(x.to_vector() == std::vector<float>{0.5f, -1, 2});  // perturbations undone
  CHECK(b.item() == 0.3f);
  CHECK(w.grad().to_vector() == std::vector<float>{7, 7, 7});  // the caller's gradient kept
  CHECK_FALSE(x.grad().defined());
  CHECK_FALSE(x.requires_grad());  // the flag set for the check is taken back
  // Without the wrong op, the same function passes for all three.
  GradcheckResult right = gradcheck([&] { return b * b.sin() + w * x; }, {x, w, b});
  CHECK_MESSAGE(right.ok, right.message);
}

TEST_CASE("gradcheck restores the tensor it perturbed when f throws") {
  Tensor x = tensor({1, 2});
  int calls = 0;
  auto fragile = [&] {
    check(++calls < 3, "fragile: failed on call {}", calls);
    return x * x;
  };
  CHECK_THROWS_CONTAINING(gradcheck(fragile, {x}), "fragile: failed on call 3");
  CHECK(x.to_vector() == std::vector<float>{1, 2});
}

TEST_CASE("gradcheck errors") {
  Tensor x = tensor({1, 2, 3, 4}, {2, 2});
  Tensor xt = x.t();
  CHECK_THROWS_CONTAINING(gradcheck([&] { return xt * 2; }, {xt}),
                          "gradcheck: tensor 0 of shape [2, 2] is not contiguous; hint: pass "
                          "x.contiguous().clone()");
  Tensor computed = x.requires_grad_() * 2;
  CHECK_THROWS_CONTAINING(gradcheck([&] { return computed * 2; }, {computed}),
                          "gradcheck: tensor 0 of shape [2, 2] is not a leaf (it was computed by "
                          "'mul'); hint: pass the tensors f reads");
  CHECK_THROWS_CONTAINING(gradcheck([&] { return Tensor(); }, {x}),
                          "gradcheck: the function returned an undefined tensor");
}
