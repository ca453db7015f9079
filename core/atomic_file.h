// Crash-safe file writing and plain file reading. A file written here is
// either the complete old version or the complete new one, never a mix: the
// bytes go to a temporary file beside the target, are fsync'ed, and the
// temporary is renamed over the target (rename is atomic on POSIX). The temporary is named
// "<target>.tmp.<pid>.<n>"; one left by a killed writer is removed by the next write of the
// same target.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace tg {

/// Receives a file's bytes in order, one chunk per call.
using ByteSink = std::function<void(std::string_view chunk)>;

/// Atomically replaces `path` with `bytes`; throws tg::Error naming the path and the OS error.
/// Temporaries of `path` left by writers that no longer run are removed first.
void write_file_atomic(const std::string& path, std::string_view bytes);

/// Atomically replaces `path` with what `produce` passes to its sink; if `produce` throws,
/// the old file is kept, the temporary removed and the exception rethrown.
void write_file_atomic(const std::string& path,
                       const std::function<void(const ByteSink& sink)>& produce);

/// The whole content of `path`; throws tg::Error if it is missing, a directory or unreadable.
std::string read_file(const std::string& path);

}  // namespace tg
