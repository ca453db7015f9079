// A program of a Meson project that builds tapegrad as its subproject (meson.build beside it).
#include <tapegrad/tapegrad.h>

int main() {
  tg::Tensor x = tg::tensor({3}, {1}, {.requires_grad = true});
  tg::Tensor y = x.pow(2) * 2;  // dy/dx = 4x = 12
  y.sum().backward();
  fmt::print("dy/dx = {}\n", x.grad().item());
  return x.grad().item() == 12 ? 0 : 1;
}
