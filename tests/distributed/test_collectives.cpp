// Collectives across the ranks of the job (run under mpirun with 2 or more processes): values
// worked out from each rank's known contribution, and errors raised on every rank at once.
#include <cmath>

#include <tapegrad/distributed/collectives.h>
#include <tapegrad/distributed/detail/mpi_call.h>
#include <tapegrad/distributed/environment.h>
#include "tests/test_util.h"

using namespace tg;
namespace dist = tg::distributed;

namespace {

// Rank r holds [r + 1, -(r + 1), 10 r]: sums and extremes have closed forms.
Tensor contribution(int r) { return tensor({float(r + 1), -float(r + 1), 10.0f * float(r)}); }

// The same in float64 and int64, around values float32 cannot hold (1 + 2^-40, 2^53): a
// collective that went through floats would round them.
const double kTiny = std::ldexp(1.0, -40);
const int64_t kBig = int64_t(1) << 53;
Tensor contribution64(int r) {
  std::vector<double> v{1 + kTiny * (r + 1), -double(r + 1), kTiny * r};
  return tensor(v, {3}, {.dtype = kFloat64});
}
Tensor contribution_int(int r) { return tensor(std::vector<int64_t>{kBig + r + 1, -3 * (r + 1)}); }

}  // namespace

TEST_CASE("distributed: rank and world_size") {
  int n = dist::world_size(), r = dist::rank();
  CHECK(n >= 2);  // the suite is meant for mpirun -np 2 or more
  CHECK(r >= 0);
  CHECK(r < n);
  CHECK(dist::is_initialized());
  Tensor ranks = tensor({float(r)});
  dist::all_reduce(ranks);
  CHECK(ranks.item() == float(n * (n - 1) / 2));  // 0 + 1 + ... + n-1: every rank is distinct
  dist::barrier();
}

TEST_CASE("distributed: all_reduce sum, mean, max, min") {
  int n = dist::world_size(), r = dist::rank();
  float s = float(n * (n + 1) / 2);  // sum of r + 1 over the ranks
  Tensor t = contribution(r);
  dist::all_reduce(t, dist::ReduceOp::Sum);
  test::check_values(t, {s, -s, 10.0f * (s - float(n))});
  t = contribution(r);
  dist::all_reduce(t, dist::ReduceOp::Mean);
  test::check_values(t, {s / float(n), -s / float(n), 10.0f * (s - float(n)) / float(n)});
  t = contribution(r);
  dist::all_reduce(t, dist::ReduceOp::Max);
  test::check_values(t, {float(n), -1.0f, 10.0f * float(n - 1)});
  t = contribution(r);
  dist::all_reduce(t, dist::ReduceOp::Min);
  test::check_values(t, {1.0f, -float(n), 0.0f});
  Tensor m = contribution(r).reshape({3, 1});  // any shape, in place
  uint64_t version = m.version();
  dist::all_reduce(m);
  CHECK(m.version() > version);  // an in-place write, seen by autograd's version check
  CHECK(m.shape() == Shape{3, 1});
}

TEST_CASE("distributed: all_reduce on float64 and int64 tensors gives the exact values") {
  int n = dist::world_size(), r = dist::rank();
  double s = double(n * (n + 1) / 2), pairs = double(n * (n - 1) / 2);
  Tensor t = contribution64(r);
  dist::all_reduce(t, dist::ReduceOp::Sum);
  CHECK(t.dtype() == kFloat64);
  CHECK(t.to_vector<double>() == std::vector<double>{n + kTiny * s, -s, kTiny * pairs});
  t = contribution64(r);
  dist::all_reduce(t, dist::ReduceOp::Mean);  // the sum times 1 / n, in double
  double scale = 1.0 / n;
  CHECK(t.to_vector<double>() ==
        std::vector<double>{(n + kTiny * s) * scale, -s * scale, kTiny * pairs * scale});
  t = contribution64(r);
  dist::all_reduce(t, dist::ReduceOp::Max);
  CHECK(t.to_vector<double>() == std::vector<double>{1 + kTiny * n, -1, kTiny * (n - 1)});
  t = contribution64(r);
  dist::all_reduce(t, dist::ReduceOp::Min);
  CHECK(t.to_vector<double>() == std::vector<double>{1 + kTiny, -double(n), 0});

  int64_t k = n * (n + 1) / 2;  // n 2^53 + k: no double holds it (2^54 + 3 for two ranks)
  Tensor i = contribution_int(r);
  dist::all_reduce(i);
  CHECK(i.dtype() == kInt64);
  CHECK(i.to_vector<int64_t>() == std::vector<int64_t>{n * kBig + k, -3 * k});
  i = contribution_int(r);
  dist::all_reduce(i, dist::ReduceOp::Max);
  CHECK(i.to_vector<int64_t>() == std::vector<int64_t>{kBig + n, -3});
  i = contribution_int(r);
  dist::all_reduce(i, dist::ReduceOp::Min);
  CHECK(i.to_vector<int64_t>() == std::vector<int64_t>{kBig + 1, -3 * n});
  // PyTorch does not average integers either: refused on every rank, nothing written.
  i = contribution_int(r);
  CHECK_THROWS_CONTAINING(dist::all_reduce(i, dist::ReduceOp::Mean),
                          "all_reduce: Mean needs a float tensor, got int64");
  CHECK(i.to_vector<int64_t>() == contribution_int(r).to_vector<int64_t>());
}

TEST_CASE("distributed: broadcast from any root") {
  int n = dist::world_size(), r = dist::rank();
  for (int root = 0; root < n; ++root) {
    Tensor t = contribution(r);
    dist::broadcast(t, root);
    test::check_values(t, contribution(root).to_vector());
    Tensor d = contribution64(r), i = contribution_int(r);  // exactly, in their own dtypes
    dist::broadcast(d, root);
    dist::broadcast(i, root);
    CHECK(d.to_vector<double>() == contribution64(root).to_vector<double>());
    CHECK(i.to_vector<int64_t>() == contribution_int(root).to_vector<int64_t>());
  }
}

TEST_CASE("distributed: all_gather_strings") {
  int n = dist::world_size(), r = dist::rank();
  std::vector<std::string> all = dist::all_gather_strings(std::string(size_t(r), 'x') + "!");
  REQUIRE(all.size() == size_t(n));
  for (int k = 0; k < n; ++k) CHECK(all[size_t(k)] == std::string(size_t(k), 'x') + "!");
}

TEST_CASE("distributed: collective errors are raised on every rank, without a hang") {
  int n = dist::world_size(), r = dist::rank();
  // Rank 0 passes 3 elements, the others 4: every rank must refuse, not only the odd one.
  Tensor t = r == 0 ? zeros({3}) : zeros({2, 2});
  CHECK_THROWS_CONTAINING(dist::all_reduce(t),
                          "all_reduce: the ranks pass tensors of different "
                          "sizes, from 3 to 4 elements");
  CHECK_THROWS_CONTAINING(dist::broadcast(t, 0),
                          "broadcast: the ranks pass tensors of different "
                          "sizes, from 3 to 4 elements");
  // Same sizes, different dtypes: MPI would reinterpret the bytes; refused on every rank.
  Tensor u = zeros({3}, {.dtype = r == 0 ? kFloat32 : kFloat64});
  std::string mine = fmt::format("(rank {}: {})", r, u.dtype());
  CHECK_THROWS_CONTAINING(dist::all_reduce(u), "all_reduce: the ranks pass tensors of different "
                                               "dtypes, float32 and float64 " + mine);
  CHECK_THROWS_CONTAINING(dist::broadcast(u, 1), "broadcast: the ranks pass tensors of different "
                                                 "dtypes, float32 and float64 " + mine);
  Tensor v = r == 0 ? zeros({2}, {.dtype = kInt64}) : zeros({2}, {.dtype = kFloat64});
  CHECK_THROWS_CONTAINING(dist::all_reduce(v, dist::ReduceOp::Mean),
                          "all_reduce: the ranks pass tensors of different dtypes, float64 and "
                          "int64");  // not the int64 Mean refusal, which only rank 0 would see
  CHECK_THROWS_CONTAINING(
      dist::broadcast(zeros({2}), n),
      fmt::format("broadcast: root {} is not a rank of a world of size {}", n, n));
  CHECK_THROWS_CONTAINING(dist::all_reduce(zeros({2, 3}).t()),
                          "all_reduce: the tensor of shape [3, 2] is not contiguous");
  CHECK_THROWS_CONTAINING(dist::all_reduce(Tensor()), "all_reduce: the tensor is undefined");
  Tensor after = ones({2});  // the collectives still line up after the errors
  dist::all_reduce(after);
  test::check_values(after, {float(n), float(n)});
}

TEST_CASE("distributed: an MPI error comes back as a tg::Error, not an abort") {
  // The communicator returns errors (MPI_ERRORS_RETURN, set by Environment): a root that is
  // no rank is refused by MPI itself on every rank, and the job goes on.
  float value = 1;
  CHECK_THROWS_CONTAINING(
      dist::detail::mpi_call(
          MPI_Bcast(&value, 1, MPI_FLOAT, dist::world_size() + 3, dist::detail::world("test")),
          "test_bcast"),
      "test_bcast: MPI error");
  CHECK_THROWS_CONTAINING(dist::detail::mpi_call(MPI_ERR_COUNT, "test_count"),
                          "test_count: MPI error");
  Tensor after = ones({1});
  dist::all_reduce(after);
  CHECK(after.item() == float(dist::world_size()));
}

TEST_CASE("distributed: a second Environment while MPI runs is a no-op") {
  {
    dist::Environment again;  // MPI is already running (main's Environment): nothing to do
    CHECK(dist::is_initialized());
  }
  CHECK(dist::is_initialized());  // and its destructor did not finalize MPI
  Tensor t = ones({1});
  dist::all_reduce(t);
  CHECK(t.item() == float(dist::world_size()));
}
