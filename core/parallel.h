// One setting for every thread pool in the process. OpenBLAS is linked in its
// OpenMP flavour, so GEMM and our own parallel loops share libgomp's pool:
// never two pools busy-waiting on the same cores.
#pragma once

namespace tg {

/// Sets the threads used by GEMM and by tapegrad's own parallel loops.
void set_num_threads(int n);
/// The current thread count.
int get_num_threads();

}  // namespace tg
