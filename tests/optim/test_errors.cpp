// Bad hyperparameters and bad parameter lists: every optimizer throws tg::Error naming
// itself and the offending value.
#include <tapegrad/optim/adadelta.h>
#include <tapegrad/optim/adagrad.h>
#include <tapegrad/optim/adam.h>
#include <tapegrad/optim/adamax.h>
#include <tapegrad/optim/nadam.h>
#include <tapegrad/optim/rmsprop.h>
#include <tapegrad/optim/sgd.h>
#include <tapegrad/optim/yogi.h>
#include "tests/optim/optim_test_util.h"

using namespace tg;
using namespace tg::optim;

TEST_SUITE("optim") {
  TEST_CASE("bad hyperparameters name the optimizer and the value") {
    Tensor w = zeros({2}, {.requires_grad = true});
    std::vector<Tensor> p{w};
    CHECK_THROWS_CONTAINING(SGD(p, {.lr = -0.1}),
                            "SGD: invalid learning rate: -0.1 (expected a finite lr >= 0)");
    CHECK_THROWS_CONTAINING(SGD(p, {.momentum = -1}), "SGD: invalid momentum: -1");
    CHECK_THROWS_CONTAINING(SGD(p, {.weight_decay = -1e-4}), "SGD: invalid weight_decay: -0.0001");
    CHECK_THROWS_CONTAINING(SGD(p, {.nesterov = true}),
                            "SGD: nesterov momentum needs momentum > 0 and dampening = 0");
    CHECK_THROWS_CONTAINING(Adagrad(p, {.lr = -1}), "Adagrad: invalid learning rate: -1");
    CHECK_THROWS_CONTAINING(Adagrad(p, {.eps = 0}), "Adagrad: invalid eps: 0 (expected a finite eps > 0)");
    CHECK_THROWS_CONTAINING(Adagrad(p, {.lr_decay = -1}), "Adagrad: invalid lr_decay: -1");
    CHECK_THROWS_CONTAINING(RMSprop(p, {.alpha = 1}),
                            "RMSprop: invalid alpha: 1 (expected 0 <= alpha < 1)");
    CHECK_THROWS_CONTAINING(RMSprop(p, {.eps = -1e-8}), "RMSprop: invalid eps: -1e-08");
    CHECK_THROWS_CONTAINING(Adadelta(p, {.rho = 1.5}), "Adadelta: invalid rho: 1.5");
    CHECK_THROWS_CONTAINING(Adadelta(p, {.eps = 0}), "Adadelta: invalid eps: 0");
    CHECK_THROWS_CONTAINING(Adam(p, {.lr = -1e-3}), "Adam: invalid learning rate: -0.001");
    CHECK_THROWS_CONTAINING(Adam(p, {.betas = {1.0, 0.999}}),
                            "Adam: invalid beta1: 1 (expected 0 <= beta1 < 1)");
    CHECK_THROWS_CONTAINING(Adam(p, {.betas = {0.9, -0.1}}),
                            "Adam: invalid beta2: -0.1 (expected 0 <= beta2 < 1)");
    CHECK_THROWS_CONTAINING(Adam(p, {.eps = 0}), "Adam: invalid eps: 0 (expected a finite eps > 0)");
    CHECK_THROWS_CONTAINING(AdamW(p, {.betas = {0.9, 1.0}}), "AdamW: invalid beta2: 1");
    CHECK_THROWS_CONTAINING(AdamW(p, {.weight_decay = -0.01}),
                            "AdamW: invalid weight_decay: -0.01");
    CHECK_THROWS_CONTAINING(Adamax(p, {.eps = -1}), "Adamax: invalid eps: -1");
    CHECK_THROWS_CONTAINING(NAdam(p, {.betas = {1.2, 0.999}}), "NAdam: invalid beta1: 1.2");
    CHECK_THROWS_CONTAINING(NAdam(p, {.momentum_decay = -1}), "NAdam: invalid momentum_decay: -1");
    CHECK_THROWS_CONTAINING(Yogi(p, {.eps = 0}), "Yogi: invalid eps: 0");
    CHECK_THROWS_CONTAINING(Yogi(p, {.lr = -1}), "Yogi: invalid learning rate: -1");
    // A bad option in the second group is found too.
    Tensor v = zeros({1}, {.requires_grad = true});
    CHECK_THROWS_CONTAINING(Adam({{.params = {w}}, {.params = {v}, .options = {.lr = -2}}}),
                            "Adam: invalid learning rate: -2");
  }

  TEST_CASE("bad parameter lists are refused") {
    Tensor w = zeros({2, 3}, {.requires_grad = true});
    CHECK_THROWS_CONTAINING(SGD(std::vector<Tensor>{}), "SGD: parameter group 0 is empty");
    CHECK_THROWS_CONTAINING(SGD({w, w}), "SGD: parameter 1 of shape [2, 3] appears twice");
    Tensor v = zeros({2}, {.requires_grad = true});
    CHECK_THROWS_CONTAINING(Adam({{.params = {w}}, {.params = {v, w}}}),
                            "Adam: parameter 2 of shape [2, 3] appears twice");
    CHECK_THROWS_CONTAINING(
        SGD({w * 2}), "SGD: parameter 0 of shape [2, 3] is not a leaf (it was computed by 'mul')");
    Tensor base = zeros({3, 2});
    CHECK_THROWS_CONTAINING(SGD({base.t()}), "SGD: parameter 0 of shape [2, 3] is not contiguous");
    CHECK_THROWS_CONTAINING(SGD({Tensor()}), "SGD: parameter 0 is undefined");
    SGD opt({w});
    w.set_grad(zeros({2, 3}));
    CHECK_NOTHROW(opt.step());
  }

}  // TEST_SUITE("optim")
