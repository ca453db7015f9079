// DistributedDataParallel against a single process doing the same arithmetic: every rank also
// trains a plain copy of the model on the whole batch (the reference), so the data-parallel
// result is checked against an independent computation, not against itself.
#include <algorithm>
#include <cmath>

#include <tapegrad/distributed/collectives.h>
#include <tapegrad/distributed/ddp.h>
#include <tapegrad/distributed/environment.h>
#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/linear.h>
#include <tapegrad/nn/activation.h>
#include <tapegrad/nn/sequential.h>
#include <tapegrad/optim/sgd.h>
#include "tests/test_util.h"

using namespace tg;
namespace dist = tg::distributed;
namespace F = tg::nn::functional;

namespace {

// After an error refused on every rank, a collective still completes: the ranks are in step.
void check_ranks_in_step() {
  Tensor after = ones({1});
  dist::all_reduce(after);
  CHECK(after.item() == float(dist::world_size()));
}

// A small classifier without BatchNorm; the seed differs per rank so that the constructor's
// broadcast is what makes the replicas equal.
std::shared_ptr<nn::Sequential> make_net(uint64_t seed) {
  manual_seed(seed);
  return std::make_shared<nn::Sequential>(nn::Linear(6, 16), nn::Tanh(), nn::Linear(16, 8),
                                          nn::Tanh(), nn::Linear(8, 3));
}

// The same data on every rank: step s's batch of `size` examples.
std::pair<Tensor, Tensor> batch(int64_t step, int64_t size) {
  manual_seed(1000 + uint64_t(step));
  Tensor x = randn({size, 6});
  Tensor y = rand({size});
  for (int64_t i = 0; i < size; ++i) y.data()[i] = std::min(2.0f, std::floor(y.data()[i] * 3));
  return {x, y};
}

void copy_parameters(nn::Module& to, const nn::Module& from) {
  NoGradGuard no_grad;
  std::vector<Tensor> a = to.parameters(), b = from.parameters();
  for (size_t i = 0; i < a.size(); ++i) a[i].copy_(b[i]);
}

void check_close(const std::vector<Tensor>& got, const std::vector<Tensor>& want, double tol,
                 bool grads = false) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].dtype() == want[i].dtype());
    std::vector<double> g = (grads ? got[i].grad() : got[i]).to_vector<double>();
    std::vector<double> w = (grads ? want[i].grad() : want[i]).to_vector<double>();
    REQUIRE(g.size() == w.size());
    double worst = 0;
    for (size_t k = 0; k < g.size(); ++k) worst = std::max(worst, std::abs(g[k] - w[k]));
    INFO("tensor ", i, (grads ? " (gradient)" : ""));
    CHECK(worst <= tol);
  }
}

}  // namespace

namespace {

// 20 SGD steps of a DDP model over 2 ranks x batch 32 against one model over batch 64, in
// `dtype`, for one bucket (cap 25 MB) and for about 26 values a bucket (3 or more buckets):
// only the summation order differs, so they agree to the dtype's rounding, `tol`.
void check_ddp_equals_big_batch(Dtype dtype, double tol) {
  int r = dist::rank();
  REQUIRE(dist::world_size() == 2);  // the equivalence is stated for two processes
  for (double values_per_bucket : {0.0, 26.0}) {
    double cap_mb = values_per_bucket == 0 ? 25 : values_per_bucket * element_size(dtype) / (1024.0 * 1024);
    CAPTURE(cap_mb);
    auto net = make_net(7 + uint64_t(r));
    net->to(dtype);
    dist::DistributedDataParallel ddp(net, {.bucket_cap_mb = cap_mb});
    auto reference = make_net(99);
    reference->to(dtype);
    copy_parameters(*reference, *net);  // rank 0's initial values, after the broadcast
    optim::SGD opt(ddp.parameters(), {.lr = 0.1, .momentum = 0.9});
    optim::SGD ref_opt(reference->parameters(), {.lr = 0.1, .momentum = 0.9});
    for (int64_t step = 0; step < 20; ++step) {
      auto [x32, y32] = batch(step, 64);
      Tensor x = x32.to(dtype), y = y32.to(kInt64);  // int64 labels, as PyTorch's
      opt.zero_grad();
      Tensor mine = x.narrow(0, 32 * r, 32), my_y = y.narrow(0, 32 * r, 32);
      F::cross_entropy(ddp(mine), my_y).backward();
      opt.step();
      ref_opt.zero_grad();
      F::cross_entropy((*reference)(x), y).backward();
      ref_opt.step();
    }
    check_close(ddp.parameters(), reference->parameters(), tol);
    check_close(ddp.parameters(), reference->parameters(), tol, true);
    // Every bucket's all-reduce started inside backward, as soon as it was full (overlap).
    size_t buckets = ddp.bucket_indices().size();
    if (values_per_bucket > 0) CHECK(buckets >= 3);
    CHECK(ddp.last_backward_stats().started_during_backward == buckets);
    CHECK(ddp.last_backward_stats().started_at_end == 0);
  }
}

}  // namespace

TEST_CASE("DDP: 2 ranks x batch 32 train like 1 process x batch 64 (20 SGD steps)") {
  check_ddp_equals_big_batch(kFloat32, 1e-5);
}

TEST_CASE("DDP: a float64 model, 2 ranks x batch 32, trains like 1 process x batch 64") {
  // float64's rounding, not float32's 1e-5 (a bucket gone through float32 misses by ~1e-8)
  check_ddp_equals_big_batch(kFloat64, 1e-12);
}

TEST_CASE("DDP: the constructor broadcasts rank 0's parameters and buffers") {
  int r = dist::rank();
  auto net = make_net(11 + uint64_t(r));
  net->register_buffer("counter", tensor({float(r + 5)}));
  const int64_t big = int64_t(1) << 53;  // an int64 buffer goes as int64, with every digit
  net->register_buffer("steps", tensor(std::vector<int64_t>{big + r + 1}));
  std::vector<float> first = net->parameters()[0].to_vector();
  Tensor rank0 = net->parameters()[0].clone();
  dist::broadcast(rank0, 0);  // what rank 0 held before wrapping
  dist::DistributedDataParallel ddp(net);
  CHECK(net->parameters()[0].to_vector() == rank0.to_vector());
  CHECK(net->buffers()[0].item() == 5.0f);
  CHECK(net->buffers()[1].item<int64_t>() == big + 1);
  if (r != 0) CHECK(first != rank0.to_vector());  // it really changed on the other ranks
}

TEST_CASE("DDP: buckets hold the parameters in reverse order, split at the cap") {
  auto net = make_net(3);
  // Parameters: 0 [16, 6], 1 [16], 2 [8, 16], 3 [8], 4 [3, 8], 5 [3]; a cap of 100 floats.
  dist::DistributedDataParallel ddp(net, {.bucket_cap_mb = 100.0 * 4 / (1024 * 1024)});
  std::vector<std::vector<size_t>> buckets = ddp.bucket_indices();
  // 5 (3) + 4 (24) + 3 (8) = 35, + 2 (128) = 163 >= 100: close; 1 (16) + 0 (96) = 112.
  CHECK(buckets == std::vector<std::vector<size_t>>{{5, 4, 3, 2}, {1, 0}});
  dist::DistributedDataParallel one(net);
  CHECK(one.bucket_indices() == std::vector<std::vector<size_t>>{{5, 4, 3, 2, 1, 0}});
  CHECK_THROWS_CONTAINING(dist::DistributedDataParallel(net, {.bucket_cap_mb = 0}),
                          "DistributedDataParallel: bucket_cap_mb must be positive, got 0");
  // The cap is in bytes, as PyTorch's: 800 bytes hold 200 floats (one bucket) or 100 doubles.
  double cap = 800.0 / (1024 * 1024);
  CHECK(dist::DistributedDataParallel(net, {.bucket_cap_mb = cap}).bucket_indices().size() == 1);
  net->to(kFloat64);
  CHECK(dist::DistributedDataParallel(net, {.bucket_cap_mb = cap}).bucket_indices() ==
        std::vector<std::vector<size_t>>{{5, 4, 3, 2}, {1, 0}});
}

TEST_CASE("DDP: no_sync accumulates locally; the next backward averages the sum") {
  int n = dist::world_size(), r = dist::rank();
  auto net = make_net(21 + uint64_t(r));
  dist::DistributedDataParallel ddp(net, {.bucket_cap_mb = 0.0004});
  auto reference = make_net(5);
  copy_parameters(*reference, *net);
  auto [x, y] = batch(0, 16 * 2 * n);  // rank r: micro-batches 2r and 2r + 1 of 16
  auto micro = [&](int64_t k) {
    return std::pair{x.narrow(0, 16 * k, 16), y.narrow(0, 16 * k, 16)};
  };
  ddp.zero_grad();
  {
    auto guard = ddp.no_sync();
    auto [xa, ya] = micro(2 * r);
    F::cross_entropy(ddp(xa), ya).backward();
  }
  // Inside no_sync nothing was exchanged: the gradient is this rank's own.
  reference->zero_grad();
  auto [xa, ya] = micro(2 * r);
  F::cross_entropy((*reference)(xa), ya).backward();
  check_close(ddp.parameters(), reference->parameters(), 1e-6f, true);
  auto [xb, yb] = micro(2 * r + 1);
  F::cross_entropy(ddp(xb), yb).backward();
  // The big batch: mean over ranks of (mean loss of a + mean loss of b), all 2n micro-batches.
  reference->zero_grad();
  Tensor total = zeros({});
  for (int64_t k = 0; k < 2 * n; ++k) {
    auto [xk, yk] = micro(k);
    total = total + F::cross_entropy((*reference)(xk), yk);
  }
  (total / float(n)).backward();
  check_close(ddp.parameters(), reference->parameters(), 1e-5f, true);
}

TEST_CASE("DDP: a parameter unused on one rank counts as a zero gradient there") {
  int n = dist::world_size(), r = dist::rank();
  auto net = make_net(4);
  dist::DistributedDataParallel ddp(net);
  auto [x, y] = batch(3, 8);
  ddp.zero_grad();
  // Rank 0 uses only the first layer; the others the whole net.
  nn::Module& first = *net->children()[0];
  Tensor out = r == 0 ? first(x).sum() : ddp(x).sum();
  out.backward();
  Tensor last_bias = net->parameters()[5].grad();  // d sum(logits) / d bias = 8 per class
  REQUIRE(last_bias.defined());
  float expected = 8.0f * float(n - 1) / float(n);
  test::check_values(last_bias, {expected, expected, expected});
  // Rank 0's single bucket waited for the end of backward (its last layers had no gradient).
  CHECK(ddp.last_backward_stats().started_at_end == (r == 0 ? 1u : 0u));
}

TEST_CASE("DDP: different models are refused on every rank, naming the first difference") {
  int r = dist::rank();
  manual_seed(0);
  auto net = r == 1 ? std::make_shared<nn::Sequential>(nn::Linear(4, 3), nn::Linear(3, 2))
                    : std::make_shared<nn::Sequential>(nn::Linear(4, 5), nn::Linear(5, 2));
  CHECK_THROWS_CONTAINING(
      dist::DistributedDataParallel(net),
      "DistributedDataParallel: the model on rank 1 differs from rank 0's: entry 0 is parameter "
      "'0.weight' of shape [3, 4] (float32) on rank 1 but parameter '0.weight' of shape [5, 4] "
      "(float32) on rank 0");
  auto fewer = r == 1 ? std::make_shared<nn::Sequential>(nn::Linear(4, 5, false))
                      : std::make_shared<nn::Sequential>(nn::Linear(4, 5));
  CHECK_THROWS_CONTAINING(
      dist::DistributedDataParallel(fewer),
      "entry 1 is nothing (no more parameters or buffers) on rank 1 but "
      "parameter '0.bias' of shape [5] (float32) on rank 0 (1 vs 2 parameters and buffers)");
  auto converted = std::make_shared<nn::Sequential>(nn::Linear(4, 5));  // the dtypes count too
  if (r == 1) converted->to(kFloat64);
  CHECK_THROWS_CONTAINING(dist::DistributedDataParallel(converted),
                          "entry 0 is parameter '0.weight' of shape [5, 4] (float64) on rank 1 "
                          "but parameter '0.weight' of shape [5, 4] (float32) on rank 0");
  check_ranks_in_step();
}

TEST_CASE("DDP: a model mixing dtypes is refused, naming two parameters") {
  auto net = make_net(9);  // the same on every rank, so every rank refuses
  net->children()[2]->to(kFloat64);
  CHECK_THROWS_CONTAINING(dist::DistributedDataParallel(net),
                          "DistributedDataParallel: the parameters mix dtypes: '0.weight' is "
                          "float32 but '2.weight' is float64; hint: convert the whole model");
  net->to(kFloat64);  // converted whole, it is fine
  dist::DistributedDataParallel ddp(net);
  // Converted after wrapping, its gradients no longer fit the buckets: refused in backward.
  net->to(kFloat32);
  auto [x, y] = batch(2, 4);
  CHECK_THROWS_CONTAINING(F::cross_entropy(ddp(x), y).backward(),
                          "DistributedDataParallel: the model became float32 after it was "
                          "wrapped (its buckets are float64)");
  check_ranks_in_step();
}

TEST_CASE("DDP: forward copies rank 0's buffers to every rank first (broadcast_buffers)") {
  int r = dist::rank();
  for (bool on : {true, false}) {
    CAPTURE(on);
    auto net = make_net(6);
    net->register_buffer("stats", zeros({2, 2}));
    net->register_buffer("count", zeros({1}));
    // Buffers of other dtypes go in their own dtype, with digits float32 would round away.
    net->register_buffer("mean64", zeros({2}, {.dtype = kFloat64}));
    net->register_buffer("steps", zeros({1}, {.dtype = kInt64}));
    dist::DistributedDataParallel ddp(net, {.broadcast_buffers = on});
    const double tiny = std::ldexp(1.0, -40);
    const int64_t big = int64_t(1) << 53;
    {  // the buffers drift apart, as BatchNorm's running statistics do during a step
      NoGradGuard no_grad;
      net->buffers()[0].copy_(full({2, 2}, float(r + 1)));
      net->buffers()[1].copy_(full({1}, float(10 * r + 3)));
      net->buffers()[2].copy_(full({2}, 1 + tiny * (r + 1), {.dtype = kFloat64}));
      net->buffers()[3].copy_(tensor(std::vector<int64_t>{big + r + 1}));
    }
    ddp(batch(0, 4).first);
    int from = on ? 0 : r;
    float stats = on ? 1.0f : float(r + 1), count = on ? 3.0f : float(10 * r + 3);
    test::check_values(net->buffers()[0], {stats, stats, stats, stats});
    test::check_values(net->buffers()[1], {count});
    double mean = 1 + tiny * (from + 1);
    CHECK(net->buffers()[2].to_vector<double>() == std::vector<double>{mean, mean});
    CHECK(net->buffers()[3].to_vector<int64_t>() == std::vector<int64_t>{big + from + 1});
  }
}

TEST_CASE("DDP: a recorded backward (create_graph) is refused on every rank") {
  auto net = make_net(8);
  dist::DistributedDataParallel ddp(net);
  auto [x, y] = batch(1, 4);
  CHECK_THROWS_CONTAINING(F::cross_entropy(ddp(x), y).backward({}, true, true),
                          "DistributedDataParallel: a recorded gradient (create_graph) cannot "
                          "be averaged across processes");
  ddp.zero_grad();  // the wrapper is still usable: the refusal came before any all-reduce
  F::cross_entropy(ddp(x), y).backward();
  CHECK(ddp.last_backward_stats().started_during_backward == 1);
}

TEST_CASE("DDP: a null module is refused") {
  CHECK_THROWS_CONTAINING(dist::DistributedDataParallel(nullptr),
                          "DistributedDataParallel: the module is null");
}
