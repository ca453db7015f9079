// TensorBase printing: one number format for the whole tensor (fixed or
// scientific, chosen from its range), PyTorch's threshold of 1000 elements
// before summarising to the first and last 3 entries of each dim. As PyTorch:
// int64 without a decimal point, and "dtype=torch.float64" after float64 values.
#include <tapegrad/core/print.h>

#include <algorithm>
#include <cmath>


namespace tg {

namespace {

constexpr int64_t kSummaryThreshold = 1000, kEdgeItems = 3;

struct NumberFormat {
  bool scientific = false, integral = true, integer_dtype = false;
  int width = 1;

  std::string operator()(double v) const {
    if (integer_dtype) return fmt::format("{:>{}}", int64_t(v), width);
    if (!std::isfinite(v)) return fmt::format("{:>{}}", std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf", width);
    if (scientific) return fmt::format("{:>{}.4e}", v, width);
    if (integral) return fmt::format("{:>{}}", fmt::format("{:.0f}.", v), width);
    return fmt::format("{:>{}.4f}", v, width);
  }
};

NumberFormat choose_format(const std::vector<double>& values, bool integer_dtype) {
  NumberFormat f;
  f.integer_dtype = integer_dtype;
  double lo = INFINITY, hi = 0;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    if (v != std::round(v)) f.integral = false;
    double a = std::abs(v);
    hi = std::max(hi, a);
    if (a > 0) lo = std::min(lo, a);
  }
  f.scientific = hi >= 1e8 || (lo < 1e-4 && !f.integral) || (lo > 0 && hi / lo > 1e3 && !f.integral);
  f.width = 1;
  for (double v : values) f.width = std::max(f.width, int(f(v).size()));
  return f;
}

void print_dims(std::string& out, const TensorBase& t, const std::vector<double>& values, int dim,
                int64_t offset, const NumberFormat& f, bool summarise, int indent) {
  const Shape& s = t.shape();
  int64_t n = s[dim], stride = t.numel() / std::max<int64_t>(1, [&] {
                                  int64_t p = 1;
                                  for (int d = 0; d <= dim; ++d) p *= s[d];
                                  return p;
                                }());
  out += '[';
  for (int64_t i = 0; i < n; ++i) {
    if (summarise && n > 2 * kEdgeItems && i == kEdgeItems) {
      out += dim + 1 == t.dim() ? "..., " : fmt::format("...,\n{:{}}", "", indent + 1);
      i = n - kEdgeItems;
    }
    if (dim + 1 == t.dim()) {
      out += f(values[offset + i]);
    } else {
      print_dims(out, t, values, dim + 1, offset + i * stride, f, summarise, indent + 1);
    }
    if (i + 1 < n) {
      out += ',';
      out += dim + 1 == t.dim() ? std::string(" ") : std::string(t.dim() - dim - 1, '\n') + std::string(indent + 1, ' ');
    }
  }
  out += ']';
}

}  // namespace

std::string to_string(const TensorBase& t, std::string_view annotation) {
  if (!t.defined()) return "tensor(undefined)";
  std::vector<double> values = t.to_vector<double>();
  const bool integer = t.dtype() == kInt64;
  std::string out = "tensor(";
  if (t.numel() == 0) {
    out += fmt::format("[], size={}", t.shape());
  } else if (t.dim() == 0) {
    out += choose_format(values, integer)(values[0]);
  } else {
    bool summarise = t.numel() > kSummaryThreshold;
    print_dims(out, t, values, 0, 0, choose_format(values, integer), summarise, 7);
  }
  if (t.dtype() == kFloat64) out += ", dtype=torch.float64";
  if (!annotation.empty()) fmt::format_to(std::back_inserter(out), ", {}", annotation);
  return out + ")";
}

}  // namespace tg
