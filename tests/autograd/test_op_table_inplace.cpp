// The version-counter sweep over the op table: for every op and every input,
// an in-place change between forward and backward must either be refused by
// backward() or leave the gradient exactly what it was (the op's backward did
// not read that input). A new op that forgets `.saves(...)` fails here.
#include <doctest/doctest.h>

#include <tapegrad/autograd/node.h>
#include <tapegrad/core/random.h>
#include "tests/op_table.h"

using namespace tg;

namespace {

// Gradients of <f(xs), projection> with respect to every input.
std::vector<std::vector<float>> gradients(const test::OpCase& c, const std::vector<Tensor>& xs,
                                          int modify) {
  std::vector<Tensor> leaves;
  for (const Tensor& x : xs) leaves.push_back(x.detach().clone().requires_grad_());
  Tensor y = c.f(leaves);
  Tensor projection = test::sample(y.shape(), 0.5f, 1.5f).to(y.dtype());
  Tensor loss = (y * projection).sum();
  if (modify >= 0) {
    NoGradGuard g;
    leaves[modify].add_(0.25f);
  }
  loss.backward();
  std::vector<std::vector<float>> out;
  for (const Tensor& l : leaves) out.push_back(l.grad().defined() ? l.grad().to_vector()
                                                                   : std::vector<float>{});
  return out;
}

}  // namespace

TEST_CASE("op table: an input changed in place before backward is refused or unread") {
  for (const test::OpCase& c : test::op_table()) {
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      SUBCASE((c.name + ", input " + std::to_string(i)).c_str()) {
        manual_seed(11);
        std::vector<Tensor> xs = test::make_inputs(c);
        manual_seed(12);
        auto clean = gradients(c, xs, -1);
        manual_seed(12);
        std::string error;
        std::vector<std::vector<float>> changed;
        try {
          changed = gradients(c, xs, int(i));
        } catch (const Error& e) {
          error = e.what();
        }
        INFO(c.name, ", input ", i, ": ", error);
        if (!error.empty()) CHECK(error.find("was modified in place") != std::string::npos);
        else CHECK(changed == clean);  // the backward did not read the changed values
      }
    }
  }
}
