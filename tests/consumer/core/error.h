// The consumer program's own core/error.h: the same relative path as a tapegrad header, on
// the program's own include path. <core/error.h> must find this file (tapegrad's install must
// not put include/tapegrad on the path), and tapegrad's headers must not pick it up.
#pragma once

#include <string>

namespace app {

/// What the consumer program reports when tapegrad refuses an operation.
struct Error {
  std::string what;
};

}  // namespace app
