// The safetensors file format (https://github.com/huggingface/safetensors), at the
// byte level and independent of Tensor: nn::save/load build on it. Layout:
//   u64 little-endian N | N bytes of JSON header, space-padded | data buffer
// header = {"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [2, 3],
//           "data_offsets": [begin, end]}, ...}; offsets are relative to the buffer start.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <tapegrad/core/shape.h>

namespace tg {

/// One named tensor of a safetensors file: its shape and row-major float32 values.
struct SafetensorsEntry {
  std::string name;
  Shape shape;
  std::vector<float> data;
};

/// The free-form string map stored under "__metadata__".
using SafetensorsMetadata = std::map<std::string, std::string>;

/// The bytes of a safetensors file holding `entries` as F32, laid out like the Python
/// library does (entries sorted by name, header space-padded to a multiple of 8 bytes).
std::string encode_safetensors(const std::vector<SafetensorsEntry>& entries,
                               const SafetensorsMetadata& metadata = {});

/// Parses and fully validates a safetensors file; `source_name` (usually the path) names it in
/// errors. Entries come back sorted by name. F32 is read as is; F64, F16, BF16, I64, I32 and U8
/// are converted to float (rounding to nearest; F64 beyond float range becomes +-inf; I64 and
/// I32 beyond 2^24 lose low bits). If `metadata` is given it receives "__metadata__".
std::vector<SafetensorsEntry> decode_safetensors(std::string_view bytes,
                                                 const std::string& source_name,
                                                 SafetensorsMetadata* metadata = nullptr);

/// Writes `entries` to `path` atomically: a crash leaves the old file or the new one, whole.
void save_safetensors(const std::string& path, const std::vector<SafetensorsEntry>& entries,
                      const SafetensorsMetadata& metadata = {});

/// Reads and validates the safetensors file at `path` (see decode_safetensors).
std::vector<SafetensorsEntry> load_safetensors(const std::string& path,
                                               SafetensorsMetadata* metadata = nullptr);

/// Only the "__metadata__" of the file at `path` (the whole file is still read and validated).
SafetensorsMetadata load_safetensors_metadata(const std::string& path);

}  // namespace tg
