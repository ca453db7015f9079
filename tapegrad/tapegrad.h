// tapegrad: a small, readable and fast deep-learning framework.
//
//   #include <tapegrad/tapegrad.h>
//   using namespace tg;
//   Tensor w = randn({5, 1}, {.requires_grad = true});
//   Tensor loss = (X.matmul(w) - y).pow(2).mean();
//   loss.backward();                  // replays the tape; w.grad() = dloss/dw
//   { NoGradGuard g; w -= 0.1f * w.grad(); }
//
// Read in this order: core/tensor.h (the Tensor), autograd/node.h (the tape),
// autograd/engine.cpp (backward), autograd/ops_*.cpp (one place per op).
// This umbrella header includes every public header of the library.
#pragma once

#include "autograd/anomaly.h"
#include "autograd/dual.h"
#include "autograd/forward.h"
#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "autograd/node.h"
#include "autograd/tangent.h"
#include "autograd/tape.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/print.h"
#include "core/random.h"
#include "core/shape.h"
#include "core/tensor.h"
#include "nn/activation.h"
#include "nn/conv.h"
#include "nn/functional.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/module.h"
#include "nn/norm.h"
#include "nn/pool.h"
#include "nn/sequential.h"
#include "nn/serialize.h"
#include "optim/adadelta.h"
#include "optim/adagrad.h"
#include "optim/adam.h"
#include "optim/adamax.h"
#include "optim/clip.h"
#include "optim/curvature.h"
#include "optim/lbfgs.h"
#include "optim/least_squares.h"
#include "optim/lr_scheduler.h"
#include "optim/nadam.h"
#include "optim/newton.h"
#include "optim/optimizer.h"
#include "optim/rmsprop.h"
#include "optim/serialize.h"
#include "optim/sgd.h"
#include "optim/yogi.h"
