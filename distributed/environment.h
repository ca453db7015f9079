// The MPI process group: Environment starts MPI and ends it (RAII), rank() and world_size()
// say where this process stands, barrier() waits for all. PyTorch's init_process_group /
// destroy_process_group, get_rank, get_world_size and barrier, with MPI as the backend: the
// processes are started by `mpirun -np N program` (or srun), which also tells each its rank.
//
//   int main(int argc, char** argv) {
//     return tg::distributed::run(argc, argv, [](int argc, char** argv) {
//       ... train, with DistributedDataParallel and DistributedSampler ...
//       return 0;
//     });
//   }
#pragma once

#include <functional>

namespace tg::distributed {

/// Initialises MPI on construction and finalises it on destruction (if this object started
/// it). MPI runs once per process: a second Environment while one lives is a no-op, and MPI
/// cannot be started again after it was finalised (tg::Error).
class Environment {
 public:
  Environment(int& argc, char**& argv);
  Environment();  ///< without the command line (MPI allows it)
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

 private:
  bool owner_ = false;
};

/// True between MPI's initialisation and its finalisation.
bool is_initialized();
/// This process's index in [0, world_size()). torch.distributed.get_rank.
int rank();
/// The number of processes in the job. torch.distributed.get_world_size.
int world_size();
/// Returns once every process has called it. torch.distributed.barrier.
void barrier();
/// Ends the whole job at once with `code` (MPI_Abort): what a rank does when it cannot go
/// on, since the others would otherwise wait for it in their next collective forever.
[[noreturn]] void abort(int code);

/// Runs main_body(argc, argv) inside an Environment. When it throws on any rank, that rank
/// prints "rank R: error: <message>" to stderr and aborts the job (exit code 1); when it
/// returns non-zero with more than one process (a main that caught its own error, like
/// train::guarded_main), the job is aborted with that code. Returns main_body's result.
int run(int argc, char** argv, const std::function<int(int, char**)>& main_body);

}  // namespace tg::distributed
