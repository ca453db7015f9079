// What tests/distributed/run.sh runs under mpirun to check the failure policy:
//   distributed_failure throw    rank 1 throws: the job must end with its message, non-zero
//   distributed_failure kill     rank 1 is killed (SIGKILL) while rank 0 waits in all_reduce
//   distributed_failure ok       every rank all-reduces and exits 0 (the control case)
//   distributed_failure lifecycle   (one process, no mpirun) the errors of a call before MPI
//                                   starts and of a second start after it ended
// Without distributed::run's abort, the first two would hang in rank 0's collective.
#include <csignal>
#include <cstdio>
#include <string>

#include <tapegrad/core/error.h>
#include <tapegrad/distributed/collectives.h>
#include <tapegrad/distributed/environment.h>

namespace dist = tg::distributed;

// Prints each expected error's message; run.sh checks them.
int lifecycle() {
  auto expect_error = [](auto&& f) {
    try {
      f();
      std::printf("no error\n");
    } catch (const tg::Error& e) {
      std::printf("%s\n", e.what());
    }
  };
  expect_error([] { dist::rank(); });
  { dist::Environment env; }
  expect_error([] { dist::Environment again; });
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "lifecycle") return lifecycle();
  return dist::run(argc, argv, [](int argc, char** argv) {
    std::string mode = argc > 1 ? argv[1] : "ok";
    tg::Tensor t = tg::ones({4});
    dist::all_reduce(t);  // every rank is up
    if (dist::rank() == 1 && mode == "throw") tg::fail("rank 1 failed on purpose (mode {})", mode);
    if (dist::rank() == 1 && mode == "kill") std::raise(SIGKILL);
    for (int i = 0; i < 3; ++i) dist::all_reduce(t);  // rank 0 waits here for rank 1
    if (dist::rank() == 0) std::printf("all ranks finished, sum %g\n", double(t.data()[0]));
    return 0;
  });
}
