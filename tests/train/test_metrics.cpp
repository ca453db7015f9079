// Tests of the confusion matrix: counts from logits and labels, accuracy overall and per
// class, the printed table and the CSV, and every error message.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <tapegrad/autograd/tensor.h>
#include <tapegrad/train/metrics.h>
#include "tests/test_util.h"

namespace {

using tg::test::error_of;
using tg::train::ConfusionMatrix;

}  // namespace

TEST_CASE("ConfusionMatrix counts argmax predictions against labels") {
  ConfusionMatrix cm({"cat", "dog", "ship"});
  // Predictions (row argmax): 0, 2, 1, 1, 2; labels: 0, 1, 1, 2, 2.
  tg::Tensor logits = tg::tensor({3, 1, 0, 0, 1, 2, 0, 5, 1, -1, 2, 0, 0, 0, 9}, {5, 3});
  cm.update(logits, tg::tensor({0, 1, 1, 2, 2}, {5}));
  CHECK(cm.total() == 5);
  CHECK(cm.correct() == 3);
  CHECK(cm.accuracy() == doctest::Approx(60));
  CHECK(cm.count(1, 2) == 1);
  CHECK(cm.count(2, 1) == 1);
  CHECK(cm.count(0, 0) == 1);
  CHECK(cm.class_accuracy(0) == doctest::Approx(100));
  CHECK(cm.class_accuracy(1) == doctest::Approx(50));
  CHECK(cm.class_accuracy(2) == doctest::Approx(50));
  cm.add(2, 2);
  CHECK(cm.class_accuracy(2) == doctest::Approx(200.0 / 3));
  CHECK(cm.to_csv() == "true\\predicted,cat,dog,ship\ncat,1,0,0\ndog,0,1,1\nship,0,1,2\n");
  CHECK(cm.table() ==
        "class        accuracy\n"
        "cat            100.0%\n"
        "dog             50.0%\n"
        "ship            66.7%\n"
        "\n"
        "confusion matrix (rows: true class, columns: predicted class)\n"
        "               cat   dog  ship\n"
        "cat              1     0     0\n"
        "dog              0     1     1\n"
        "ship             0     1     2\n");
}

TEST_CASE("ConfusionMatrix: int64 labels (what the datasets give) count as float ones do") {
  ConfusionMatrix a({"cat", "dog", "ship"}), b({"cat", "dog", "ship"});
  tg::Tensor logits = tg::tensor({3, 1, 0, 0, 1, 2, 0, 5, 1, -1, 2, 0, 0, 0, 9}, {5, 3});
  a.update(logits, tg::tensor(std::vector<int64_t>{0, 1, 1, 2, 2}, {5}));
  b.update(logits, tg::tensor({0, 1, 1, 2, 2}, {5}));
  CHECK(a.correct() == 3);
  CHECK(a.to_csv() == b.to_csv());
}

TEST_CASE("ConfusionMatrix: an empty matrix and empty classes give 0 percent") {
  ConfusionMatrix cm({"a", "b"});
  CHECK(cm.accuracy() == 0);
  CHECK(cm.class_accuracy(1) == 0);
}

TEST_CASE("ConfusionMatrix: every error names what is wrong") {
  CHECK(error_of([] { ConfusionMatrix({}); }) == "ConfusionMatrix: no classes");
  ConfusionMatrix cm({"a", "b"});
  CHECK(error_of([&] {
          cm.update(tg::zeros({4, 3}), tg::zeros({4}));
        }) ==
        "ConfusionMatrix::update: logits of shape [4, 3] are not [N, 2] (one column per class)");
  CHECK(error_of([&] {
          cm.update(tg::zeros({4, 2}), tg::zeros({3}));
        }) == "ConfusionMatrix::update: labels of shape [3] do not match logits of shape [4, 2]");
  CHECK(error_of([&] {
          cm.update(tg::zeros({2, 2}), tg::tensor({0, 2}, {2}));
        }) == "ConfusionMatrix::update: label 2 (float32) is not a class index in [0, 2)");
  CHECK(error_of([&] {
          cm.update(tg::zeros({2, 2}), tg::tensor(std::vector<int64_t>{0, -1}, {2}));
        }) == "ConfusionMatrix::update: label -1 (int64) is not a class index in [0, 2)");
  CHECK(error_of([&] {
          cm.update(tg::zeros({2, 2}), tg::tensor({0, 0.5}, {2}));
        }) == "ConfusionMatrix::update: label 0.5 (float32) is not a class index in [0, 2)");
  CHECK(cm.total() == 0);  // refused batches count nothing
  CHECK(error_of([&] { cm.add(0, 2); }) ==
        "ConfusionMatrix::add: class 0 predicted as 2 is out of range for 2 classes");
  CHECK(error_of([&] { (void)cm.count(-1, 0); }) ==
        "ConfusionMatrix::count: class -1 predicted as 0 is out of range for 2 classes");
  CHECK(error_of([&] { (void)cm.class_accuracy(5); }) ==
        "ConfusionMatrix::class_accuracy: class 5 is out of range for 2 classes");
}
