// LeNet benchmarks (issue 7), the tapegrad side of bench/torch_bench.py's lenet, memory and
// cifar workloads: the course's LeNet (d2l / the PyTorch CIFAR-10 tutorial) trained with
// cross-entropy and SGD (lr 0.001, momentum 0.9) on 3x32x32 inputs.
//   lenet_bench [--batches 4,32,64,256] [--images N]   training images/s, inference images/s
//   lenet_bench --memory                               peak RSS of training at batch 64
//   lenet_bench --cifar DIR [--epochs 2]               the course recipe: s/epoch, test accuracy
// Common options: --threads N, --repeats N, --json (see bench/report.h).
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/report.h"
#include "bench/timing.h"
#include <tapegrad/data/dataloader.h>
#include <tapegrad/data/dataset.h>
#include <tapegrad/data/image_folder.h>
#include <tapegrad/nn/activation.h>
#include <tapegrad/nn/conv.h>
#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/linear.h>
#include <tapegrad/nn/pool.h>
#include <tapegrad/nn/sequential.h>
#include <tapegrad/optim/sgd.h>
#include <tapegrad/tapegrad.h>

using namespace tg;
using namespace tg::bench;
namespace F = tg::nn::functional;

namespace {

// The PyTorch tutorial's Net: conv 3->6 k5, pool, conv 6->16 k5, pool, 400-120-84-10.
nn::Sequential lenet() {
  return nn::Sequential(nn::Conv2d(3, 6, 5), nn::ReLU(), nn::MaxPool2d(2), nn::Conv2d(6, 16, 5),
                        nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(), nn::Linear(400, 120),
                        nn::ReLU(), nn::Linear(120, 84), nn::ReLU(), nn::Linear(84, 10));
}

optim::SGDOptions course_sgd() { return {.lr = 0.001, .momentum = 0.9}; }

// A pool of random images that batches are sliced from (views, no copies), with labels
// i % 10; the same recipe as torch_bench.py. Its size is a multiple of `batch`.
struct Pool {
  Tensor images, labels;
  int64_t size;
  explicit Pool(int64_t batch) {
    size = ((std::max<int64_t>(1024, batch) + batch - 1) / batch) * batch;
    images = randn({size, 3, 32, 32});
    std::vector<int64_t> classes(static_cast<size_t>(size));
    for (int64_t i = 0; i < size; ++i) classes[size_t(i)] = i % 10;
    labels = tensor(classes);  // int64, as torch_bench.py's
  }
  Tensor x(int64_t step, int64_t batch) const {
    return images.narrow(0, step * batch % size, batch);
  }
  Tensor y(int64_t step, int64_t batch) const {
    return labels.narrow(0, step * batch % size, batch);
  }
};

// One training step as in the tutorial: zero_grad, forward, cross-entropy, backward, step.
float train_step(nn::Sequential& net, optim::SGD& opt, const Tensor& x, const Tensor& y) {
  opt.zero_grad();
  Tensor loss = F::cross_entropy(net(x), y);
  loss.backward();
  opt.step();
  return loss.item();
}

// Workload 1: training images/s at each batch size; each repeat trains on `images` images.
void bench_training(Reporter& out, const Cli& cli, const std::vector<int>& batches, int images) {
  for (int batch : batches) {
    manual_seed(0);
    nn::Sequential net = lenet();
    optim::SGD opt(net.parameters(), course_sgd());
    Pool pool(batch);
    const int64_t steps = std::max<int64_t>(1, images / batch);
    int64_t step = 0;
    std::vector<double> t = sample_seconds([&] {
      for (int64_t s = 0; s < steps; ++s, ++step)
        train_step(net, opt, pool.x(step, batch), pool.y(step, batch));
    }, cli.repeats);
    std::vector<double> rate = per_second(t, double(steps * batch));
    out.add({.workload = "LeNet training step",
             .setting = fmt::format("batch {}", batch),
             .value = median(rate),
             .unit = "images/s",
             .samples = rate,
             .note = fmt::format("{} steps per repeat", steps)});
  }
}

// Workload 2: inference (eval mode, no grad) images/s.
void bench_inference(Reporter& out, const Cli& cli, int batch, int images) {
  manual_seed(0);
  nn::Sequential net = lenet();
  net.eval();
  Pool pool(batch);
  const int64_t steps = std::max<int64_t>(1, images / batch);
  int64_t step = 0;
  NoGradGuard no_grad;
  std::vector<double> t = sample_seconds([&] {
    for (int64_t s = 0; s < steps; ++s, ++step) {
      Tensor logits = net(pool.x(step, batch));
      (void)logits;
    }
  }, cli.repeats);
  std::vector<double> rate = per_second(t, double(steps * batch));
  out.add({.workload = "LeNet inference (eval, no grad)",
           .setting = fmt::format("batch {}", batch),
           .value = median(rate),
           .unit = "images/s",
           .samples = rate,
           .note = fmt::format("{} batches per repeat", steps)});
}

// Workload 7: the peak resident memory of a training run at batch 64 (this process alone).
void bench_memory(Reporter& out, int steps) {
  const int64_t batch = 64;
  const double before = proc_status_mib("VmRSS");  // the program and its libraries
  manual_seed(0);
  nn::Sequential net = lenet();
  optim::SGD opt(net.parameters(), course_sgd());
  Pool pool(batch);
  for (int64_t s = 0; s < steps; ++s) train_step(net, opt, pool.x(s, batch), pool.y(s, batch));
  out.add({.workload = "LeNet training peak memory (VmHWM)",
           .setting = "batch 64",
           .value = peak_rss_mib(),
           .unit = "MiB",
           .higher_is_better = false,
           .note = fmt::format("whole process after {} steps, {} images in memory; "
                               "{:.0f} MiB resident before building the model",
                               steps, pool.size, before),
           .baseline = before});
}

// Decodes an image folder once and normalises it like ToTensor + Normalize((0.5,)*3, (0.5,)*3).
data::TensorDataset decode(const std::string& root) {
  data::ImageSet set = data::read_image_folder(root, {.height = 32, .width = 32});
  Tensor x = empty(set.shape());
  float* p = x.data();
  for (size_t i = 0; i < set.pixels.size(); ++i) p[i] = (float(set.pixels[i]) / 255 - 0.5f) / 0.5f;
  std::vector<int64_t> labels(set.labels.begin(), set.labels.end());
  return data::TensorDataset(x, tensor(labels));
}

// Workload 3: the course recipe, batch 4, `epochs` epochs, shuffled every epoch; each repeat
// trains a fresh network (seed = repeat) and measures test accuracy after the last epoch.
void bench_cifar(Reporter& out, const Cli& cli, const std::string& dir, int epochs) {
  auto train = std::make_shared<data::TensorDataset>(decode(dir + "/train"));
  data::TensorDataset test = decode(dir + "/test");
  data::DataLoaderOptions shuffled;  // as the tutorial's DataLoader(batch_size=4, shuffle=True)
  shuffled.batch_size = 4;
  shuffled.shuffle = true;
  data::DataLoader loader(train, shuffled);
  std::vector<double> epoch_seconds, accuracy, last_loss;
  for (int r = 0; r < cli.repeats; ++r) {
    manual_seed(uint64_t(r));
    nn::Sequential net = lenet();
    optim::SGD opt(net.parameters(), course_sgd());
    double loss_sum = 0;
    for (int e = 0; e < epochs; ++e) {
      loss_sum = 0;
      epoch_seconds.push_back(seconds([&] {
        for (auto [x, y] : loader) loss_sum += train_step(net, opt, x, y);
      }));
    }
    last_loss.push_back(loss_sum / double(loader.size()));
    // Test accuracy (not timed): eval mode, no grad, batches of 1000.
    NoGradGuard no_grad;
    net.eval();
    int64_t correct = 0, n = test.size();
    for (int64_t i = 0; i < n; i += 1000) {
      int64_t b = std::min<int64_t>(1000, n - i);
      Tensor pred = net(test.inputs().narrow(0, i, b)).argmax(1);
      correct += pred.eq(test.targets().narrow(0, i, b)).sum().item<int64_t>();
    }
    accuracy.push_back(100.0 * double(correct) / double(n));
  }
  std::string setting = fmt::format("batch 4, {} epochs", epochs);
  out.add({.workload = "CIFAR-10 course recipe: time per epoch",
           .setting = setting,
           .value = median(epoch_seconds),
           .unit = "s/epoch",
           .higher_is_better = false,
           .samples = epoch_seconds,
           .note = fmt::format("{} runs x {} epochs; {} train images", cli.repeats, epochs,
                               train->size())});
  out.add({.workload = "CIFAR-10 course recipe: test accuracy",
           .setting = setting,
           .value = median(accuracy),
           .unit = "%",
           .samples = accuracy,
           .note = fmt::format("{} test images; last-epoch mean loss {:.3f}", test.size(),
                               median(last_loss))});
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli("lenet_bench",
          "[--batches LIST] [--images N] [--memory] [--steps N] [--cifar DIR] [--epochs N]");
  std::vector<int> batches = {4, 32, 64, 256};
  int images = 4096, steps = 50, epochs = 2;
  bool memory = false;
  std::string cifar;
  cli.integers("--batches", &batches);
  cli.integer("--images", &images, 1);
  cli.flag("--memory", &memory);
  cli.integer("--steps", &steps, 1);
  cli.text("--cifar", &cifar);
  cli.integer("--epochs", &epochs, 1);
  cli.parse(argc, argv);
  if (memory && !cifar.empty()) {
    fmt::print(stderr, "lenet_bench: --memory and --cifar are separate runs (usage: {})\n",
               cli.usage());
    return 2;
  }
  if (!cifar.empty() && !(std::filesystem::is_directory(cifar + "/train") &&
                          std::filesystem::is_directory(cifar + "/test"))) {
    fmt::print(stderr, "lenet_bench: --cifar '{}' has no train/ and test/ image folders\n", cifar);
    return 2;
  }
  try {
    Reporter out(cli);
    if (memory) {
      bench_memory(out, steps);
    } else if (!cifar.empty()) {
      bench_cifar(out, cli, cifar, epochs);
    } else {
      bench_training(out, cli, batches, images);
      bench_inference(out, cli, 256, images);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "lenet_bench: {}\n", e.what());
    return 1;
  }
}
