// The undefined-tensor sweep over the op table: every op, given an undefined tensor in place
// of each of its inputs in turn, either refuses with a tg::Error that says so or (for an
// optional argument, such as batch_norm's affine weight) computes a result whose backward
// also runs. Never a crash: a new op that dereferences an undefined input fails here (and
// under ASan, scripts/sanitize.sh).
#include <doctest/doctest.h>

#include <tapegrad/core/random.h>
#include "tests/op_table.h"

using namespace tg;

namespace {

// The arguments PyTorch lets be absent: a layer's bias, a normalisation's affine weight and bias.
bool optional_argument(const std::string& op, size_t input) {
  auto is = [&](const char* prefix) { return op.starts_with(prefix); };
  if (is("linear") || is("conv2d")) return input == 2;
  if (is("conv1d") || is("conv_transpose2d")) return input == 2;
  if (is("batch_norm") || is("group_norm") || is("layer_norm")) return input == 1 || input == 2;
  return false;
}

}  // namespace

TEST_CASE("op table: an undefined input is a tg::Error naming it, never a crash") {
  int refused = 0, optional = 0;
  for (const test::OpCase& c : test::op_table()) {
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      manual_seed(5);
      std::vector<Tensor> xs = test::make_inputs(c);
      for (Tensor& x : xs) x.requires_grad_();
      xs[i] = Tensor();
      INFO(c.name, ", input ", i, " undefined");
      std::string error;
      try {
        Tensor y = c.f(xs);
        if (y.defined() && y.requires_grad()) y.sum().backward();
        ++optional;
        CHECK(optional_argument(c.name, i));
      } catch (const Error& e) {
        error = e.what();
        ++refused;
      }
      if (!error.empty()) CHECK_MESSAGE(error.find("undefined") != std::string::npos, error);
    }
  }
  MESSAGE(refused, " (op, input) pairs refused, ", optional, " accepted as optional");
  CHECK(refused > 100);  // the table has well over a hundred rows: most inputs are required
}
