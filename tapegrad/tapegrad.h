// tapegrad: a small, readable and fast deep-learning framework.
//
//   #include <tapegrad/tapegrad.h>
//   tg::Tensor w = tg::randn({5, 1}, {.requires_grad = true});
//   tg::Tensor loss = (X.matmul(w) - y).pow(2).mean();
//   loss.backward();   // replays the tape; w.grad() now holds dloss/dw
//
// This umbrella header includes every public header of the library.
#pragma once

#include "core/error.h"
#include "core/shape.h"
#include "core/tensor.h"
