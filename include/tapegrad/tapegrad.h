// tapegrad: a small, readable and fast deep-learning framework.
//
//   #include <tapegrad/tapegrad.h>
//   using namespace tg;
//   Tensor w = randn({5, 1}, {.requires_grad = true});
//   Tensor loss = (X.matmul(w) - y).pow(2).mean();
//   loss.backward();                  // replays the tape; w.grad() = dloss/dw
//   { NoGradGuard g; w -= 0.1f * w.grad(); }
//
// Read in this order: core/tensor_base.h and autograd/tensor.h (the Tensor), autograd/node.h
// (the tape), autograd/engine.cpp (backward), autograd/ops_*.cpp (one place per op).
// This umbrella header includes every public (installed) header of the library;
// scripts/test.sh checks that it reaches each one.
#pragma once

#include <tapegrad/core/allocator.h>
#include <tapegrad/core/atomic_file.h>
#include <tapegrad/core/conv3x3.h>
#include <tapegrad/core/cpu.h>
#include <tapegrad/core/error.h>
#include <tapegrad/core/fft.h>
#include <tapegrad/core/im2col.h>
#include <tapegrad/core/kernels.h>
#include <tapegrad/core/parallel.h>
#include <tapegrad/core/print.h>
#include <tapegrad/core/random.h>
#include <tapegrad/core/safetensors.h>
#include <tapegrad/core/shape.h>
#include <tapegrad/core/tensor_base.h>
#include <tapegrad/core/winograd3x3.h>

#include <tapegrad/plot/svg.h>
#include <tapegrad/plot/png.h>

#include <tapegrad/autograd/anomaly.h>
#include <tapegrad/autograd/dual.h>
#include <tapegrad/autograd/fft.h>
#include <tapegrad/autograd/forward.h>
#include <tapegrad/autograd/forward_trace.h>
#include <tapegrad/autograd/grad.h>
#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/gradcheck.h>
#include <tapegrad/autograd/hook_handle.h>
#include <tapegrad/autograd/hooks.h>
#include <tapegrad/autograd/indexing.h>
#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/state_dict.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/autograd/tape.h>
#include <tapegrad/autograd/tensor.h>

#include <tapegrad/nn/activation.h>
#include <tapegrad/nn/container.h>
#include <tapegrad/nn/conv.h>
#include <tapegrad/nn/conv_transpose.h>
#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/fusion.h>
#include <tapegrad/nn/init.h>
#include <tapegrad/nn/linear.h>
#include <tapegrad/nn/loss.h>
#include <tapegrad/nn/module.h>
#include <tapegrad/nn/norm.h>
#include <tapegrad/nn/padding.h>
#include <tapegrad/nn/pool.h>
#include <tapegrad/nn/resnet.h>
#include <tapegrad/nn/sequential.h>
#include <tapegrad/nn/unet.h>
#include <tapegrad/nn/upsample.h>

#include <tapegrad/optim/adadelta.h>
#include <tapegrad/optim/adagrad.h>
#include <tapegrad/optim/adam.h>
#include <tapegrad/optim/adamax.h>
#include <tapegrad/optim/clip.h>
#include <tapegrad/optim/curvature.h>
#include <tapegrad/optim/lbfgs.h>
#include <tapegrad/optim/least_squares.h>
#include <tapegrad/optim/lr_scheduler.h>
#include <tapegrad/optim/nadam.h>
#include <tapegrad/optim/newton.h>
#include <tapegrad/optim/optimizer.h>
#include <tapegrad/optim/prox_tv.h>
#include <tapegrad/optim/rmsprop.h>
#include <tapegrad/optim/sgd.h>
#include <tapegrad/optim/yogi.h>

#include <tapegrad/data/airfoil.h>
#include <tapegrad/data/cifar10.h>
#include <tapegrad/data/dataloader.h>
#include <tapegrad/data/dataset.h>
#include <tapegrad/data/image_folder.h>
#include <tapegrad/data/image_set.h>
#include <tapegrad/data/mnist.h>
#include <tapegrad/data/sampler.h>
#include <tapegrad/data/transforms.h>

#include <tapegrad/train/checkpoint.h>
#include <tapegrad/train/cli.h>
#include <tapegrad/train/history.h>
#include <tapegrad/train/image_quality.h>
#include <tapegrad/train/metrics.h>
#include <tapegrad/train/progress.h>
#include <tapegrad/train/recipe.h>

// Data parallelism over MPI (distributed/, its own library tapegrad_distributed, pkg-config
// tapegrad-distributed): its headers are installed only when it was built with MPI.
#if __has_include(<tapegrad/distributed/ddp.h>)
#include <tapegrad/distributed/collectives.h>
#include <tapegrad/distributed/ddp.h>
#include <tapegrad/distributed/environment.h>
#endif
