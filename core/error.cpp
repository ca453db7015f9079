// The one place where error messages are formatted (see error.h): every check() and fail()
// in the library calls this function instead of instantiating fmt's formatting inline.
#include <tapegrad/core/error.h>

namespace tg::detail {

void throw_error(fmt::string_view format, fmt::format_args args) {
  throw Error(fmt::vformat(format, args));
}

}  // namespace tg::detail
