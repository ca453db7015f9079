// ResNet-20 benchmarks (issue 15), the tapegrad side of bench/torch_bench.py's resnet workload:
// the CIFAR ResNet of He et al. 2016 (nn/resnet.h, shortcut A) on random 3x32x32 images.
//   resnet_bench [--train-batch 128] [--infer-batch 256] [--images N]
// Training: SGD (lr 0.1, momentum 0.9, weight decay 5e-4) with cross-entropy; inference: eval
// mode without the tape. Each figure also says its GFLOP/s and the share of the square-sgemm
// peak measured in the same process (FLOPs: the convolutions' and the classifier's multiply-adds
// x 2 per image, x 3 for a training step: forward, input gradient and weight gradient), counted
// as direct convolution does them: the Winograd kernels do 2.25x fewer, so the share can pass
// 100%.
// Common options: --threads N, --repeats N, --json (see bench/report.h).
#include <fmt/format.h>

#include <string>
#include <vector>

#include "bench/report.h"
#include "bench/timing.h"
#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/resnet.h>
#include <tapegrad/optim/sgd.h>
#include <tapegrad/tapegrad.h>

using namespace tg;
using namespace tg::bench;
namespace F = tg::nn::functional;

namespace {

// Forward FLOPs per 32x32 image: 2 x the multiply-adds of every convolution and the classifier.
double forward_flops(const nn::CifarResNet& net) {
  double flops = 0;
  int64_t size = 32;
  for (const nn::Module* m : net.modules()) {
    if (const auto* conv = dynamic_cast<const nn::Conv2d*>(m)) {
      const nn::Conv2dOptions& o = conv->options;
      if (o.stride.h == 2 && o.kernel.h == 3) size /= 2;  // the first conv of a new stage
      flops += 2.0 * double(o.in * o.out * o.kernel.h * o.kernel.w * size * size);
    }
  }
  return flops + 2.0 * 64 * double(net.options.num_classes);
}

void bench_resnet(Reporter& out, const Cli& cli, int train_batch, int infer_batch, int images) {
  const double peak = square_gemm_peak(cli.repeats);
  manual_seed(0);
  nn::CifarResNet net = nn::resnet20();
  const double flops = forward_flops(net);
  optim::SGD opt(net.parameters(), {.lr = 0.1, .momentum = 0.9, .weight_decay = 5e-4});
  Tensor x = randn({train_batch, 3, 32, 32});
  std::vector<float> classes(static_cast<size_t>(train_batch));
  for (int i = 0; i < train_batch; ++i) classes[size_t(i)] = float(i % 10);
  Tensor y = tensor(classes);
  const int64_t steps = std::max<int64_t>(1, images / train_batch);
  std::vector<double> t = sample_seconds([&] {
    for (int64_t s = 0; s < steps; ++s) {
      opt.zero_grad();
      F::cross_entropy(net(x), y).backward();
      opt.step();
    }
  }, cli.repeats);
  std::vector<double> rate = per_second(t, double(steps * train_batch));
  out.add({.workload = "ResNet-20 training step",
           .setting = fmt::format("batch {}", train_batch),
           .value = median(rate),
           .unit = "images/s",
           .samples = rate,
           .note = fmt::format("{} steps per repeat", steps),
           .peak = peak,
           .flops = 3 * flops});

  net.eval();
  Tensor xi = randn({infer_batch, 3, 32, 32});
  const int64_t batches = std::max<int64_t>(1, images / infer_batch);
  NoGradGuard no_grad;
  t = sample_seconds([&] {
    for (int64_t s = 0; s < batches; ++s) (void)net(xi);
  }, cli.repeats);
  rate = per_second(t, double(batches * infer_batch));
  out.add({.workload = "ResNet-20 inference (eval, no grad)",
           .setting = fmt::format("batch {}", infer_batch),
           .value = median(rate),
           .unit = "images/s",
           .samples = rate,
           .note = fmt::format("{} batches per repeat", batches),
           .peak = peak,
           .flops = flops});
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli("resnet_bench", "[--train-batch N] [--infer-batch N] [--images N]");
  int train_batch = 128, infer_batch = 256, images = 512;
  cli.integer("--train-batch", &train_batch, 1);
  cli.integer("--infer-batch", &infer_batch, 1);
  cli.integer("--images", &images, 1);
  cli.parse(argc, argv);
  try {
    Reporter out(cli);
    bench_resnet(out, cli, train_batch, infer_batch, images);
  } catch (const std::exception& e) {
    fmt::print(stderr, "resnet_bench: {}\n", e.what());
    return 1;
  }
}
