// ConfusionMatrix: counts of (true class, predicted class) pairs and what they give.
#include <tapegrad/train/metrics.h>

#include <fmt/format.h>

#include <cmath>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/core/error.h>

namespace tg::train {

ConfusionMatrix::ConfusionMatrix(std::vector<std::string> classes)
    : classes_(std::move(classes)), counts_(classes_.size() * classes_.size(), 0) {
  check(!classes_.empty(), "ConfusionMatrix: no classes");
}

void ConfusionMatrix::add(int64_t truth, int64_t predicted) {
  auto n = int64_t(classes_.size());
  check(truth >= 0 && truth < n && predicted >= 0 && predicted < n,
        "ConfusionMatrix::add: class {} predicted as {} is out of range for {} classes", truth,
        predicted, n);
  ++counts_[size_t(truth * n + predicted)];
  ++total_;
}

void ConfusionMatrix::update(const Tensor& logits, const Tensor& labels) {
  auto n = int64_t(classes_.size());
  check(logits.dim() == 2 && logits.size(1) == n,
        "ConfusionMatrix::update: logits of shape {} are not [N, {}] (one column per class)",
        logits.shape(), n);
  check(labels.dim() == 1 && labels.size(0) == logits.size(0),
        "ConfusionMatrix::update: labels of shape {} do not match logits of shape {}",
        labels.shape(), logits.shape());
  NoGradGuard no_grad;
  std::vector<int64_t> predicted = logits.argmax(1).to_vector<int64_t>(), truth(predicted.size());
  // int64 labels (what the datasets give); floating ones must hold integers. The whole batch is
  // checked first: a bad label leaves the counts as they were.
  std::vector<double> values = labels.to_vector<double>();
  for (size_t i = 0; i < values.size(); ++i) {
    double t = values[i];
    check(t >= 0 && t < double(n) && t == std::floor(t),
          "ConfusionMatrix::update: label {} ({}) is not a class index in [0, {})", t,
          labels.dtype(), n);
    truth[i] = int64_t(t);
  }
  for (size_t i = 0; i < truth.size(); ++i) add(truth[i], predicted[i]);
}

int64_t ConfusionMatrix::count(int64_t truth, int64_t predicted) const {
  auto n = int64_t(classes_.size());
  check(truth >= 0 && truth < n && predicted >= 0 && predicted < n,
        "ConfusionMatrix::count: class {} predicted as {} is out of range for {} classes", truth,
        predicted, n);
  return counts_[size_t(truth * n + predicted)];
}

int64_t ConfusionMatrix::correct() const {
  int64_t sum = 0;
  for (size_t c = 0; c < classes_.size(); ++c) sum += counts_[c * classes_.size() + c];
  return sum;
}

double ConfusionMatrix::accuracy() const {
  return total_ ? 100.0 * double(correct()) / double(total_) : 0;
}

double ConfusionMatrix::class_accuracy(int64_t c) const {
  auto n = int64_t(classes_.size());
  check(c >= 0 && c < n, "ConfusionMatrix::class_accuracy: class {} is out of range for {} classes",
        c, n);
  int64_t row = 0;
  for (int64_t p = 0; p < n; ++p) row += counts_[size_t(c * n + p)];
  return row ? 100.0 * double(counts_[size_t(c * n + c)]) / double(row) : 0;
}

std::string ConfusionMatrix::table() const {
  auto n = int64_t(classes_.size());
  std::string s = fmt::format("{:<12} {:>8}\n", "class", "accuracy");
  for (int64_t c = 0; c < n; ++c)
    s += fmt::format("{:<12} {:>7.1f}%\n", classes_[size_t(c)], class_accuracy(c));
  s += fmt::format("\nconfusion matrix (rows: true class, columns: predicted class)\n{:<12}", "");
  for (const std::string& name : classes_) s += fmt::format(" {:>5.5}", name);
  s += '\n';
  for (int64_t c = 0; c < n; ++c) {
    s += fmt::format("{:<12}", classes_[size_t(c)]);
    for (int64_t p = 0; p < n; ++p) s += fmt::format(" {:>5}", counts_[size_t(c * n + p)]);
    s += '\n';
  }
  return s;
}

std::string ConfusionMatrix::to_csv() const {
  auto n = int64_t(classes_.size());
  std::string csv = fmt::format("true\\predicted,{}\n", fmt::join(classes_, ","));
  for (int64_t c = 0; c < n; ++c) {
    csv += classes_[size_t(c)];
    for (int64_t p = 0; p < n; ++p) csv += fmt::format(",{}", counts_[size_t(c * n + p)]);
    csv += '\n';
  }
  return csv;
}

}  // namespace tg::train
