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

}  // namespace tg

fmt::format_context::iterator fmt::formatter<tg::Shape>::format(const tg::Shape& s,
                                                                format_context& ctx) const {
  return fmt::format_to(ctx.out(), "[{}]", fmt::join(s, ", "));
}
