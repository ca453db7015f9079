// Data-parallel LeNet or ResNet-20 training (issue 17): one process with T threads against N
// processes under mpirun, at the same global batch. Reports training images/s, the step time
// with the gradients averaged (DistributedDataParallel) and without (the same steps under
// no_sync: the local work alone), their difference (the communication backward could not hide), and
// the time of one blocking all-reduce of all the parameters. bench/distributed.sh runs both
// configurations; docs/distributed.md explains the figures.
//   ddp_bench [--model lenet|resnet20] [--batch 64] [--steps 50] [--threads 1]   (alone)
//   mpirun -np 2 ddp_bench --batch 64 --steps 50 --threads 1    (--batch: over all processes)
// LeNet trains with the course's SGD (lr 0.001, momentum 0.9), ResNet-20 with the standard
// recipe's (lr 0.1, momentum 0.9, weight decay 5e-4).
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/timing.h"
#include <tapegrad/tapegrad.h>
#include <tapegrad/distributed/collectives.h>
#include <tapegrad/distributed/ddp.h>
#include <tapegrad/distributed/environment.h>

using namespace tg;
namespace dist = tg::distributed;
namespace F = tg::nn::functional;

namespace {

std::shared_ptr<nn::Sequential> lenet() {
  return std::make_shared<nn::Sequential>(nn::Conv2d(3, 6, 5), nn::ReLU(), nn::MaxPool2d(2),
                                          nn::Conv2d(6, 16, 5), nn::ReLU(), nn::MaxPool2d(2),
                                          nn::Flatten(), nn::Linear(400, 120), nn::ReLU(),
                                          nn::Linear(120, 84), nn::ReLU(), nn::Linear(84, 10));
}

// --model lenet|resnet20; --batch, --steps, --threads: positive integers; anything else is a
// usage error (exit 2). The model comes back as "model" = 0 (LeNet) or 1 (ResNet-20).
std::optional<std::map<std::string, int64_t>> parse(int argc, char** argv) {
  std::map<std::string, int64_t> o = {
      {"batch", 64}, {"steps", 50}, {"threads", 1}, {"model", 0}};
  for (int i = 1; i < argc; i += 2) {
    std::string name = argv[i];
    if (name == "--model" && i + 1 < argc &&
        (std::string(argv[i + 1]) == "lenet" || std::string(argv[i + 1]) == "resnet20")) {
      o["model"] = std::string(argv[i + 1]) == "resnet20";
      continue;
    }
    char* end = nullptr;
    long long v = i + 1 < argc ? std::strtoll(argv[i + 1], &end, 10) : 0;
    if (name.rfind("--", 0) != 0 || !o.count(name.substr(2)) || i + 1 >= argc || *end != 0 ||
        v < 1) {
      std::fprintf(stderr,
                   "ddp_bench: bad option '%s' (--model lenet|resnet20, --batch N, --steps N, "
                   "--threads N)\n",
                   argv[i]);
      return std::nullopt;
    }
    o[name.substr(2)] = v;
  }
  return o;
}

int run_bench(int argc, char** argv) {
  const int n = dist::world_size(), rank = dist::rank();
  auto o = parse(argc, argv);
  if (!o) return 2;
  const int64_t batch = (*o)["batch"], steps = (*o)["steps"];
  set_num_threads(int((*o)["threads"]));
  check(batch % n == 0, "ddp_bench: --batch {} does not divide among {} processes", batch, n);
  const int64_t local = batch / n;
  manual_seed(uint64_t(rank));
  const bool resnet = (*o)["model"] == 1;
  std::shared_ptr<nn::Module> net = resnet ? std::make_shared<nn::CifarResNet>(nn::resnet20())
                                           : std::shared_ptr<nn::Module>(lenet());
  std::optional<dist::DistributedDataParallel> ddp;
  if (n > 1) ddp.emplace(net);
  optim::SGD opt(net->parameters(), resnet ? optim::SGDOptions{.lr = 0.1, .momentum = 0.9,
                                                               .weight_decay = 5e-4}
                                           : optim::SGDOptions{.lr = 0.001, .momentum = 0.9});
  Tensor x = randn({local, 3, 32, 32}), y = empty({local});
  for (int64_t i = 0; i < local; ++i) y.data()[i] = float((i + rank) % 10);
  auto step = [&] {
    opt.zero_grad();
    F::cross_entropy(ddp ? (*ddp)(x) : (*net)(x), y).backward();
    opt.step();
  };
  auto timed = [&](bool sync) {  // seconds per step, the slowest rank's (they wait for it)
    for (int i = 0; i < 3; ++i) step();
    dist::barrier();
    double s = bench::seconds([&] {
      for (int64_t i = 0; i < steps; ++i) {
        if (!sync && ddp) {
          auto guard = ddp->no_sync();
          step();
        } else {
          step();
        }
      }
    });
    Tensor t = tensor({float(s / double(steps))});
    dist::all_reduce(t, dist::ReduceOp::Max);
    return double(t.item());
  };
  double synced = timed(true), alone = timed(false);
  int64_t params = parameter_count(*net);
  Tensor buffer = zeros({params});
  double reduce = bench::median_seconds([&] { dist::all_reduce(buffer); }, 21, 3);
  if (rank == 0 && n == 1)
    fmt::print("ddp_bench {}: 1 process x {} thread(s), batch {}: {:.0f} images/s; "
               "step {:.3f} ms\n",
               resnet ? "ResNet-20" : "LeNet", get_num_threads(), batch, double(batch) / synced,
               1e3 * synced);
  if (rank == 0 && n > 1)
    fmt::print(
        "ddp_bench {}: {} processes x {} thread(s), batch {} ({} per process): {:.0f} "
        "images/s; step {:.3f} ms, local work {:.3f} ms, exposed communication {:.3f} "
        "ms; one all-reduce of {} floats {:.1f} us\n",
        resnet ? "ResNet-20" : "LeNet", n, get_num_threads(), batch, local,
        double(batch) / synced, 1e3 * synced, 1e3 * alone, 1e3 * (synced - alone), params,
        1e6 * reduce);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return dist::run(argc, argv, run_bench); }
