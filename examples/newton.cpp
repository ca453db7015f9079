// The course's one-dimensional experiments on gradient descent and Newton's
// method, with every derivative from dual numbers (no hand-written f' or f''):
// f' from Dual<double>, f'' from nested Dual<Dual<double>>. Each run prints its
// final x the course's way ("epoch 10, x: ...") and writes an SVG plot of f
// with the iterates. Also shows a vanishing gradient: tanh'(4) ~ 0.0013 by
// forward mode, reverse mode and the closed form.
//   build/examples/newton [--out DIR]    (the plots go to DIR, default results/)
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <string>
#include <vector>

#include <tapegrad/autograd/dual.h>
#include <tapegrad/autograd/tensor.h>
#include <tapegrad/plot/svg.h>
#include <tapegrad/train/cli.h>

namespace {

namespace fs = std::filesystem;
// Called on plain doubles these are std::cos ...; on duals, tg::cos ... (found by ADL).
using std::cos, std::cosh, std::tanh;

constexpr int kSteps = 10;

// Newton's method: x <- x - eta f'(x) / f''(x). Returns x_0 .. x_steps.
template <typename F>
std::vector<double> newton(F f, double x, double eta) {
  std::vector<double> xs{x};
  for (int i = 0; i < kSteps; ++i) {
    x -= eta * tg::derivative(f, x) / tg::second_derivative(f, x);
    xs.push_back(x);
  }
  fmt::print("epoch {}, x: {:f}\n", kSteps, x);
  return xs;
}

// Gradient descent: x <- x - eta f'(x). Returns x_0 .. x_steps.
template <typename F>
std::vector<double> gradient_descent(F f, double x, double eta) {
  std::vector<double> xs{x};
  for (int i = 0; i < kSteps; ++i) {
    x -= eta * tg::derivative(f, x);
    xs.push_back(x);
  }
  fmt::print("epoch {}, x: {:f}\n", kSteps, x);
  return xs;
}

// f on [-n, n], n the largest |iterate| (as the course's show_trace), with the iterates.
template <typename F>
void plot_trace(F f, const std::vector<double>& xs, const std::string& title,
                const fs::path& file) {
  double n = 0;
  for (double x : xs) n = std::max(n, std::abs(x));
  tg::plot::Series curve{.label = "f(x)"};
  for (int i = 0; i <= 400; ++i) {
    double x = -n + 2 * n * i / 400;
    curve.x.push_back(x);
    curve.y.push_back(f(x));
  }
  tg::plot::Series iterates{.label = "iterates", .x = xs, .markers = true};
  for (double x : xs) iterates.y.push_back(f(x));
  tg::plot::write_svg(
      {.title = title, .x = {.label = "x"}, .y = {.label = "f(x)"}, .series = {curve, iterates}},
      file);
  fmt::print("  plot: {}\n", file.string());
}

int run(int argc, char** argv) {
  std::string out = "results";
  tg::train::ArgParser cli("newton", "Newton's method and gradient descent in one dimension.");
  cli.add("out", out, "folder for the SVG plots").metavar("DIR");
  cli.parse(argc, argv);
  fs::create_directories(out);

  // The functions are generic lambdas: called with double to plot, with
  // Dual<double> for f' and with Dual<Dual<double>> for f''.
  fmt::print("Newton's method on the convex f(x) = cosh(c x), c = 0.5, eta = 1, from x = 10\n");
  auto f_cosh = [](auto x) { return cosh(0.5 * x); };
  plot_trace(f_cosh, newton(f_cosh, 10.0, 1.0), "Newton, f(x) = cosh(0.5 x), eta = 1",
             fs::path(out) / "newton_cosh.svg");

  const double c = 0.15 * std::numbers::pi;
  auto f_xcos = [c](auto x) { return x * cos(c * x); };
  // With eta = 1 the negative curvature at x = 10 sends Newton uphill; halving the step
  // lands in the nearby local minimum.
  fmt::print("\nNewton's method on the nonconvex f(x) = x cos(c x), c = 0.15 pi, eta = 1\n");
  plot_trace(f_xcos, newton(f_xcos, 10.0, 1.0), "Newton, f(x) = x cos(0.15 pi x), eta = 1",
             fs::path(out) / "newton_xcos_eta1.svg");
  fmt::print("\nNewton's method on the nonconvex f(x) = x cos(c x), c = 0.15 pi, eta = 0.5\n");
  plot_trace(f_xcos, newton(f_xcos, 10.0, 0.5), "Newton, f(x) = x cos(0.15 pi x), eta = 0.5",
             fs::path(out) / "newton_xcos_eta0.5.svg");

  auto f_square = [](auto x) { return x * x; };
  const char* outcomes[] = {"converges", "crawls", "diverges"};
  const double etas[] = {0.2, 0.05, 1.1};
  for (int k = 0; k < 3; ++k) {
    fmt::print("\nGradient descent on f(x) = x^2, eta = {}, from x = 10 ({})\n", etas[k],
               outcomes[k]);
    plot_trace(f_square, gradient_descent(f_square, 10.0, etas[k]),
               fmt::format("Gradient descent, f(x) = x^2, eta = {}", etas[k]),
               fs::path(out) / fmt::format("gd_square_eta{}.svg", etas[k]));
  }

  // A vanishing gradient: tanh saturates, so its slope at 4 is already tiny.
  fmt::print("\nVanishing gradient: tanh'(4)\n");
  double forward = tg::derivative([](auto x) { return tanh(x); }, 4.0);
  fmt::print("  forward mode (Dual<double>): {:.6f}\n", forward);
  fmt::print("  closed form 1 - tanh(4)^2:   {:.6f}\n", 1 - std::tanh(4.0) * std::tanh(4.0));
  // Reverse mode: one backward pass through the tape (in float32).
  tg::Tensor x = tg::scalar_tensor(4.0f, {.requires_grad = true});
  x.tanh().backward();
  fmt::print("  reverse mode (the tape):     {:.6f}\n", x.grad().item());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return tg::train::guarded_main("newton", run, argc, argv); }
