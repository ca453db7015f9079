// The history of a training run: one row of numbers per epoch (or per logged step), one named
// column per metric. It is written as CSV, drawn as SVG line charts through plot/, and read
// back from its own CSV, so a checkpoint can carry it and a resumed run continue it.
//
//   train::History history({"epoch", "train_loss", "test_loss"});
//   history.append({{"epoch", 1}, {"train_loss", 1.92}, {"test_loss", 1.71}});
//   history.append({2, 1.65, 1.58});                     // the same, in column order
//   history.write_csv("results/run.csv");
//   plot::write_svg(history.chart({.title = "loss", .x = "epoch",
//                                  .y = {"train_loss", "test_loss"}}), "results/loss.svg");
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tapegrad/plot/svg.h>

namespace tg::train {

/// What History::chart draws: columns `y` against column `x`.
struct ChartOptions {
  std::string title{};
  std::string x{};                    ///< the x column, e.g. "epoch"
  std::vector<std::string> y{};       ///< one series per column, labelled by its name
  std::string y_label{};              ///< default: the first y column's name
  bool markers = true;                ///< a dot at every row
  bool log_y = false;                 ///< log10 y axis
  std::vector<plot::Series> extra{};  ///< drawn after the columns (empty ones are left out)
};

class History {
 public:
  /// A history with these columns (at least one; unique names without commas or line breaks).
  explicit History(std::vector<std::string> columns);

  /// Adds a row: every column exactly once, in any order.
  void append(const std::vector<std::pair<std::string, double>>& row);
  /// Adds a row of values in column order, one per column.
  void append(const std::vector<double>& row);

  const std::vector<std::string>& columns() const { return names_; }
  /// Number of rows.
  int64_t size() const { return names_.empty() ? 0 : int64_t(values_[0].size()); }
  /// The values of one column, one per row.
  const std::vector<double>& column(std::string_view name) const;

  /// A header line, then one line per row; numbers to 6 significant digits.
  std::string to_csv() const;
  /// Parses what to_csv wrote; `source` names the text in errors (a file, a checkpoint).
  static History from_csv(std::string_view csv, std::string_view source);
  /// Writes to_csv() to `path` atomically.
  void write_csv(const std::string& path) const;

  /// Column y against column x as one chart series (label: `label`, or y's name).
  plot::Series series(std::string_view x, std::string_view y, std::string label = "") const;
  /// A line chart of the chosen columns.
  plot::LineChart chart(const ChartOptions& options) const;

 private:
  size_t index(std::string_view name, std::string_view op) const;

  std::vector<std::string> names_;
  std::vector<std::vector<double>> values_;  // values_[column][row]
};

/// Several runs in one CSV: a first column `key` with each run's name, then the first run's
/// columns (every run must have the same). For comparisons such as one row per optimizer.
std::string to_csv(std::string_view key, const std::vector<std::pair<std::string, History>>& runs);

}  // namespace tg::train
