// Dual<T>: scalar forward-mode automatic differentiation with dual numbers.
// A dual number <u, u'> carries a value and its derivative along one input
// direction; every rule below is the chain rule for one operation, written as
// a one-line comment in the notation of Baydin et al., "Automatic
// Differentiation in Machine Learning: a Survey" (2018). Nesting gives higher
// derivatives: f(<<x, 1>, <1, 0>>) is <<f, f'>, <f', f''>> (see second_derivative).
//
//   tg::Dual<double> x1{2.0, 1.0}, x2{5.0, 0.0};   // seed dx1 = 1, dx2 = 0
//   auto y = log(x1) + x1 * x2 - sin(x2);          // <11.652, 5.5> = <y, dy/dx1>
//   double d2 = tg::second_derivative([](auto x) { return x * x * x; }, 2.0);  // 12
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <compare>
#include <concepts>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include <tapegrad/core/error.h>

namespace tg {

template <typename T>
class Dual;

/// A plain number that mixes with Dual<T>: T itself or any arithmetic type.
template <typename S, typename T>
concept DualScalar = std::same_as<S, T> || std::is_arithmetic_v<S>;

/// A value and its derivative, <value, deriv>; T is a float type or another Dual.
template <typename T>
class Dual {
 public:
  using value_type = T;

  /// <0, 0>.
  constexpr Dual() = default;
  /// <value, deriv>; from a plain value it is a constant: <value, 0>.
  constexpr Dual(T value, T deriv = T(0)) : value_(value), deriv_(deriv) {}
  /// A constant from any arithmetic scalar, so `Dual<Dual<double>> x = 2.0` works.
  template <typename S>
  requires std::is_arithmetic_v<S>
  constexpr Dual(S value) : value_(T(value)), deriv_(T(0)) {}

  constexpr const T& value() const { return value_; }
  constexpr const T& deriv() const { return deriv_; }

  // ---- arithmetic ------------------------------------------------------------
  // The scalar overloads are not just conversions to <c, 0>: they skip the
  // multiplications by zero (and the NaNs 0 * inf would make).

  // -<u,u'> = <-u, -u'>
  friend constexpr Dual operator-(const Dual& u) { return {-u.value_, -u.deriv_}; }
  friend constexpr Dual operator+(const Dual& u) { return u; }

  // <u,u'> + <v,v'> = <u + v, u' + v'>
  friend constexpr Dual operator+(const Dual& u, const Dual& v) {
    return {u.value_ + v.value_, u.deriv_ + v.deriv_};
  }
  // <u,u'> + c = <u + c, u'>
  template <DualScalar<T> S>
  friend constexpr Dual operator+(const Dual& u, S c) {
    return {u.value_ + T(c), u.deriv_};
  }
  template <DualScalar<T> S>
  friend constexpr Dual operator+(S c, const Dual& u) {
    return {T(c) + u.value_, u.deriv_};
  }

  // <u,u'> - <v,v'> = <u - v, u' - v'>
  friend constexpr Dual operator-(const Dual& u, const Dual& v) {
    return {u.value_ - v.value_, u.deriv_ - v.deriv_};
  }
  // <u,u'> - c = <u - c, u'>;  c - <u,u'> = <c - u, -u'>
  template <DualScalar<T> S>
  friend constexpr Dual operator-(const Dual& u, S c) {
    return {u.value_ - T(c), u.deriv_};
  }
  template <DualScalar<T> S>
  friend constexpr Dual operator-(S c, const Dual& u) {
    return {T(c) - u.value_, -u.deriv_};
  }

  // <u,u'> * <v,v'> = <uv, u'v + uv'>
  friend constexpr Dual operator*(const Dual& u, const Dual& v) {
    return {u.value_ * v.value_, u.deriv_ * v.value_ + u.value_ * v.deriv_};
  }
  // <u,u'> * c = <uc, u'c>
  template <DualScalar<T> S>
  friend constexpr Dual operator*(const Dual& u, S c) {
    return {u.value_ * T(c), u.deriv_ * T(c)};
  }
  template <DualScalar<T> S>
  friend constexpr Dual operator*(S c, const Dual& u) {
    return {T(c) * u.value_, T(c) * u.deriv_};
  }

  // <u,u'> / <v,v'> = <u/v, (u'v - uv') / v^2>
  friend constexpr Dual operator/(const Dual& u, const Dual& v) {
    return {u.value_ / v.value_,
            (u.deriv_ * v.value_ - u.value_ * v.deriv_) / (v.value_ * v.value_)};
  }
  // <u,u'> / c = <u/c, u'/c>
  template <DualScalar<T> S>
  friend constexpr Dual operator/(const Dual& u, S c) {
    return {u.value_ / T(c), u.deriv_ / T(c)};
  }
  // c / <v,v'> = <c/v, -c v' / v^2>
  template <DualScalar<T> S>
  friend constexpr Dual operator/(S c, const Dual& v) {
    return {T(c) / v.value_, -T(c) * v.deriv_ / (v.value_ * v.value_)};
  }

  // Compound assignment: the same rules, stored back.
  template <typename S>
  constexpr Dual& operator+=(const S& other) {
    return *this = *this + other;
  }
  template <typename S>
  constexpr Dual& operator-=(const S& other) {
    return *this = *this - other;
  }
  template <typename S>
  constexpr Dual& operator*=(const S& other) {
    return *this = *this * other;
  }
  template <typename S>
  constexpr Dual& operator/=(const S& other) {
    return *this = *this / other;
  }

  // ---- comparisons -------------------------------------------------------------
  // On the value only, so `if (x < 0)` branches exactly as it would on plain
  // numbers; <=> gives <, <=, >, >= and C++20 rewrites `c < x` as `x > c`.
  friend constexpr bool operator==(const Dual& u, const Dual& v) { return u.value_ == v.value_; }
  template <DualScalar<T> S>
  friend constexpr bool operator==(const Dual& u, const S& c) {
    return u.value_ == T(c);
  }
  friend constexpr std::partial_ordering operator<=>(const Dual& u, const Dual& v) {
    return u.value_ <=> v.value_;
  }
  template <DualScalar<T> S>
  friend constexpr std::partial_ordering operator<=>(const Dual& u, const S& c) {
    return u.value_ <=> T(c);
  }

 private:
  T value_{};
  T deriv_{};
};

// ---- elementary functions ----------------------------------------------------
// Each computes on the value type with unqualified calls after `using std::f`:
// for double that is std::f, for a nested Dual it is the tg::f below (found
// by argument-dependent lookup), which is what makes Dual<Dual<T>> work.

// sin<u,u'> = <sin u, u' cos u>
template <typename T>
Dual<T> sin(const Dual<T>& u) {
  using std::cos, std::sin;
  return {sin(u.value()), u.deriv() * cos(u.value())};
}

// cos<u,u'> = <cos u, -u' sin u>
template <typename T>
Dual<T> cos(const Dual<T>& u) {
  using std::cos, std::sin;
  return {cos(u.value()), -u.deriv() * sin(u.value())};
}

// tan<u,u'> = <tan u, u' (1 + tan^2 u)>
template <typename T>
Dual<T> tan(const Dual<T>& u) {
  using std::tan;
  T t = tan(u.value());
  return {t, u.deriv() * (T(1) + t * t)};
}

// exp<u,u'> = <e^u, u' e^u>
template <typename T>
Dual<T> exp(const Dual<T>& u) {
  using std::exp;
  T e = exp(u.value());
  return {e, u.deriv() * e};
}

// log<u,u'> = <ln u, u'/u>
template <typename T>
Dual<T> log(const Dual<T>& u) {
  using std::log;
  return {log(u.value()), u.deriv() / u.value()};
}

// sqrt<u,u'> = <sqrt u, u' / (2 sqrt u)>
template <typename T>
Dual<T> sqrt(const Dual<T>& u) {
  using std::sqrt;
  T s = sqrt(u.value());
  return {s, u.deriv() / (T(2) * s)};
}

// <u,u'>^c = <u^c, c u^(c-1) u'>
template <typename T, DualScalar<T> S>
Dual<T> pow(const Dual<T>& u, S c) {
  using std::pow;
  return {pow(u.value(), c), T(c) * pow(u.value(), c - S(1)) * u.deriv()};
}

// c^<v,v'> = <c^v, c^v ln(c) v'>
template <typename T, DualScalar<T> S>
Dual<T> pow(S c, const Dual<T>& v) {
  using std::log, std::pow;
  T p = pow(c, v.value());
  return {p, p * log(c) * v.deriv()};
}

// <u,u'>^<v,v'> = <u^v, v u^(v-1) u' + u^v ln(u) v'>   (needs u > 0, as e^(v ln u)
// does; for a constant exponent use pow(dual, scalar), which takes any u)
template <typename T>
Dual<T> pow(const Dual<T>& u, const Dual<T>& v) {
  using std::log, std::pow;
  T p = pow(u.value(), v.value());
  T through_u = v.value() * pow(u.value(), v.value() - T(1)) * u.deriv();
  T through_v = p * log(u.value()) * v.deriv();
  return {p, through_u + through_v};
}

// abs<u,u'> = <|u|, sign(u) u'>   (0 at u = 0, as PyTorch's abs does)
template <typename T>
Dual<T> abs(const Dual<T>& u) {
  using std::abs;
  T sign = u.value() > 0 ? T(1) : u.value() < 0 ? T(-1) : T(0);
  return {abs(u.value()), sign * u.deriv()};
}

// tanh<u,u'> = <tanh u, u' (1 - tanh^2 u)>
template <typename T>
Dual<T> tanh(const Dual<T>& u) {
  using std::tanh;
  T t = tanh(u.value());
  return {t, u.deriv() * (T(1) - t * t)};
}

// sigmoid<u,u'> = <s, u' s (1 - s)>  with s = 1 / (1 + e^-u)
template <typename T>
Dual<T> sigmoid(const Dual<T>& u) {
  using std::exp;
  T s = T(1) / (T(1) + exp(-u.value()));  // e^-u = inf for very negative u gives s = 0
  return {s, u.deriv() * s * (T(1) - s)};
}

// cosh<u,u'> = <cosh u, u' sinh u>
template <typename T>
Dual<T> cosh(const Dual<T>& u) {
  using std::cosh, std::sinh;
  return {cosh(u.value()), u.deriv() * sinh(u.value())};
}

// sinh<u,u'> = <sinh u, u' cosh u>
template <typename T>
Dual<T> sinh(const Dual<T>& u) {
  using std::cosh, std::sinh;
  return {sinh(u.value()), u.deriv() * cosh(u.value())};
}

// min(<u,u'>, <v,v'>) = u <= v ? <u,u'> : <v,v'>   (a tie takes the first argument)
template <typename T>
Dual<T> min(const Dual<T>& u, const Dual<T>& v) {
  return v < u ? v : u;
}
template <typename T, DualScalar<T> S>
Dual<T> min(const Dual<T>& u, S c) {
  return c < u ? Dual<T>(T(c)) : u;
}
template <typename T, DualScalar<T> S>
Dual<T> min(S c, const Dual<T>& u) {
  return u < c ? u : Dual<T>(T(c));
}

// max(<u,u'>, <v,v'>) = u >= v ? <u,u'> : <v,v'>   (a tie takes the first argument)
template <typename T>
Dual<T> max(const Dual<T>& u, const Dual<T>& v) {
  return v > u ? v : u;
}
template <typename T, DualScalar<T> S>
Dual<T> max(const Dual<T>& u, S c) {
  return c > u ? Dual<T>(T(c)) : u;
}
template <typename T, DualScalar<T> S>
Dual<T> max(S c, const Dual<T>& u) {
  return u > c ? u : Dual<T>(T(c));
}

// ---- derivatives of plain functions --------------------------------------------
// f is any callable written for a generic number type, e.g. `[](auto x) { ... }`.

/// f'(x) by one forward pass: f is called with <x, 1>.
template <typename F>
double derivative(F&& f, double x) {
  return f(Dual<double>(x, 1.0)).deriv();
}

/// f''(x) by one forward pass of nested duals: f is called with <<x, 1>, <1, 0>>.
template <typename F>
double second_derivative(F&& f, double x) {
  using D = Dual<double>;
  return f(Dual<D>(D(x, 1.0), D(1.0, 0.0))).deriv().deriv();
}

/// The gradient of f: R^n -> R at xs, by n forward passes (pass i seeds dx_i = 1).
template <typename F>
std::vector<double> gradient(F&& f, const std::vector<double>& xs) {
  std::vector<Dual<double>> duals(xs.begin(), xs.end());
  std::vector<double> grad(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    duals[i] = Dual<double>(xs[i], 1.0);
    grad[i] = f(std::as_const(duals)).deriv();
    duals[i] = Dual<double>(xs[i], 0.0);
  }
  return grad;
}

/// The Jacobian of f: R^n -> R^m at xs as m rows of n, by n forward passes
/// (pass i fills column i). Every pass must return the same number of outputs.
template <typename F>
std::vector<std::vector<double>> jacobian(F&& f, const std::vector<double>& xs) {
  std::vector<Dual<double>> duals(xs.begin(), xs.end());
  std::vector<std::vector<double>> rows;
  if (xs.empty()) {  // no input direction to seed; one pass still tells m
    std::vector<Dual<double>> ys = f(std::as_const(duals));
    return std::vector<std::vector<double>>(ys.size());
  }
  for (size_t i = 0; i < xs.size(); ++i) {
    duals[i] = Dual<double>(xs[i], 1.0);
    std::vector<Dual<double>> ys = f(std::as_const(duals));
    duals[i] = Dual<double>(xs[i], 0.0);
    if (i == 0) rows.assign(ys.size(), std::vector<double>(xs.size()));
    check(ys.size() == rows.size(), "jacobian: f returned {} outputs on pass {} but {} on pass 0",
          ys.size(), i, rows.size());
    for (size_t r = 0; r < ys.size(); ++r) rows[r][i] = ys[r].deriv();
  }
  return rows;
}

}  // namespace tg

/// Prints <value, deriv>; a format spec applies to both, e.g. "{:.3f}" -> <2.000, 1.000>.
template <typename T>
struct fmt::formatter<tg::Dual<T>> : fmt::formatter<T> {
  template <typename FormatContext>
  auto format(const tg::Dual<T>& d, FormatContext& ctx) const -> decltype(ctx.out()) {
    ctx.advance_to(fmt::format_to(ctx.out(), "<"));
    ctx.advance_to(fmt::formatter<T>::format(d.value(), ctx));
    ctx.advance_to(fmt::format_to(ctx.out(), ", "));
    ctx.advance_to(fmt::formatter<T>::format(d.deriv(), ctx));
    return fmt::format_to(ctx.out(), ">");
  }
};
