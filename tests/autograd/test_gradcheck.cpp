// Every core op's tape gradient against central finite differences (the
// table in op_table.h), plus gradcheck's own ability to catch a wrong rule.
#include <tapegrad/autograd/gradcheck.h>
#include <tapegrad/autograd/node.h>
#include <tapegrad/core/random.h>
#include "tests/autograd/op_table.h"

using namespace tg;

TEST_CASE("gradcheck: every core op") {
  manual_seed(7);
  for (const test::OpCase& c : test::core_op_table()) {
    SUBCASE(c.name.c_str()) {
      GradcheckResult r = gradcheck(c.f, test::make_inputs(c));
      INFO(c.name, ": ", r.message);
      CHECK(r.ok);
    }
  }
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
}
