// Internal to nn/ (not installed): what conv.cpp and conv_transpose.cpp share. The per-image
// loop over the OpenMP pool with per-thread scratch buffers, and conv2d's weight-gradient
// kernel, which conv_transpose2d's backward reuses: the transposed convolution's weight
// gradient is conv2d's with the input and the output gradient swapped.
#pragma once

#include <omp.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include <tapegrad/autograd/tensor.h>
#include <tapegrad/nn/functional.h>

namespace tg::nn::detail {

/// A growing scratch buffer of T per thread and slot (libgomp keeps its threads, so it is
/// reused).
template <typename T = float>
T* conv_scratch(size_t elements, int slot) {
  thread_local std::vector<T> buffers[2];
  std::vector<T>& b = buffers[slot];
  if (b.size() < elements) b.resize(elements);
  return b.data();
}

/// How for_each_image hands images to threads. Dynamic: one at a time, to whichever thread is
/// free (on this shared machine a static split left one thread waiting 13-16% of a LeNet step,
/// and dynamic measured 5-10% faster); for bodies whose result does not depend on the thread.
/// Static: thread t always gets the same contiguous range, so per-thread partial sums (weight
/// gradients) add up in the same order on every run.
enum class Schedule { Dynamic, Static };

/// Runs body(n, thread) for each image: spread over the OpenMP pool when there is an
/// image per thread (OpenBLAS then runs each GEMM single-threaded, as wanted), else
/// serially so that OpenBLAS may thread each GEMM itself. Returns the threads used.
template <typename F>
int for_each_image(int64_t images, F&& body, Schedule schedule = Schedule::Dynamic) {
  int threads = omp_get_max_threads();
  if (threads > 1 && images >= threads && !omp_in_parallel()) {
    if (schedule == Schedule::Dynamic) {
#pragma omp parallel for schedule(dynamic) num_threads(threads)
      for (int64_t n = 0; n < images; ++n) body(n, omp_get_thread_num());
    } else {
#pragma omp parallel for schedule(static) num_threads(threads)
      for (int64_t n = 0; n < images; ++n) body(n, omp_get_thread_num());
    }
    return threads;
  }
  for (int64_t n = 0; n < images; ++n) body(n, 0);
  return 1;
}

/// dL/dw of conv2d(input, w, stride, padding, dilation, groups) given dL/dy = grad_output
/// [N, OC, OH', OW'], where OH' x OW' may be smaller than conv2d's output (the windows past it
/// count as zero gradient). A raw kernel (im2col + GEMM per image): no double backward.
/// float32 or float64; all three tensors of one dtype.
Tensor conv2d_weight_grad(const Tensor& input, const Tensor& grad_output, const Tensor& weight,
                          functional::Size2 stride, functional::Size2 padding,
                          functional::Size2 dilation, int64_t groups);

/// PyTorch's _ConvNd.reset_parameters(): weight from kaiming_uniform_(a = sqrt(5)), i.e.
/// U(+-1/sqrt(fan_in)) with fan_in = weight.size(1) * kernel size, and the bias (if defined)
/// from U(+-1/sqrt(fan_in)). Shared by Conv1d, Conv2d and ConvTranspose2d.
void init_conv(Tensor& weight, Tensor& bias);

}  // namespace tg::nn::detail
