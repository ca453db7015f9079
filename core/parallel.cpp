// set_num_threads: OpenMP and OpenBLAS (OpenMP build) together.
#include <tapegrad/core/parallel.h>

#include <cblas.h>
#include <omp.h>

#include <tapegrad/core/error.h>

namespace tg {

void set_num_threads(int n) {
  check(n >= 1, "set_num_threads: need at least 1 thread, got {}", n);
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

int get_num_threads() { return omp_get_max_threads(); }

}  // namespace tg
