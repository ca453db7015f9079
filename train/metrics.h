// Classification metrics: a confusion matrix counted batch by batch, giving the accuracy, the
// accuracy of each class (its recall) and the tables a course prints at the end of training.
//
//   train::ConfusionMatrix cm(classes);                   // class names, e.g. from the data set
//   for (auto [x, y] : test_loader) cm.update(net(x), y);  // logits [N, C], labels [N]
//   fmt::print("accuracy {:.2f}%\n{}", cm.accuracy(), cm.table());
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tapegrad/autograd/tensor.h>

namespace tg::train {

class ConfusionMatrix {
 public:
  /// An empty matrix over these classes (at least one).
  explicit ConfusionMatrix(std::vector<std::string> classes);

  /// Counts a batch: the prediction is the argmax of each row of `logits` [N, C], against the
  /// class indices in `labels` [N].
  void update(const Tensor& logits, const Tensor& labels);
  /// Counts one example of class `truth` predicted as `predicted`.
  void add(int64_t truth, int64_t predicted);

  /// Examples of class `truth` predicted as `predicted`.
  int64_t count(int64_t truth, int64_t predicted) const;
  int64_t total() const { return total_; }
  int64_t correct() const;
  /// Correct predictions in percent of all (0 when empty).
  double accuracy() const;
  /// Correct predictions of class c in percent of its examples (0 when it has none).
  double class_accuracy(int64_t c) const;
  const std::vector<std::string>& classes() const { return classes_; }

  /// The accuracy of each class, then the matrix (rows: true class, columns: predicted).
  std::string table() const;
  /// The matrix as CSV: a header of class names, then one row per true class.
  std::string to_csv() const;

 private:
  std::vector<std::string> classes_;
  std::vector<int64_t> counts_;  // [truth * C + predicted]
  int64_t total_ = 0;
};

}  // namespace tg::train
