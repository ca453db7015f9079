// Broadcasting of shapes (NumPy rules): align from the right; sizes must be
// equal or one of them 1. Also how shapes print: [2, 3].
#include <tapegrad/core/shape.h>

#include <fmt/format.h>

#include <algorithm>

namespace tg {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  if (a == b) return a;
  int rank = std::max(a.size(), b.size());
  Shape out;
  for (int i = 0; i < rank; ++i) {
    int ia = a.size() - rank + i, ib = b.size() - rank + i;
    int64_t sa = ia >= 0 ? a[ia] : 1, sb = ib >= 0 ? b[ib] : 1;
    check(sa == sb || sa == 1 || sb == 1,
          "{}: shapes {} and {} cannot be broadcast (dim {}: {} vs {})", op, a, b, i, sa, sb);
    out.push_back(sa == 1 ? sb : sa);
  }
  return out;
}

int64_t checked_numel(const Shape& shape, const char* op) {
  constexpr int64_t kMax = int64_t(1) << 62;
  int64_t n = 1;
  bool negative = false, zero = false, overflow = false;
  for (int64_t s : shape) {  // one pass: this runs for every tensor allocated
    negative |= s < 0;
    zero |= s == 0;
    overflow |= __builtin_mul_overflow(n, s, &n);
  }
  check(!negative, "{}: negative size in shape {}", op, shape);
  if (zero) return 0;
  check(!overflow && n <= kMax, "{}: shape {} has more than 2^62 elements", op, shape);
  return n;
}

}  // namespace tg

fmt::format_context::iterator fmt::formatter<tg::Shape>::format(const tg::Shape& s,
                                                                format_context& ctx) const {
  return fmt::format_to(ctx.out(), "[{}]", fmt::join(s, ", "));
}
