// Starting and ending MPI, and the failure policy of run(): one failing rank ends the job.
#include <tapegrad/distributed/environment.h>

#include <cstdio>
#include <exception>

#include <tapegrad/distributed/detail/mpi_call.h>

namespace tg::distributed {

namespace detail {

MPI_Comm world(const char* op) {
  check(is_initialized(),
        "{}: MPI is not initialized; hint: create a distributed::Environment first (or use "
        "distributed::run), and start the program with mpirun",
        op);
  return MPI_COMM_WORLD;
}

}  // namespace detail

namespace {

bool finalized() {
  int done = 0;
  MPI_Finalized(&done);
  return done != 0;
}

// Funneled: only the main thread calls MPI (OpenMP's workers never do).
bool start(int* argc, char*** argv) {
  check(!finalized(), "Environment: MPI was already finalized and cannot be started again");
  if (is_initialized()) return false;
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    fail("Environment: MPI_Init_thread failed");
  // Errors come back as return codes (turned into tg::Error), not as an abort inside MPI.
  detail::mpi_call(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "Environment");
  return true;
}

}  // namespace

Environment::Environment(int& argc, char**& argv) : owner_(start(&argc, &argv)) {}
Environment::Environment() : owner_(start(nullptr, nullptr)) {}
Environment::~Environment() {
  if (owner_ && !finalized()) MPI_Finalize();
}

bool is_initialized() {
  int done = 0;
  MPI_Initialized(&done);
  return done != 0 && !finalized();
}

int rank() {
  int r = 0;
  detail::mpi_call(MPI_Comm_rank(detail::world("rank"), &r), "rank");
  return r;
}

int world_size() {
  int n = 0;
  detail::mpi_call(MPI_Comm_size(detail::world("world_size"), &n), "world_size");
  return n;
}

void barrier() { detail::mpi_call(MPI_Barrier(detail::world("barrier")), "barrier"); }

void abort(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  if (is_initialized()) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

int run(int argc, char** argv, const std::function<int(int, char**)>& main_body) {
  Environment env(argc, argv);
  int code = 0;
  try {
    code = main_body(argc, argv);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "rank %d: error: %s\n", rank(), e.what());
    abort(1);
  } catch (...) {
    std::fflush(stdout);
    std::fprintf(stderr, "rank %d: error: an exception that is not a std::exception\n", rank());
    abort(1);
  }
  if (code != 0 && world_size() > 1) abort(code);
  return code;
}

}  // namespace tg::distributed
