// Formatting with fmt's light <fmt/core.h> only (no <fmt/format.h> in this file): the headers
// most code includes must print shapes and tensors and build error messages on their own,
// and the messages come out of the one out-of-line formatting function (core/error.cpp).
#include <doctest/doctest.h>
#include <fmt/core.h>

#include <string>

#include <tapegrad/autograd/tensor.h>
#include <tapegrad/core/error.h>
#include <tapegrad/core/shape.h>
#include "tests/test_util.h"

#ifdef FMT_FORMAT_H_
#error "this test must not see <fmt/format.h>: it checks that <fmt/core.h> is enough"
#endif

using tg::test::error_of;

TEST_CASE("format: shapes print as [2, 3] through fmt/core.h") {
  CHECK(fmt::format("{}", tg::Shape{2, 3}) == "[2, 3]");
  CHECK(fmt::format("{}", tg::Shape{7}) == "[7]");
  CHECK(fmt::format("{}", tg::Shape{}) == "[]");
  CHECK(fmt::format("a {} b", tg::Shape{1, 1, 4}) == "a [1, 1, 4] b");
}

TEST_CASE("format: tensors print as to_string says through fmt/core.h") {
  tg::Tensor t = tg::tensor({1, 2, 3}, {3});
  CHECK(fmt::format("{}", t) == tg::to_string(t));
  CHECK(fmt::format("{}", t).rfind("tensor([1., 2., 3.]", 0) == 0);
}

TEST_CASE("format: check and fail build the message from every argument") {
  CHECK(error_of([] { tg::fail("op: shapes {} and {} differ", tg::Shape{2, 3}, tg::Shape{4}); }) ==
        "op: shapes [2, 3] and [4] differ");
  CHECK(error_of([] { tg::check(1 + 1 == 3, "op: {} is {:.2f}, {} expected", "x", 0.5, 2); }) ==
        "op: x is 0.50, 2 expected");
  CHECK(error_of([] { tg::check(true, "op: never {}", 1); }) == "(no error)");
  std::string name = "layer";  // an lvalue argument, and a string with braces in its value
  CHECK(error_of([&] { tg::fail("{}: '{}'", name, std::string("{}")); }) == "layer: '{}'");
}
