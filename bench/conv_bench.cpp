// Convolution benchmarks (issue 3): conv2d forward and backward on LeNet's two
// conv shapes at batch 4, 64 and 256, in GFLOP/s of useful GEMM work, against raw
// cblas_sgemm on the same GEMM shapes (one batched call, and one call per image over
// the OpenMP pool, the ceiling of our scheme), then a whole LeNet training step.
// bench/conv_bench_torch.py measures the same with PyTorch.
//   build/bench/conv_bench [--threads N]
#include <cblas.h>
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <span>
#include <string>
#include <vector>

#include <tapegrad/nn/activation.h>
#include <tapegrad/nn/conv.h>
#include <tapegrad/nn/linear.h>
#include <tapegrad/nn/loss.h>
#include <tapegrad/nn/pool.h>
#include <tapegrad/nn/sequential.h>
#include <tapegrad/tapegrad.h>

using namespace tg;
namespace F = tg::nn::functional;

namespace {

// Best of `repeats` runs after warm-up: on a shared 2-core machine the minimum is the
// stable statistic (the median moves with whatever else runs).
template <typename Fn>
double best_seconds(Fn&& f, int repeats = 15, int warmup = 3) {
  for (int i = 0; i < warmup; ++i) f();
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

struct ConvCase {
  const char* name;
  int64_t in, out, size, kernel;
  bool input_grad;  // LeNet's conv1 never needs dL/dx
};

// C [m x images n] = op(A) B as one call, or as `images` calls of n columns each spread
// over the OpenMP pool (A is [m x k], or [k x m] read transposed when trans_a).
double sgemm_seconds(bool trans_a, int64_t m, int64_t n, int64_t k, int64_t images,
                     bool per_image) {
  std::vector<float> a(m * k, 0.5f), b(k * n * images, 0.25f), c(m * n * images);
  auto call = [&](const float* bp, float* cp, int64_t cols) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, CblasNoTrans, int(m),
                int(cols), int(k), 1, a.data(), int(trans_a ? m : k), bp, int(cols), 0, cp,
                int(cols));
  };
  if (!per_image) return best_seconds([&] { call(b.data(), c.data(), n * images); });
  return best_seconds([&] {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < images; ++i) call(b.data() + i * k * n, c.data() + i * m * n, n);
  });
}

// dW-shaped products: [m x p] [p x k] per image, summed (beta = 1) like our backward.
double sgemm_dw_seconds(int64_t m, int64_t k, int64_t p, int64_t images, bool per_image) {
  std::vector<float> gy(m * p * images, 0.5f), col(k * p * images, 0.25f);
  int threads = omp_get_max_threads();
  std::vector<float> gw(m * k * threads);
  if (!per_image)  // one call: dY [m x N p] times col^T [N p x k]
    return best_seconds([&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(k), int(p * images), 1,
                  gy.data(), int(p * images), col.data(), int(p * images), 0, gw.data(), int(k));
    });
  return best_seconds([&] {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < images; ++i)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(k), int(p), 1,
                  gy.data() + i * m * p, int(p), col.data() + i * k * p, int(p), 1,
                  gw.data() + omp_get_thread_num() * m * k, int(k));
  });
}

void bench_conv(const ConvCase& cc, int64_t batch) {
  const int64_t o = cc.size - cc.kernel + 1, P = o * o, K = cc.in * cc.kernel * cc.kernel;
  const double flops = 2.0 * batch * cc.out * K * P;  // one GEMM's worth
  Tensor x = randn({batch, cc.in, cc.size, cc.size}), w = randn({cc.out, cc.in, cc.kernel, cc.kernel});
  Tensor b = randn({cc.out});
  double fwd;
  {
    NoGradGuard g;
    fwd = best_seconds([&] { Tensor y = F::conv2d(x, w, b); });
  }
  // Backward: call the recorded node directly so that only backward is timed.
  Tensor xg = x.detach().requires_grad_(cc.input_grad), wg = w.detach().requires_grad_(),
         bg = b.detach().requires_grad_();
  Tensor y = F::conv2d(xg, wg, bg), gy = randn(y.shape());
  std::array<Tensor, 3> grads_out;
  double bwd = best_seconds([&] { y.grad_fn()->backward(gy, grads_out); });
  const double bwd_flops = flops * (cc.input_grad ? 2 : 1);

  double fwd_one = sgemm_seconds(false, cc.out, P, K, batch, false);
  double fwd_img = sgemm_seconds(false, cc.out, P, K, batch, true);
  double dw_one = sgemm_dw_seconds(cc.out, K, P, batch, false);
  double dw_img = sgemm_dw_seconds(cc.out, K, P, batch, true);
  double dx_one = cc.input_grad ? sgemm_seconds(true, K, P, cc.out, batch, false) : 0;
  double dx_img = cc.input_grad ? sgemm_seconds(true, K, P, cc.out, batch, true) : 0;
  auto gf = [](double f, double t) { return f / t / 1e9; };
  fmt::print("| {} | {} | forward | {:.1f} | {:.1f} | {:.1f} |\n", cc.name, batch, gf(flops, fwd),
             gf(flops, fwd_one), gf(flops, fwd_img));
  fmt::print("| {} | {} | backward ({}) | {:.1f} | {:.1f} | {:.1f} |\n", cc.name, batch,
             cc.input_grad ? "dx, dw, db" : "dw, db", gf(bwd_flops, bwd),
             gf(bwd_flops, dw_one + dx_one), gf(bwd_flops, dw_img + dx_img));
}

// One LeNet training step (forward, cross-entropy, backward) on CIFAR-sized input.
void bench_lenet(int64_t batch, double ceiling) {
  nn::Sequential net(nn::Conv2d(3, 6, 5), nn::ReLU(), nn::MaxPool2d(2), nn::Conv2d(6, 16, 5),
                     nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(), nn::Linear(400, 120),
                     nn::ReLU(), nn::Linear(120, 84), nn::ReLU(), nn::Linear(84, 10));
  Tensor x = randn({batch, 3, 32, 32}), target = tensor(std::vector<int64_t>(batch, 3));
  double step = best_seconds([&] {
    net.zero_grad();
    Tensor loss = F::cross_entropy(net(x), target);
    loss.backward();
  });
  // GEMM FLOPs: conv1 forward + dw; conv2 forward + dw + dx; the three linears x3.
  double conv1 = 2.0 * 6 * 75 * 784, conv2 = 2.0 * 16 * 150 * 100;
  double fc = 2.0 * (400 * 120 + 120 * 84 + 84 * 10);
  double flops = batch * (2 * conv1 + 3 * conv2 + 3 * fc);
  fmt::print("| LeNet step, batch {} | {:.2f} ms | {:.1f} GFLOP/s | {:.0f}% of the square-sgemm ceiling |\n",
             batch, step * 1e3, flops / step / 1e9, 100 * flops / step / 1e9 / ceiling);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else {
      fmt::print(stderr, "conv_bench: unknown option '{}' (expected --threads N)\n", arg);
      return 2;
    }
  }
  if (threads > 0) set_num_threads(threads);
  manual_seed(0);
  const int64_t n = 1024;
  std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n);
  double square = best_seconds([&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a.data(), n, b.data(), n,
                0, c.data(), n);
  });
  double ceiling = 2.0 * n * n * n / square / 1e9;
  fmt::print("threads: {}; sgemm 1024^3 (the ceiling): {:.1f} GFLOP/s\n\n", get_num_threads(),
             ceiling);
  fmt::print("GFLOP/s (one GEMM's FLOPs per product)\n\n| layer | batch | pass | tapegrad conv2d | "
             "sgemm, one batched call | sgemm, per image on the pool |\n|---|---|---|---|---|---|\n");
  const ConvCase cases[] = {{"conv1 3->6 k5 32x32", 3, 6, 32, 5, false},
                            {"conv2 6->16 k5 14x14", 6, 16, 14, 5, true}};
  for (const ConvCase& cc : cases)
    for (int64_t batch : {4, 64, 256}) bench_conv(cc, batch);
  fmt::print("\n");
  for (int64_t batch : {64, 256}) bench_lenet(batch, ceiling);
}
