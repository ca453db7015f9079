// A program outside the tree, built against an installed tapegrad through pkg-config and
// through CMake's find_package (tests/consumer/CMakeLists.txt): proves the installed headers
// and library are complete, and that a program's own headers named like tapegrad's
// (core/error.h here) neither shadow nor are shadowed by the library's.
#include <tapegrad/tapegrad.h>

#include <core/error.h>  // the program's own, from its include path

int main() {
  tg::Tensor w = tg::tensor({1, 2, 3}, {3}, {.requires_grad = true});
  tg::Tensor loss = (w * w).sum();
  loss.backward();
  fmt::print("{}\n", w.grad());
  if (w.grad().at({2}) != 6) return 1;

  app::Error error;  // a tapegrad error, reported through the program's own type
  try {
    tg::zeros({4, 3}).matmul(tg::zeros({4, 1}));
  } catch (const tg::Error& e) {
    error.what = e.what();
  }
  fmt::print("{}\n", error.what);
  return error.what.rfind("matmul: ", 0) == 0 ? 0 : 1;
}
