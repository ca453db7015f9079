// Foundation benchmarks (issue 2): tapegrad's matmul against raw cblas_sgemm
// on the same shapes, elementwise add/mul on 4M floats against a plain
// memory-bound loop, and the per-op overhead of tiny ops on the tape.
//   build/bench/core_bench [--threads N]
#include <cblas.h>
#include <fmt/format.h>

#include <cstring>
#include <string>

#include "bench/timing.h"
#include <tapegrad/tapegrad.h>

using namespace tg;
using tg::bench::median_seconds;

namespace {

void bench_matmul(int64_t n) {
  Tensor a = randn({n, n}), b = randn({n, n});
  Tensor c = empty({n, n});
  double flops = 2.0 * n * n * n;
  double raw = median_seconds([&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(n), int(n), 1, a.data(),
                int(n), b.data(), int(n), 0, c.data(), int(n));
  });
  double ours = median_seconds([&] { Tensor y = a.matmul(b); });
  fmt::print("| matmul {0}x{0} | {1:.1f} GFLOP/s | {2:.1f} GFLOP/s | {3:.0f}% |\n", n,
             flops / ours / 1e9, flops / raw / 1e9, 100 * raw / ours);
}

void bench_elementwise() {
  const int64_t n = 1 << 22;  // 4M floats
  Tensor a = randn({n}), b = randn({n});
  std::vector<float> x = a.to_vector(), y = b.to_vector(), z(static_cast<size_t>(n));
  // The reference: the same traffic (two reads, one write) in a plain loop.
  double plain = median_seconds([&] {
    float *pz = z.data();
    const float *px = x.data(), *py = y.data();
    for (int64_t i = 0; i < n; ++i) pz[i] = px[i] + py[i];
  }, 21);
  double bytes = 3.0 * n * sizeof(float);
  for (auto [name, op] : {std::pair<const char*, int>{"add", 0}, {"mul", 1}}) {
    double ours = median_seconds([&] { Tensor c = op == 0 ? a + b : a * b; }, 21);
    fmt::print("| {} 4M floats | {:.1f} GB/s | {:.1f} GB/s | {:.0f}% |\n", name, bytes / ours / 1e9,
               bytes / plain / 1e9, 100 * plain / ours);
  }
}

void bench_overhead() {
  // A chain of 1000 tiny adds recorded on the tape, then its backward.
  Tensor x = rand({4}, {.requires_grad = true}), c = rand({4});
  const int ops = 1000;
  double t = median_seconds([&] {
    Tensor y = x;
    for (int i = 0; i < ops; ++i) y = y + c;
    y.sum().backward();
  }, 21);
  double no_grad = median_seconds([&] {
    NoGradGuard g;
    Tensor y = x;
    for (int i = 0; i < ops; ++i) y = y + c;
  }, 21);
  fmt::print("| tiny op (4 floats), forward + backward | {:.0f} ns/op | | |\n", t / (ops + 2) * 1e9);
  fmt::print("| tiny op (4 floats), forward only, no grad | {:.0f} ns/op | | |\n", no_grad / ops * 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else {
      fmt::print(stderr, "core_bench: unknown option '{}' (expected --threads N)\n", arg);
      return 2;
    }
  }
  if (threads > 0) set_num_threads(threads);
  manual_seed(0);
  fmt::print("threads: {}\n\n| workload | tapegrad | reference | ratio |\n|---|---|---|---|\n",
             get_num_threads());
  bench_matmul(512);
  bench_matmul(1024);
  bench_elementwise();
  bench_overhead();
}
