// Micro benchmarks (issue 7), the tapegrad side of torch_bench.py's micro workload:
//   - per-op overhead: a chain of 1000 tiny adds (4 floats), forward + backward, ns per op;
//   - matmul GFLOP/s at LeNet's fully connected shapes, and conv2d forward + backward
//     GFLOP/s at LeNet's two conv shapes, each against raw cblas_sgemm on the same GEMM
//     shapes (no im2col, no allocation, output buffers reused; for thin conv GEMMs a direct
//     kernel can beat it, so it is a ceiling for im2col + sgemm only), and the convs also
//     against square 1024^3 sgemm, the machine's GEMM peak.
// Work per repeat is fixed by FLOPs (kFlopsPerRepeat), computed the same way in Python.
//   micro_bench [--threads N] [--repeats N] [--json]
#include <cblas.h>
#include <fmt/format.h>
#include <omp.h>

#include <string>
#include <vector>

#include "bench/report.h"
#include "bench/timing.h"
#include <tapegrad/nn/functional.h>
#include <tapegrad/tapegrad.h>

using namespace tg;
using namespace tg::bench;
namespace F = tg::nn::functional;

namespace {

constexpr double kFlopsPerRepeat = 1e9;
constexpr int kChainOps = 1000, kChainsPerRepeat = 20;

// How many calls of `flops` each make one repeat (at least one).
int64_t calls_for(double flops) { return std::max<int64_t>(1, int64_t(kFlopsPerRepeat / flops)); }


// Workload 5: the cost of recording and replaying one tiny op.
void bench_overhead(Reporter& out, const Cli& cli) {
  Tensor x = rand({4}, {.requires_grad = true}), c = rand({4});
  std::vector<double> t = sample_seconds([&] {
    for (int k = 0; k < kChainsPerRepeat; ++k) {
      Tensor y = x;
      for (int i = 0; i < kChainOps; ++i) y = y + c;
      y.sum().backward();
      x.zero_grad();
    }
  }, cli.repeats);
  std::vector<double> ns;
  for (double s : t) ns.push_back(s / (kChainsPerRepeat * kChainOps) * 1e9);
  out.add({.workload = "per-op overhead: chain of 1000 adds (4 floats), forward + backward",
           .setting = "tiny tensors",
           .value = median(ns),
           .unit = "ns/op",
           .higher_is_better = false,
           .samples = ns,
           .note = "time / 1000 adds (sum + backward included)"});
  t = sample_seconds([&] {
    NoGradGuard no_grad;
    for (int k = 0; k < kChainsPerRepeat; ++k) {
      Tensor y = x;
      for (int i = 0; i < kChainOps; ++i) y = y + c;
    }
  }, cli.repeats);
  ns.clear();
  for (double s : t) ns.push_back(s / (kChainsPerRepeat * kChainOps) * 1e9);
  out.add({.workload = "per-op overhead: chain of 1000 adds (4 floats), forward, no grad",
           .setting = "tiny tensors",
           .value = median(ns),
           .unit = "ns/op",
           .higher_is_better = false,
           .samples = ns});
}

// Workload 6a: x [m, k] @ w [k, n], as in LeNet's Linear layers.
void bench_matmul(Reporter& out, const Cli& cli, int64_t m, int64_t k, int64_t n) {
  const double flops = 2.0 * m * k * n;
  const int64_t calls = calls_for(flops);
  Tensor a = randn({m, k}), b = randn({k, n});
  std::vector<float> c(size_t(m * n));
  std::vector<double> raw = sample_seconds([&] {
    for (int64_t i = 0; i < calls; ++i)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n), int(k), 1, a.data(),
                  int(k), b.data(), int(n), 0, c.data(), int(n));
  }, cli.repeats);
  std::vector<double> ours = sample_seconds([&] {
    for (int64_t i = 0; i < calls; ++i) {
      Tensor y = a.matmul(b);
      (void)y;
    }
  }, cli.repeats);
  std::vector<double> g = gflops(ours, flops * double(calls));
  out.add({.workload = "matmul (LeNet Linear shapes)",
           .setting = fmt::format("[{}, {}] @ [{}, {}]", m, k, k, n),
           .value = median(g),
           .unit = "GFLOP/s",
           .samples = g,
           .note = fmt::format("{} calls per repeat", calls),
           .reference = median(gflops(raw, flops * double(calls)))});
}


// Workload 6b: conv2d forward + backward (dW, db, and dX where LeNet needs it).
void bench_conv(Reporter& out, const Cli& cli, const char* name, int64_t batch, int64_t in,
                int64_t oc, int64_t size, int64_t kernel, bool input_grad, double peak) {
  const int64_t o = size - kernel + 1, P = o * o, K = in * kernel * kernel, NP = batch * P;
  const double gemm = 2.0 * batch * oc * K * P, flops = gemm * (input_grad ? 3 : 2);
  const int64_t calls = calls_for(flops);
  Tensor x = randn({batch, in, size, size}).requires_grad_(input_grad);
  Tensor w = (randn({oc, in, kernel, kernel}) * 0.1f).detach().requires_grad_();
  Tensor b = zeros({oc}, {.requires_grad = true});
  Tensor gy = randn({batch, oc, o, o});
  std::vector<double> ours = sample_seconds([&] {
    for (int64_t i = 0; i < calls; ++i) {
      Tensor y = F::conv2d(x, w, b);
      y.backward(gy);
      x.zero_grad(), w.zero_grad(), b.zero_grad();
    }
  }, cli.repeats);
  // The same GEMMs (Y = W col, dW = dY col^T, dcol = W^T dY) without im2col, each timed as
  // one batched call and as one call per image over the OpenMP pool; the faster counts.
  std::vector<float> wm(size_t(oc * K), 0.5f), col(size_t(K * NP), 0.25f), y(size_t(oc * NP));
  std::vector<float> dcol(size_t(K * NP)), dw(size_t(oc * K * get_num_threads()));
  auto gemms = [&](bool per_image) {
    const int64_t parts = per_image ? batch : 1, cols = NP / parts;
    return sample_seconds([&] {
      for (int64_t i = 0; i < calls; ++i) {
#pragma omp parallel for schedule(static) if (per_image)
        for (int64_t p = 0; p < parts; ++p) {
          const float* cp = col.data() + p * K * cols;  // per image: [K x P] blocks
          float* yp = y.data() + p * oc * cols;
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(oc), int(cols), int(K), 1,
                      wm.data(), int(K), cp, int(cols), 0, yp, int(cols));
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(oc), int(K), int(cols), 1, yp,
                      int(cols), cp, int(cols), per_image ? 1 : 0,
                      dw.data() + omp_get_thread_num() * oc * K, int(K));
          if (input_grad)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(K), int(cols), int(oc), 1,
                        wm.data(), int(K), yp, int(cols), 0, dcol.data() + p * K * cols,
                        int(cols));
        }
      }
    }, cli.repeats);
  };
  std::vector<double> batched = gemms(false), per_image = gemms(true);
  const std::vector<double>& raw = median(batched) < median(per_image) ? batched : per_image;
  std::vector<double> g = gflops(ours, flops * double(calls));
  out.add({.workload = fmt::format("conv2d forward + backward, {}", name),
           .setting = fmt::format("batch {}", batch),
           .value = median(g),
           .unit = "GFLOP/s",
           .samples = g,
           .note = fmt::format("{}; {} calls per repeat; sgemm timed {}",
                               input_grad ? "dX, dW, db" : "dW, db", calls,
                               &raw == &batched ? "one batched call" : "per image on the pool"),
           .reference = median(gflops(raw, flops * double(calls))),
           .peak = peak});
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli("micro_bench");
  cli.parse(argc, argv);
  try {
    manual_seed(0);
    Reporter out(cli);
    bench_overhead(out, cli);
    for (int64_t batch : {64, 256}) {
      bench_matmul(out, cli, batch, 400, 120);
      bench_matmul(out, cli, batch, 120, 84);
      bench_matmul(out, cli, batch, 84, 10);
    }
    double peak = square_gemm_peak(cli.repeats);
    for (int64_t batch : {64, 256}) {
      bench_conv(out, cli, "conv1 3->6 k5 32x32", batch, 3, 6, 32, 5, false, peak);
      bench_conv(out, cli, "conv2 6->16 k5 14x14", batch, 6, 16, 14, 5, true, peak);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "micro_bench: {}\n", e.what());
    return 1;
  }
}
