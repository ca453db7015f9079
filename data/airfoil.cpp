// Parses the airfoil table: whitespace-separated numbers, one row per line. Every error names
// the file, the line and the column, because a hand-edited or truncated copy is the usual cause.
#include <tapegrad/data/airfoil.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include <tapegrad/core/error.h>

namespace tg::data {
namespace {

std::string read_text(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file)
    fail("airfoil: cannot open {}: {}\nhint: scripts/fetch-data.sh airfoil puts it in datasets/",
         path, std::strerror(errno));
  std::string text;
  char buffer[1 << 16];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, file.get())) text.append(buffer, n);
  check(!std::ferror(file.get()), "airfoil: cannot read {}: {}", path, std::strerror(errno));
  return text;
}

// Splits a line at tabs and spaces; '\r' counts as a separator, which makes CRLF files work.
void split_fields(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  size_t pos = 0;
  while (true) {
    pos = line.find_first_not_of(" \t\r", pos);
    if (pos == std::string_view::npos) return;
    size_t end = std::min(line.find_first_of(" \t\r", pos), line.size());
    fields.push_back(line.substr(pos, end - pos));
    pos = end;
  }
}

/// The field as it can be shown in a message: control bytes (a NUL from a damaged file, say)
/// become \xNN escapes so the terminal shows what is there.
std::string printable(std::string_view field) {
  std::string out;
  for (unsigned char c : field) {
    if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += char(c);
  }
  return out;
}

float parse_number(std::string_view field, const std::string& path, int64_t line, int64_t column) {
  // from_chars takes no leading '+', strtod and numpy do.
  std::string_view digits = field.starts_with('+') ? field.substr(1) : field;
  double value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error == std::errc::result_out_of_range && end == digits.data() + digits.size()) {
    // A number with too large or too small an exponent for double; strtod tells which:
    // underflow flushes to (signed) zero like strtof and numpy, overflow stays an error.
    value = std::strtod(std::string(digits).c_str(), nullptr);
    error = std::isinf(value) ? error : std::errc();
  }
  // Compared, not converted: a double beyond float's range converted to float is undefined.
  if (error == std::errc::result_out_of_range ||
      (error == std::errc() && std::isfinite(value) &&
       std::abs(value) > double(std::numeric_limits<float>::max())))
    fail("airfoil: {} line {}, column {}: '{}' is out of float range", path, line, column,
         printable(field));
  if (error != std::errc() || end != digits.data() + digits.size() || !std::isfinite(value))
    fail("airfoil: {} line {}, column {}: '{}' is not a finite number", path, line, column,
         printable(field));
  return float(value);  // below float's range: rounds to a subnormal or zero, as strtof does
}

}  // namespace

Table read_airfoil(const std::string& path, int64_t max_rows) {
  std::string text = read_text(path);
  std::string_view rest = text;
  if (rest.starts_with("\xEF\xBB\xBF")) rest.remove_prefix(3);  // a UTF-8 BOM from some editors
  size_t last = rest.find_last_not_of(" \t\r\n");               // drops trailing blank lines
  check(last != std::string_view::npos, "airfoil: {} is empty", path);
  rest = rest.substr(0, last + 1);

  Table table{.cols = kAirfoilCols};
  std::vector<std::string_view> fields;
  for (int64_t line = 1; !rest.empty() && (max_rows < 0 || table.rows < max_rows); ++line) {
    size_t eol = rest.find('\n');
    split_fields(rest.substr(0, eol), fields);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    check(int64_t(fields.size()) == table.cols, "airfoil: {} line {}: {} fields, expected {}", path,
          line, fields.size(), table.cols);
    for (size_t c = 0; c < fields.size(); ++c)
      table.values.push_back(parse_number(fields[c], path, line, int64_t(c) + 1));
    ++table.rows;
  }
  return table;
}

void standardize_columns(Table& table) {
  check(table.rows > 0, "standardize_columns: the table has no rows");
  for (int64_t c = 0; c < table.cols; ++c) {
    auto at = [&](int64_t r) -> float& { return table.values[size_t(r * table.cols + c)]; };
    // Constant in the data, not std == 0 in arithmetic: rounding can leave a tiny nonzero std.
    bool constant = true;
    for (int64_t r = 1; r < table.rows && constant; ++r) constant = at(r) == at(0);
    check(!constant, "standardize_columns: column {} is constant ({} in all {} rows), its std is 0",
          c + 1, at(0), table.rows);
    // Two passes in double: the mean first, then squared deviations (no cancellation).
    double sum = 0, squares = 0;
    for (int64_t r = 0; r < table.rows; ++r) sum += at(r);
    double mean = sum / double(table.rows);
    for (int64_t r = 0; r < table.rows; ++r) squares += (at(r) - mean) * (at(r) - mean);
    double std = std::sqrt(squares / double(table.rows));  // population std, numpy's ddof=0
    for (int64_t r = 0; r < table.rows; ++r) at(r) = float((at(r) - mean) / std);
  }
}

}  // namespace tg::data
