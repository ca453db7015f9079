// A program outside the tree, built against an installed tapegrad through
// pkg-config: proves the installed headers and library are complete.
#include <tapegrad/tapegrad.h>

int main() {
  tg::Tensor w = tg::tensor({1, 2, 3}, {3}, {.requires_grad = true});
  tg::Tensor loss = (w * w).sum();
  loss.backward();
  fmt::print("{}\n", w.grad());
  return w.grad().at({2}) == 6 ? 0 : 1;
}
