// ForwardTrace: records the named intermediate variables of a forward-mode
// evaluation and prints them as the primal and tangent trace table of the AD
// survey (Baydin et al. 2018, table 2): one row per variable v_i with its
// expression and value, next to its tangent rule dv_i and the tangent value.
//
//   tg::ForwardTrace trace;
//   auto x1 = trace.input("v-1", "x1", 2.0, 1.0);          // seed dx1 = 1
//   auto v1 = trace.record("v1", "ln v-1", "dv-1 / v-1", log(x1));
//   fmt::print("{}", trace.table());
#pragma once

#include <fmt/core.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <tapegrad/autograd/dual.h>

namespace tg {

/// A table of named forward-mode variables, printed the AD survey's way.
class ForwardTrace {
 public:
  /// One row: v = expression = value, dv = tangent_expression = tangent.
  struct Entry {
    std::string name;                ///< e.g. "v1"
    std::string expression;          ///< e.g. "ln v-1"
    std::string tangent_expression;  ///< e.g. "dv-1 / v-1"; may be empty
    Dual<double> value;              ///< <value, tangent>
  };

  /// Records an input `name = input` (e.g. v-1 = x1) seeded with `tangent`; returns it.
  Dual<double> input(std::string name, std::string input, double value, double tangent) {
    std::string tangent_expression = "d" + input;
    return record(std::move(name), std::move(input), std::move(tangent_expression),
                  Dual<double>(value, tangent));
  }

  /// Records `name = expression` whose dual number is `value`; returns `value`.
  Dual<double> record(std::string name, std::string expression, std::string tangent_expression,
                      Dual<double> value) {
    entries_.push_back(
        {std::move(name), std::move(expression), std::move(tangent_expression), value});
    return value;
  }

  /// The recorded rows, in order.
  const std::vector<Entry>& entries() const { return entries_; }

  /// The trace as a text table, values with `precision` decimals.
  std::string table(int precision = 3) const {
    // Column widths from the content, so the `=` signs line up.
    auto number = [precision](double v) {
      return fmt::format("{:.{}f}", v + 0.0, precision);  // + 0.0 prints -0.0 as 0.000
    };
    size_t name_w = 1, expr_w = 1, value_w = 1, texpr_w = 1, tangent_w = 1;
    for (const Entry& e : entries_) {
      name_w = std::max(name_w, e.name.size());
      expr_w = std::max(expr_w, e.expression.size());
      value_w = std::max(value_w, number(e.value.value()).size());
      texpr_w = std::max(texpr_w, e.tangent_expression.size());
      tangent_w = std::max(tangent_w, number(e.value.deriv()).size());
    }
    size_t primal_w = name_w + 3 + expr_w + 3 + value_w;
    size_t tangent_col_w = name_w + 1 + 3 + texpr_w + 3 + tangent_w;
    std::string out = fmt::format("{:<{}} | {}\n", "Forward primal trace", primal_w,
                                  "Forward tangent trace (dv: derivative of v)");
    out += fmt::format("{:-<{}}-+-{:-<{}}\n", "", primal_w, "", tangent_col_w);
    for (const Entry& e : entries_) {
      std::string rule = e.tangent_expression.empty() ? "" : "= " + e.tangent_expression;
      out += fmt::format("{:<{}} = {:<{}} = {:>{}} | d{:<{}} {:<{}} = {:>{}}\n", e.name, name_w,
                         e.expression, expr_w, number(e.value.value()), value_w, e.name, name_w,
                         rule, texpr_w + 2, number(e.value.deriv()), tangent_w);
    }
    return out;
  }

 private:
  std::vector<Entry> entries_;
};

}  // namespace tg
