// Airfoil benchmark (issue 7), the tapegrad side of torch_bench.py's airfoil workload: the
// course's chapter 11 study (d2l train_concise_ch11). The first 1500 rows of the airfoil
// table, every column standardised; model Linear(5, 1); loss (y_hat - y)^2 / 2 averaged over
// the minibatch; a DataLoader that shuffles every epoch. Figure: seconds per epoch (median
// over repeats of a repeat's time / its epochs).
//   airfoil_bench [--data FILE]    (default: datasets/airfoil_self_noise.dat)
// Common options: --threads N, --repeats N, --json (see bench/report.h).
#include <fmt/format.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/report.h"
#include "bench/timing.h"
#include <tapegrad/data/airfoil.h>
#include <tapegrad/data/dataloader.h>
#include <tapegrad/data/dataset.h>
#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/linear.h>
#include <tapegrad/optim/adadelta.h>
#include <tapegrad/optim/adagrad.h>
#include <tapegrad/optim/adam.h>
#include <tapegrad/optim/rmsprop.h>
#include <tapegrad/optim/sgd.h>
#include <tapegrad/tapegrad.h>

using namespace tg;
using namespace tg::bench;
namespace F = tg::nn::functional;

namespace {

constexpr int64_t kStepsPerRepeat = 300;  // as AIRFOIL_STEPS_PER_REPEAT in torch_bench.py

using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;

// One row of the study: the optimizer with the course's hyperparameters, and the batch size.
struct Case {
  std::string name;
  int64_t batch;
  MakeOptimizer make;
};

template <typename Opt, typename Options>
MakeOptimizer make(Options options) {
  return [options](std::vector<Tensor> params) {
    return std::make_unique<Opt>(std::move(params), options);
  };
}

std::vector<Case> cases() {
  using namespace optim;
  return {
      {"SGD", 1, make<SGD>(SGDOptions{.lr = 0.005})},  // d2l 11.4-11.5
      {"SGD", 10, make<SGD>(SGDOptions{.lr = 0.05})},
      {"SGD", 100, make<SGD>(SGDOptions{.lr = 0.4})},
      // The course's full-batch lr is 1, but the largest Hessian eigenvalue is 2.1 > 2 / lr:
      // it diverges (to NaN) over the 300 epochs of a repeat. 0.5 converges.
      {"SGD", 1500, make<SGD>(SGDOptions{.lr = 0.5})},
      {"momentum 0.9", 10, make<SGD>(SGDOptions{.lr = 0.005, .momentum = 0.9})},  // 11.6
      {"AdaGrad", 10, make<Adagrad>(AdagradOptions{.lr = 0.1})},                   // 11.7
      {"RMSProp", 10, make<RMSprop>(RMSpropOptions{.lr = 0.01, .alpha = 0.9})},     // 11.8
      {"Adadelta", 10, make<Adadelta>(AdadeltaOptions{.rho = 0.9})},                // 11.9
      {"Adam", 10, make<Adam>(AdamOptions{.lr = 0.01})},                            // 11.10
  };
}

// The course's get_data_ch11: standardise all rows, keep the first 1500.
std::shared_ptr<data::TensorDataset> load_airfoil(const std::string& path) {
  data::Table t = data::read_airfoil(path);
  data::standardize_columns(t);
  const int64_t n = std::min<int64_t>(1500, t.rows);
  std::vector<float> x, y;
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t c = 0; c < 5; ++c) x.push_back(t.values[size_t(r * t.cols + c)]);
    y.push_back(t.values[size_t(r * t.cols + 5)]);
  }
  return std::make_shared<data::TensorDataset>(tensor(x, {n, 5}), tensor(y));
}

void bench_case(Reporter& out, const Cli& cli, const Case& c,
                const std::shared_ptr<data::TensorDataset>& dataset) {
  manual_seed(0);
  nn::Linear net(5, 1);
  std::unique_ptr<optim::Optimizer> opt = c.make(net.parameters());
  data::DataLoaderOptions shuffled;  // d2l's load_array(..., is_train=True)
  shuffled.batch_size = c.batch;
  shuffled.shuffle = true;
  data::DataLoader loader(dataset, shuffled);
  // One repeat is whole epochs adding up to at least kStepsPerRepeat steps (a single epoch
  // of 1500 examples at batch 1500 is too short to time); the model keeps training.
  const int64_t epochs = (kStepsPerRepeat + loader.size() - 1) / loader.size();
  std::vector<double> t = sample_seconds([&] {
    for (int64_t e = 0; e < epochs; ++e)
      for (auto [x, y] : loader) {
        opt->zero_grad();
        Tensor loss = F::squared_loss(net(x), y);
        loss.backward();
        opt->step();
      }
  }, cli.repeats);
  for (double& s : t) s /= double(epochs);
  double final_loss;
  {
    NoGradGuard no_grad;
    final_loss = F::squared_loss(net(dataset->inputs()), dataset->targets()).item();
  }
  out.add({.workload = fmt::format("airfoil Linear(5, 1), {}", c.name),
           .setting = fmt::format("batch {}", c.batch),
           .value = median(t),
           .unit = "s/epoch",
           .higher_is_better = false,
           .samples = t,
           .note = fmt::format("{} steps per epoch, {} epochs per repeat; final loss {:.4f}",
                               loader.size(), epochs, final_loss)});
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli("airfoil_bench", "[--data FILE]");
  std::string path = "datasets/airfoil_self_noise.dat";
  cli.text("--data", &path);
  cli.parse(argc, argv);
  try {
    auto dataset = load_airfoil(path);
    Reporter out(cli);
    for (const Case& c : cases()) bench_case(out, cli, c, dataset);
  } catch (const std::exception& e) {
    fmt::print(stderr, "airfoil_bench: {}\n", e.what());
    return 1;
  }
}
