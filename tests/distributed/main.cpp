// The doctest runner of the distributed suites, one per MPI rank: `mpirun -np 2 --oversubscribe
// build/tests/distributed/tapegrad_distributed_tests` (scripts/test.sh does). Rank 0 reports;
// the other ranks' reports are printed only when they failed. Every rank exits with the
// worst rank's result, so mpirun's exit code says whether all passed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#define OMPI_SKIP_MPICXX 1  // the C API only (the C++ bindings are deprecated and warn)
#include <mpi.h>

#include <cstdio>
#include <sstream>

#include <tapegrad/core/parallel.h>
#include <tapegrad/distributed/environment.h>

int main(int argc, char** argv) {
  tg::distributed::Environment env(argc, argv);
  tg::set_num_threads(1);  // one thread per rank: the ranks share the cores
  int rank = tg::distributed::rank();
  doctest::Context context(argc, argv);
  std::ostringstream quiet;
  if (rank != 0) context.setCout(&quiet);
  int failed = context.run();
  if (rank != 0 && failed) std::fprintf(stderr, "rank %d:\n%s", rank, quiet.str().c_str());
  int worst = failed;
  MPI_Allreduce(&failed, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return worst;
}
