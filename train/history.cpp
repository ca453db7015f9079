// History: named columns of per-epoch numbers, to and from CSV, and charts of them.
#include <tapegrad/train/history.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include <tapegrad/core/atomic_file.h>
#include <tapegrad/core/error.h>

namespace tg::train {

namespace {

std::vector<std::string> split(std::string_view line, char separator) {
  std::vector<std::string> cells;
  size_t begin = 0;
  for (size_t end; (end = line.find(separator, begin)) != std::string_view::npos; begin = end + 1)
    cells.emplace_back(line.substr(begin, end - begin));
  cells.emplace_back(line.substr(begin));
  return cells;
}

}  // namespace

History::History(std::vector<std::string> columns) : names_(std::move(columns)) {
  check(!names_.empty(), "History: no columns");
  for (size_t i = 0; i < names_.size(); ++i) {
    const std::string& name = names_[i];
    check(!name.empty() && name.find_first_of(",\r\n") == std::string::npos,
          "History: column name '{}' is empty or holds a comma or line break", name);
    check(std::find(names_.begin(), names_.begin() + long(i), name) == names_.begin() + long(i),
          "History: column '{}' appears twice", name);
  }
  values_.resize(names_.size());
}

size_t History::index(std::string_view name, std::string_view op) const {
  auto it = std::find(names_.begin(), names_.end(), name);
  check(it != names_.end(), "{}: no column '{}' (columns: {})", op, name, fmt::join(names_, ", "));
  return size_t(it - names_.begin());
}

void History::append(const std::vector<std::pair<std::string, double>>& row) {
  std::vector<const double*> cells(names_.size(), nullptr);
  for (const auto& [name, value] : row) {
    size_t i = index(name, "History::append");
    check(!cells[i], "History::append: column '{}' given twice", name);
    cells[i] = &value;
  }
  for (size_t i = 0; i < names_.size(); ++i)
    check(cells[i] != nullptr, "History::append: column '{}' missing", names_[i]);
  for (size_t i = 0; i < names_.size(); ++i) values_[i].push_back(*cells[i]);
}

void History::append(const std::vector<double>& row) {
  check(row.size() == names_.size(), "History::append: {} values for the {} columns ({})",
        row.size(), names_.size(), fmt::join(names_, ", "));
  for (size_t i = 0; i < names_.size(); ++i) values_[i].push_back(row[i]);
}

const std::vector<double>& History::column(std::string_view name) const {
  return values_[index(name, "History::column")];
}

std::string History::to_csv() const {
  std::string csv = fmt::format("{}\n", fmt::join(names_, ","));
  for (int64_t r = 0; r < size(); ++r) {
    for (size_t c = 0; c < names_.size(); ++c)
      csv += fmt::format("{}{:.6g}", c ? "," : "", values_[c][size_t(r)]);
    csv += '\n';
  }
  return csv;
}

History History::from_csv(std::string_view csv, std::string_view source) {
  std::vector<std::string> lines = split(csv, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();  // the last line's newline
  check(!lines.empty(), "History::from_csv: {}: no header line", source);
  History h(split(lines[0], ','));
  for (size_t l = 1; l < lines.size(); ++l) {
    std::vector<std::string> cells = split(lines[l], ',');
    check(cells.size() == h.names_.size(),
          "History::from_csv: {}: line {} has {} fields, expected {}", source, l + 1, cells.size(),
          h.names_.size());
    for (size_t c = 0; c < cells.size(); ++c) {
      const std::string& cell = cells[c];
      double v = 0;
      auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
      check(!cell.empty() && ec == std::errc() && end == cell.data() + cell.size(),
            "History::from_csv: {}: line {}: '{}' is not a number", source, l + 1, cell);
      h.values_[c].push_back(v);
    }
  }
  return h;
}

void History::write_csv(const std::string& path) const { write_file_atomic(path, to_csv()); }

plot::Series History::series(std::string_view x, std::string_view y, std::string label) const {
  const std::vector<double>& xs = values_[index(x, "History::series")];
  const std::vector<double>& ys = values_[index(y, "History::series")];
  return {.label = label.empty() ? std::string(y) : std::move(label), .x = xs, .y = ys};
}

plot::LineChart History::chart(const ChartOptions& options) const {
  check(!options.y.empty(), "History::chart: no y columns to draw");
  plot::LineChart chart{.title = options.title,
                        .x = {.label = options.x},
                        .y = {.label = options.y_label.empty() ? options.y[0] : options.y_label,
                              .log = options.log_y}};
  for (const std::string& y : options.y) {
    chart.series.push_back(series(options.x, y));
    chart.series.back().markers = options.markers;
  }
  for (const plot::Series& s : options.extra)
    if (!s.x.empty()) chart.series.push_back(s);
  return chart;
}

std::string to_csv(std::string_view key, const std::vector<std::pair<std::string, History>>& runs) {
  check(!runs.empty(), "train::to_csv: no runs");
  const std::vector<std::string>& columns = runs[0].second.columns();
  std::string csv = fmt::format("{},{}\n", key, fmt::join(columns, ","));
  for (const auto& [name, history] : runs) {
    check(history.columns() == columns,
          "train::to_csv: run '{}' has the columns ({}), expected ({})", name,
          fmt::join(history.columns(), ", "), fmt::join(columns, ", "));
    check(name.find_first_of(",\r\n") == std::string::npos,
          "train::to_csv: run name '{}' holds a comma or line break", name);
    std::string body = history.to_csv();
    for (std::string_view rest = std::string_view(body).substr(body.find('\n') + 1);
         !rest.empty();) {
      size_t end = rest.find('\n');
      csv += fmt::format("{},{}\n", name, rest.substr(0, end));
      rest.remove_prefix(end + 1);
    }
  }
  return csv;
}

}  // namespace tg::train
