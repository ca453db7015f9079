// The safetensors file format (https://github.com/huggingface/safetensors) at the byte level:
// what tg::save / tg::load (autograd/state_dict.h) write and read. Layout:
//   u64 little-endian N | N bytes of JSON header, space-padded | data buffer
// header = {"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [2, 3],
//           "data_offsets": [begin, end]}, ...}; offsets are relative to the buffer start.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tapegrad/core/tensor_base.h>

namespace tg {

/// The content of a safetensors file: named tensors and the "__metadata__" strings.
struct Safetensors {
  std::vector<std::pair<std::string, TensorBase>> tensors{};  ///< sorted by name when decoded
  std::map<std::string, std::string> metadata{};          ///< free-form strings
};

/// The bytes of a safetensors file holding `file` (float32 as F32, float64 as F64, int64 as
/// I64), laid out like the Python library does (tensors sorted by name, header space-padded to a multiple of 8 bytes). Tensors may be
/// views (any strides); each is written in row-major order.
std::string encode_safetensors(const Safetensors& file);

/// Parses and fully validates a safetensors file; `source_name` (usually the path) names it in
/// errors. F32, F64 and I64 are read as float32, float64 and int64 tensors; F16 and BF16 are
/// widened to float32 (exactly), I32 and U8 to int64.
Safetensors decode_safetensors(std::string_view bytes, const std::string& source_name);

/// Writes `file` to `path` atomically: a crash leaves the old file or the new one, whole.
void save_safetensors(const std::string& path, const Safetensors& file);

/// Reads and validates the safetensors file at `path` (see decode_safetensors).
Safetensors load_safetensors(const std::string& path);

}  // namespace tg
