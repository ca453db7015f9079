// Reader for the NASA airfoil self-noise table (UCI ML repository): 1503 rows x 6 columns
// (frequency Hz, angle of attack deg, chord length m, free-stream velocity m/s, suction-side
// displacement thickness m, scaled sound pressure level dB), the regression data of the
// course's optimization chapter. Returns a row-major float table: one copy makes it a Tensor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tapegrad/core/shape.h>

namespace tg::data {

/// A row-major table of floats: the value in row r, column c is values[r * cols + c].
struct Table {
  std::vector<float> values{};  // "{}" keeps g++ 12 quiet about designated initializers
  int64_t rows = 0, cols = 0;

  /// The tensor shape of `values`: [rows, cols].
  Shape shape() const { return {rows, cols}; }
};

/// Columns of the airfoil table: 5 features, then the target (sound pressure level).
inline constexpr int64_t kAirfoilCols = 6;

/// Reads the airfoil table; keeps the first `max_rows` rows when max_rows >= 0.
/// Fields are separated by tabs or spaces; CRLF or LF line ends; trailing blank lines are fine.
///
/// The course (d2l, get_data_ch11) standardizes all 1503 rows and only then keeps the first
/// 1500; to match it exactly read every row, call standardize_columns, then drop the last 3.
Table read_airfoil(const std::string& path, int64_t max_rows = -1);

/// Scales every column to zero mean and unit *population* std (divides by rows, not rows - 1),
/// like numpy's `(x - x.mean(axis=0)) / x.std(axis=0)` in the course. Throws on a constant column.
void standardize_columns(Table& table);

}  // namespace tg::data
