// safetensors.h: writer (F32, F64, I64, laid out like the Python library) and a strict reader.
// The reader trusts nothing in the file: every length, offset and JSON type is checked
// before a byte of tensor data is touched, and errors say which file and which tensor.
// Tensors are TensorBase: only their storage side (shape, strides, data) is needed here.
#include <tapegrad/core/safetensors.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <type_traits>

#include <nlohmann/json.hpp>

#include <tapegrad/core/atomic_file.h>
#include <tapegrad/core/error.h>

namespace tg {
namespace {

using Json = nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the Python library's limit, too

// ---- little-endian bytes, whatever the host's byte order (GCC turns these into one load) ----

template <typename U>
U load_le(const char* p) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(U); ++i) v |= uint64_t(uint8_t(p[i])) << (8 * i);
  return U(v);
}

void append_le64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(char(uint8_t(v >> (8 * i))));
}

// IEEE half -> float. Every half is exactly representable as a float.
float half_to_float(uint16_t h) {
  uint32_t sign = uint32_t(h >> 15) << 31, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  if (exponent == 0x1f)  // inf or nan: keep the payload
    return std::bit_cast<float>(sign | 0x7f800000u | mantissa << 13);
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
    float v = float(mantissa) * 0x1p-24f;
    return sign ? -v : v;
  }
  return std::bit_cast<float>(sign | (exponent + 112) << 23 | mantissa << 13);  // rebias 15 -> 127
}

// ---- dtypes the reader accepts ----------------------------------------------------------------

enum class FileDtype { F32, F64, F16, BF16, I64, I32, U8 };
struct DtypeInfo {
  FileDtype dtype;
  const char* name;
  uint64_t size;
};
constexpr DtypeInfo kDtypes[] = {{FileDtype::F32, "F32", 4}, {FileDtype::F64, "F64", 8},
                                 {FileDtype::F16, "F16", 2}, {FileDtype::BF16, "BF16", 2},
                                 {FileDtype::I64, "I64", 8}, {FileDtype::I32, "I32", 4},
                                 {FileDtype::U8, "U8", 1}};

// The dtype a file dtype is read as: F32, F64 and I64 as themselves, the narrower floats as
// float32 and the narrower integers as int64 (tapegrad's dtypes).
Dtype tensor_dtype(FileDtype d) {
  switch (d) {
    case FileDtype::F64: return kFloat64;
    case FileDtype::I64: case FileDtype::I32: case FileDtype::U8: return kInt64;
    default: return kFloat32;
  }
}

const char* file_dtype_name(Dtype d) { return d == kFloat32 ? "F32" : d == kFloat64 ? "F64" : "I64"; }

// Converts n elements at p into t's element type; the switch sits outside the loop so each
// loop inlines its load.
void read_values(FileDtype dtype, const char* p, size_t n, const TensorBase& t) {
  if (std::endian::native == std::endian::little &&
      (dtype == FileDtype::F32 || dtype == FileDtype::F64 || dtype == FileDtype::I64)) {
    // the common case: file bytes are memory bytes
    if (n > 0) std::memcpy(t.raw_data(), p, element_size(t.dtype()) * n);
    return;
  }
  auto each = [&](size_t size, auto load) {
    dispatch_all(t.dtype(), [&]<typename T>(std::type_identity<T>) {
      T* out = t.data_ptr<T>();
      for (size_t i = 0; i < n; ++i) out[i] = T(load(p + i * size));
    });
  };
  auto f32 = [](const char* q) { return std::bit_cast<float>(load_le<uint32_t>(q)); };
  auto f64 = [](const char* q) { return std::bit_cast<double>(load_le<uint64_t>(q)); };
  auto f16 = [](const char* q) { return half_to_float(load_le<uint16_t>(q)); };
  auto bf16 = [](const char* q) {
    return std::bit_cast<float>(uint32_t{load_le<uint16_t>(q)} << 16);
  };
  auto i64 = [](const char* q) { return int64_t(load_le<uint64_t>(q)); };
  auto i32 = [](const char* q) { return int64_t(int32_t(load_le<uint32_t>(q))); };
  auto u8 = [](const char* q) { return int64_t(uint8_t(*q)); };
  switch (dtype) {
    case FileDtype::F32: return each(4, f32);
    case FileDtype::F64: return each(8, f64);
    case FileDtype::F16: return each(2, f16);
    case FileDtype::BF16: return each(2, bf16);
    case FileDtype::I64: return each(8, i64);
    case FileDtype::I32: return each(4, i32);
    case FileDtype::U8: return each(1, u8);
  }
}

// ---- writer -----------------------------------------------------------------------------------

using Named = std::pair<std::string, TensorBase>;

// What the writer emits: the length prefix + padded header, then each tensor's data in order.
struct Plan {
  std::string head;
  std::vector<const Named*> order;
  uint64_t data_bytes = 0;
};

Plan plan(const Safetensors& file) {
  Plan p;
  for (const Named& named : file.tensors) p.order.push_back(&named);
  std::sort(p.order.begin(), p.order.end(), [](auto* a, auto* b) { return a->first < b->first; });

  // ordered_json keeps insertion order: "__metadata__" first, then tensors in data order,
  // exactly like the Python library's header.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  for (size_t i = 0; i < p.order.size(); ++i) {
    const auto& [name, t] = *p.order[i];
    check(i == 0 || name != p.order[i - 1]->first,
          "encode_safetensors: duplicate tensor name '{}'", name);
    check(name != "__metadata__", "encode_safetensors: '__metadata__' is reserved, not a name");
    check(t.defined(), "encode_safetensors: tensor '{}' is undefined", name);
    uint64_t begin = p.data_bytes, end = begin + element_size(t.dtype()) * uint64_t(t.numel());
    header[name] = {{"dtype", file_dtype_name(t.dtype())},
                    {"shape", std::vector<int64_t>(t.shape().begin(), t.shape().end())},
                    {"data_offsets", {begin, end}}};
    p.data_bytes = end;
  }

  std::string text;
  try {
    text = header.dump();  // compact, like serde_json
  } catch (const nlohmann::json::exception& e) {  // names must be valid UTF-8
    fail("encode_safetensors: a tensor name or metadata string is not valid UTF-8: {}", e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data buffer 8-byte aligned
  append_le64(p.head, text.size());
  p.head += text;
  return p;
}

// Appends t's values in row-major order as little-endian bytes, whatever its strides.
template <typename T>
void append_values(const TensorBase& t, std::string& out) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  const Shape &shape = t.shape(), &strides = t.strides();
  const int rank = shape.size();
  const int64_t n = t.numel(), row = rank ? shape[rank - 1] : 1;
  const int64_t step = rank ? strides[rank - 1] : 1;
  std::array<int64_t, kMaxDims> index{};  // of the current row, over all dims but the last
  for (int64_t done = 0; done < n; done += row) {
    const T* first = t.data_ptr<T>();
    for (int d = 0; d + 1 < rank; ++d) first += index[d] * strides[d];
    for (int64_t i = 0; i < row; ++i) {
      Bits bits = std::bit_cast<Bits>(first[i * step]);
      for (size_t b = 0; b < sizeof(T); ++b) out.push_back(char(bits >> (8 * b)));
    }
    for (int d = rank - 2; d >= 0 && ++index[d] == shape[d]; --d) index[d] = 0;
  }
}

void emit(const Plan& p, const ByteSink& sink) {
  sink(p.head);
  std::string buffer;
  for (const Named* named : p.order) {
    const TensorBase& t = named->second;
    if (std::endian::native == std::endian::little && t.is_contiguous()) {  // memory = file order
      if (t.numel() > 0)
        sink({static_cast<const char*>(t.raw_data()), element_size(t.dtype()) * size_t(t.numel())});
    } else {
      buffer.clear();
      dispatch_all(t.dtype(), [&]<typename T>(std::type_identity<T>) { append_values<T>(t, buffer); });
      sink(buffer);
    }
  }
}

// ---- reader -----------------------------------------------------------------------------------

// nlohmann keeps the last of duplicate keys silently; a parser callback sees every key, so a
// stack of per-object key sets catches them (a file with two "w" entries is ambiguous).
Json parse_header(std::string_view text, const std::string& source) {
  // JSON never holds a raw NUL, and nlohmann's lexer would take one for the end of input,
  // silently ignoring whatever follows it.
  size_t nul = text.find('\0');
  check(nul == std::string_view::npos, "safetensors: {}: header has a NUL byte at offset {}",
        source, nul);
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  auto watch_keys = [&](int depth, Json::parse_event_t event, Json& parsed) {
    // A header is an object of objects holding flat arrays: nothing opens deeper than depth 2.
    // Deeper nesting is refused here, while parsing (which is iterative), because printing
    // such a value for an error message (Json::dump) recurses once per level.
    bool opens = event == Json::parse_event_t::object_start ||
                 event == Json::parse_event_t::array_start;
    check(!opens || depth <= 2, "safetensors: {}: header nests arrays or objects {} levels deep "
          "(a header needs 3)", source, depth + 1);
    if (event == Json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == Json::parse_event_t::object_end) {
      open_objects.pop_back();
    } else if (event == Json::parse_event_t::key && duplicate.empty()) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(key).second) duplicate = key;
    }
    return true;
  };
  Json header;
  try {
    header = Json::parse(text.begin(), text.end(), watch_keys);
  } catch (const Json::exception& e) {  // parse_error, or out_of_range for a number like 1e400
    fail("safetensors: {}: header is not valid JSON: {}", source, e.what());
  }
  check(duplicate.empty(), "safetensors: {}: header has duplicate key '{}'", source, duplicate);
  check(header.is_object(), "safetensors: {}: header is a JSON {}, expected an object", source,
        header.type_name());
  return header;
}

// A non-negative JSON integer that fits int64; `what` says where it sits, for the error.
uint64_t read_size(const Json& value, const std::string& source, const std::string& name,
                   const char* what) {
  check(value.is_number_integer(), "safetensors: {}: tensor '{}': {} {} is not an integer", source,
        name, what, value.dump());
  check(value.is_number_unsigned(), "safetensors: {}: tensor '{}': {} {} is negative", source,
        name, what, value.dump());
  uint64_t v = value.get<uint64_t>();
  check(v <= uint64_t(std::numeric_limits<int64_t>::max()),
        "safetensors: {}: tensor '{}': {} {} is too large", source, name, what, v);
  return v;
}

// One tensor's header entry, checked against itself and the buffer size.
struct Slot {
  std::string name;
  FileDtype dtype;
  Shape shape;
  uint64_t begin, end;
};

Slot read_slot(const std::string& name, const Json& info, uint64_t buffer_bytes,
               const std::string& source) {
  check(info.is_object(), "safetensors: {}: tensor '{}': entry is a JSON {}, expected an object",
        source, name, info.type_name());
  auto field = [&](const char* key, bool (Json::*is_type)() const noexcept,
                   const char* type) -> const Json& {
    auto it = info.find(key);
    check(it != info.end(), "safetensors: {}: tensor '{}': missing \"{}\"", source, name, key);
    check(((*it).*is_type)(), "safetensors: {}: tensor '{}': \"{}\" is a JSON {}, expected {}",
          source, name, key, it->type_name(), type);
    return *it;
  };
  const Json& dtype = field("dtype", &Json::is_string, "a string");
  const Json& shape = field("shape", &Json::is_array, "an array");
  const Json& offsets = field("data_offsets", &Json::is_array, "an array");

  Slot slot{name, FileDtype::F32, {}, 0, 0};
  auto info_of = std::find_if(std::begin(kDtypes), std::end(kDtypes),
                              [&](const DtypeInfo& d) { return dtype == d.name; });
  check(info_of != std::end(kDtypes),
        "safetensors: {}: tensor '{}': unsupported dtype {} (supported: F32, F64, F16, BF16, I64, "
        "I32, U8)",
        source, name, dtype.dump());
  slot.dtype = info_of->dtype;

  check(shape.size() <= size_t(kMaxDims), "safetensors: {}: tensor '{}': shape {} has {} dims, at "
        "most {} supported", source, name, shape.dump(), shape.size(), kMaxDims);
  uint64_t numel = 1;
  for (const Json& d : shape) {
    uint64_t size = read_size(d, source, name, "shape dim");
    slot.shape.push_back(int64_t(size));
    check(!__builtin_mul_overflow(numel, size, &numel),
          "safetensors: {}: tensor '{}': shape {} has too many elements", source, name,
          shape.dump());
  }

  check(offsets.size() == 2,
        "safetensors: {}: tensor '{}': data_offsets {} must be [begin, end]", source, name,
        offsets.dump());
  slot.begin = read_size(offsets[0], source, name, "data_offsets value");
  slot.end = read_size(offsets[1], source, name, "data_offsets value");
  check(slot.begin <= slot.end, "safetensors: {}: tensor '{}': data_offsets [{}, {}] end before "
        "they begin", source, name, slot.begin, slot.end);
  check(slot.end <= buffer_bytes, "safetensors: {}: tensor '{}': data_offsets [{}, {}] out of "
        "range: the data buffer is {} bytes", source, name, slot.begin, slot.end, buffer_bytes);
  uint64_t bytes;
  bool overflow = __builtin_mul_overflow(numel, info_of->size, &bytes);
  check(!overflow && bytes == slot.end - slot.begin, "safetensors: {}: tensor '{}': byte size "
        "mismatch: shape {} of {} needs {} elements * {} bytes but data_offsets [{}, {}] span {}",
        source, name, shape.dump(), info_of->name, numel, info_of->size, slot.begin, slot.end,
        slot.end - slot.begin);
  return slot;
}

std::map<std::string, std::string> read_metadata(const Json& value, const std::string& source) {
  check(value.is_object(), "safetensors: {}: __metadata__ is a JSON {}, expected an object",
        source, value.type_name());
  std::map<std::string, std::string> metadata;
  for (const auto& [key, v] : value.items()) {
    check(v.is_string(), "safetensors: {}: __metadata__ value of '{}' is a JSON {}, expected a "
          "string", source, key, v.type_name());
    metadata[key] = v.get<std::string>();
  }
  return metadata;
}

// The tensors must tile the data buffer exactly: no gaps, no overlaps, nothing after the last.
void check_tiling(std::vector<const Slot*> slots, uint64_t buffer_bytes,
                  const std::string& source) {
  std::sort(slots.begin(), slots.end(), [](const Slot* a, const Slot* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t covered = 0;
  const Slot* previous = nullptr;
  for (const Slot* s : slots) {
    check(s->begin >= covered, "safetensors: {}: tensors '{}' [{}, {}] and '{}' [{}, {}] overlap",
          source, previous ? previous->name : "", previous ? previous->begin : 0, covered,
          s->name, s->begin, s->end);
    check(s->begin == covered, "safetensors: {}: non-contiguous data: bytes [{}, {}) of the data "
          "buffer belong to no tensor (gap before '{}')", source, covered, s->begin, s->name);
    covered = s->end;
    previous = s;
  }
  check(covered == buffer_bytes, "safetensors: {}: trailing bytes: the data buffer is {} bytes "
        "but the tensors cover only {}", source, buffer_bytes, covered);
}

}  // namespace

std::string encode_safetensors(const Safetensors& file) {
  Plan p = plan(file);
  std::string bytes;
  bytes.reserve(p.head.size() + p.data_bytes);
  emit(p, [&bytes](std::string_view chunk) { bytes.append(chunk); });
  return bytes;
}

Safetensors decode_safetensors(std::string_view bytes, const std::string& source) {
  check(bytes.size() >= 8, "safetensors: {}: file is {} bytes, too short for the 8-byte header "
        "length", source, bytes.size());
  uint64_t header_bytes = load_le<uint64_t>(bytes.data());
  check(header_bytes <= kMaxHeaderBytes, "safetensors: {}: header length {} is absurd (limit {})",
        source, header_bytes, kMaxHeaderBytes);
  check(header_bytes <= bytes.size() - 8, "safetensors: {}: header length {} is larger than the "
        "file ({} bytes after the length)", source, header_bytes, bytes.size() - 8);
  std::string_view buffer = bytes.substr(8 + header_bytes);
  Json header = parse_header(bytes.substr(8, header_bytes), source);

  Safetensors file;
  std::vector<Slot> slots;  // in name order, as the JSON object iterates
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__")
      file.metadata = read_metadata(info, source);
    else
      slots.push_back(read_slot(name, info, buffer.size(), source));
  }
  std::vector<const Slot*> by_offset;
  for (const Slot& s : slots) by_offset.push_back(&s);
  check_tiling(std::move(by_offset), buffer.size(), source);

  // Every size was checked against the file: allocating now cannot be fooled into gigabytes.
  file.tensors.reserve(slots.size());
  for (const Slot& s : slots) {
    TensorBase t = kernels::empty(s.shape, tensor_dtype(s.dtype));
    read_values(s.dtype, buffer.data() + s.begin, size_t(t.numel()), t);
    file.tensors.emplace_back(s.name, std::move(t));
  }
  return file;
}

void save_safetensors(const std::string& path, const Safetensors& file) {
  Plan p = plan(file);  // validate before touching the file system
  write_file_atomic(path, [&](const ByteSink& sink) { emit(p, sink); });
}

Safetensors load_safetensors(const std::string& path) {
  return decode_safetensors(read_file(path), path);
}

}  // namespace tg
