// The course's 2-D optimizer experiments (d2l.ai 11.3, 11.4, 11.6-11.10), run
// through the tape and the optim module, with no hand-written gradients:
// gradient descent on f = x1^2 + 2 x2^2, then on the ill-conditioned
// f = 0.1 x1^2 + 2 x2^2 with gradient descent, momentum, AdaGrad, RMSProp,
// Adadelta and Adam, and SGD with Gaussian gradient noise under constant,
// exponential and polynomial learning-rate decay. Prints each final iterate as
// the course does and writes one SVG contour plot per experiment.
//
//   build/examples/optimizers_2d [--out DIR] [--seed N]
#include <cmath>
#include <filesystem>
#include <functional>

#include <tapegrad/tapegrad.h>

using namespace tg;
namespace fs = std::filesystem;

namespace {

using Objective = std::function<Tensor(const Tensor&)>;  // x = (x1, x2) -> f(x)
using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(Tensor)>;

struct Experiment {
  std::string name, title;
  Objective f;
  MakeOptimizer make;
  int steps = 20;
  float noise = 0;         // std of the Gaussian noise added to each gradient
  std::string schedule{};  // "", "exponential" or "polynomial"
};

Tensor x1(const Tensor& x) { return x.select(0, 0); }
Tensor x2(const Tensor& x) { return x.select(0, 1); }

// f = x1^2 + 2 x2^2 and the ill-conditioned f = 0.1 x1^2 + 2 x2^2.
Tensor round_bowl(const Tensor& x) { return x1(x).pow(2) + 2 * x2(x).pow(2); }
Tensor narrow_bowl(const Tensor& x) { return 0.1f * x1(x).pow(2) + 2 * x2(x).pow(2); }

template <typename Opt, typename Options>
MakeOptimizer with(Options options) {
  return [options](Tensor x) { return std::make_unique<Opt>(std::vector<Tensor>{x}, options); };
}

std::vector<Experiment> experiments() {
  using optim::SGD, optim::SGDOptions, optim::Adagrad, optim::AdagradOptions, optim::RMSprop,
      optim::RMSpropOptions, optim::Adadelta, optim::AdadeltaOptions, optim::Adam,
      optim::AdamOptions;
  return {
      {"gd", "gradient descent, eta 0.1", round_bowl, with<SGD>(SGDOptions{.lr = 0.1})},
      {"gd_narrow", "gradient descent, eta 0.4", narrow_bowl, with<SGD>(SGDOptions{.lr = 0.4})},
      {"gd_narrow_diverges", "gradient descent, eta 0.6", narrow_bowl,
       with<SGD>(SGDOptions{.lr = 0.6})},
      {"momentum_0.5", "momentum, eta 0.6, beta 0.5", narrow_bowl,
       with<SGD>(SGDOptions{.lr = 0.6, .momentum = 0.5})},
      {"momentum_0.25", "momentum, eta 0.6, beta 0.25", narrow_bowl,
       with<SGD>(SGDOptions{.lr = 0.6, .momentum = 0.25})},
      {"sgd_constant", "SGD with gradient noise, constant eta 0.1", round_bowl,
       with<SGD>(SGDOptions{.lr = 0.1}), 50, 1.0f},
      {"sgd_exponential", "SGD with gradient noise, eta 0.1 e^(-0.1 t)", round_bowl,
       with<SGD>(SGDOptions{.lr = 0.1}), 1000, 1.0f, "exponential"},
      {"sgd_polynomial", "SGD with gradient noise, eta 0.1 (0.1 t + 1)^(-1/2)", round_bowl,
       with<SGD>(SGDOptions{.lr = 0.1}), 50, 1.0f, "polynomial"},
      {"adagrad", "AdaGrad, eta 0.4", narrow_bowl,
       with<Adagrad>(AdagradOptions{.lr = 0.4, .eps = 1e-6, .eps_inside_sqrt = true})},
      {"adagrad_2", "AdaGrad, eta 2", narrow_bowl,
       with<Adagrad>(AdagradOptions{.lr = 2, .eps = 1e-6, .eps_inside_sqrt = true})},
      {"rmsprop", "RMSProp, eta 0.4, gamma 0.9", narrow_bowl,
       with<RMSprop>(
           RMSpropOptions{.lr = 0.4, .alpha = 0.9, .eps = 1e-6, .eps_inside_sqrt = true})},
      {"adadelta", "Adadelta, rho 0.9", narrow_bowl,
       with<Adadelta>(AdadeltaOptions{.lr = 1.0, .rho = 0.9, .eps = 1e-5})},
      {"adam", "Adam, eta 0.5", narrow_bowl, with<Adam>(AdamOptions{.lr = 0.5, .eps = 1e-6})},
  };
}

// Runs one experiment from (-5, -2); returns the iterates.
std::vector<std::array<double, 2>> optimize(const Experiment& e) {
  Tensor x = tensor({-5, -2}, {2}, {.requires_grad = true});
  auto opt = e.make(x);
  std::unique_ptr<optim::LRScheduler> schedule;
  if (e.schedule == "exponential")
    schedule = std::make_unique<optim::ExponentialLR>(
        *opt, optim::ExponentialLROptions{.gamma = std::exp(-0.1)});
  else if (e.schedule == "polynomial")
    schedule = std::make_unique<optim::PolynomialDecayLR>(
        *opt, optim::PolynomialDecayLROptions{.alpha = 0.5, .beta = 0.1});
  std::vector<std::array<double, 2>> path{{-5, -2}};
  for (int step = 0; step < e.steps; ++step) {
    if (schedule) schedule->step();  // the course advances t before each update
    opt->zero_grad();
    e.f(x).backward();
    if (e.noise > 0) {
      NoGradGuard no_grad;
      x.grad().add_(randn({2}) * e.noise);
    }
    opt->step();
    path.push_back({x.at({0}), x.at({1})});
  }
  return path;
}

void plot(const Experiment& e, const std::vector<std::array<double, 2>>& path,
          const fs::path& out) {
  plot::Series trajectory{.label = e.name, .markers = true};
  for (auto [a, b] : path) {
    trajectory.x.push_back(a);
    trajectory.y.push_back(b);
  }
  plot::ContourPlot chart{
      .title = e.title,
      .x = {.label = "x1"},
      .y = {.label = "x2"},
      .grid = plot::sample(
          [&](double a, double b) {
            return e.f(tensor({float(a), float(b)})).item();
          },
          {.x_min = -5.5, .x_max = 1, .y_min = -3, .y_max = 1}, 81, 61),
      .levels = {0.25, 0.5, 1, 2, 4, 8, 16, 32},  // geometric: rings near the minimum too
      .paths = {trajectory}};
  plot::write_svg(chart, out / (e.name + ".svg"));
}

int run(int argc, char** argv) {
  std::string out = "results/optimizers_2d";
  int64_t seed = 0;
  train::ArgParser cli("optimizers_2d",
                       "The course's 2-D optimizer experiments, as contour plots.");
  cli.add("out", out, "folder for the SVG plots").metavar("DIR");
  cli.add("seed", seed, "random seed (the gradient noise)").min(0);
  cli.parse(argc, argv);
  manual_seed(uint64_t(seed));
  fs::create_directories(out);
  for (const Experiment& e : experiments()) {
    auto path = optimize(e);
    auto [a, b] = path.back();
    fmt::print("{:<20} epoch {}, x1: {:.6f}, x2: {:.6f}\n", e.name, e.steps, a, b);
    plot(e, path, out);
  }
  fmt::print("wrote {} contour plots to {}\n", experiments().size(), out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return train::guarded_main("optimizers_2d", run, argc, argv); }
