// The PyTorch reference values of the index, logsumexp, matmul and indexing suites: named
// arrays in tests/autograd/fixtures/ops.json (written by make_ops_fixtures.py beside it), and
// check_against_torch, which runs a function on a case's inputs and compares its output and
// the gradients of sum(u * f(inputs)) with PyTorch's.
#pragma once

#include <string>
#include <vector>

#include <tapegrad/autograd/forward.h>
#include <tapegrad/autograd/tensor.h>
#include "tests/json_fixture.h"
#include "tests/nn/fixture.h"  // mismatch, TG_CHECK_CLOSE

namespace tg::test {

/// The array `name` of ops.json as a tensor of its shape (the file is read once).
inline Tensor ops_array(const std::string& name) {
  static const JsonFixture arrays =
      JsonFixture::load(std::string(TG_TEST_DIR) + "/autograd/fixtures/ops.json")["arrays"];
  const JsonFixture a = arrays[name];
  std::vector<int64_t> dims = a["shape"].integers();
  std::vector<float> data = a["data"].floats();  // exact float32 values
  return tensor(data, Shape(std::span(dims)));
}

/// Case `name` of ops.json: f on its inputs name.x0, name.x1, ... gives name.y, and the
/// gradients of sum(name.u * f) are name.grad0, name.grad1, ...
inline void check_against_torch(const std::string& name, int inputs, const TensorFunction& f,
                                float rtol = 1e-5f, float atol = 1e-5f) {
  INFO("case ", name);
  std::vector<Tensor> xs;
  for (int i = 0; i < inputs; ++i)
    xs.push_back(ops_array(fmt::format("{}.x{}", name, i)).requires_grad_());
  Tensor y = f(xs);
  TG_CHECK_CLOSE(y, ops_array(name + ".y"), rtol, atol);
  (y * ops_array(name + ".u")).sum().backward();
  for (int i = 0; i < inputs; ++i)
    TG_CHECK_CLOSE(xs[i].grad(), ops_array(fmt::format("{}.grad{}", name, i)), rtol, atol);
}

}  // namespace tg::test
