// Forward-mode AD by hand, step by step: the primal and tangent trace of
// y = ln(x1) + x1 * x2 - sin(x2) at (x1, x2) = (2, 5) with dx1 = 1, dx2 = 0,
// as tabulated in the AD survey (Baydin et al. 2018, table 2). Each tangent
// value comes from Dual<double>; the tangent column only shows the rule used.
//   build/examples/forward_trace    (no options but --help)
#include <fmt/format.h>

#include <tapegrad/autograd/dual.h>
#include <tapegrad/autograd/forward_trace.h>
#include <tapegrad/train/cli.h>

namespace {

int run(int argc, char** argv) {
  tg::train::ArgParser("forward_trace", "The AD survey's forward-mode trace table.")
      .parse(argc, argv);
  tg::ForwardTrace trace;
  // Seeding dx1 = 1, dx2 = 0 makes every tangent a derivative with respect to x1.
  tg::Dual<double> vm1 = trace.input("v-1", "x1", 2.0, 1.0);
  tg::Dual<double> v0 = trace.input("v0", "x2", 5.0, 0.0);
  tg::Dual<double> v1 = trace.record("v1", "ln v-1", "dv-1 / v-1", log(vm1));
  tg::Dual<double> v2 = trace.record("v2", "v-1 * v0", "dv-1 * v0 + v-1 * dv0", vm1 * v0);
  tg::Dual<double> v3 = trace.record("v3", "sin v0", "dv0 * cos v0", sin(v0));
  tg::Dual<double> v4 = trace.record("v4", "v1 + v2", "dv1 + dv2", v1 + v2);
  tg::Dual<double> v5 = trace.record("v5", "v4 - v3", "dv4 - dv3", v4 - v3);
  tg::Dual<double> y = trace.record("y", "v5", "dv5", v5);

  fmt::print("y = ln(x1) + x1 * x2 - sin(x2) at (x1, x2) = (2, 5), seed (dx1, dx2) = (1, 0)\n\n");
  fmt::print("{}\n", trace.table());
  fmt::print("y = {:.3f}, dy/dx1 = {:.3f}\n", y.value(), y.deriv());

  // One forward pass gives one directional derivative; dy/dx2 needs a second
  // pass seeded with (0, 1). Reverse mode gets both from one backward pass.
  tg::Dual<double> x1{2.0, 0.0}, x2{5.0, 1.0};
  tg::Dual<double> y2 = log(x1) + x1 * x2 - sin(x2);
  fmt::print("second pass, seed (0, 1): dy/dx2 = {:.3f}  (= x1 - cos x2)\n", y2.deriv());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return tg::train::guarded_main("forward_trace", run, argc, argv);
}
