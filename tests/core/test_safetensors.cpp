// Tests of the safetensors reader/writer and of crash-safe file writing: round trips, a file
// made by PyTorch + a hand-written Python encoder, byte layout, one case per reader error,
// writers that fail or are SIGKILLed mid-write without harming the previous file, and the
// removal of temporaries that killed writers left behind.
#include <doctest/doctest.h>
#include <fmt/format.h>  // fmt::join
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <thread>

#include <tapegrad/core/atomic_file.h>
#include <tapegrad/core/error.h>
#include <tapegrad/autograd/tensor.h>
#include <tapegrad/core/safetensors.h>
#include "tests/json_fixture.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;
using tg::test::error_of;

namespace {

// One tensor as plain values, so expectations read as data: {"w", {2, 3}, {1, 2, 3, 4, 5, 6}}.
struct SafetensorsEntry {
  std::string name;
  tg::Shape shape;
  std::vector<float> data;
};
using SafetensorsMetadata = std::map<std::string, std::string>;

tg::Safetensors file_of(const std::vector<SafetensorsEntry>& entries,
                        const SafetensorsMetadata& metadata = {}) {
  tg::Safetensors file{.tensors = {}, .metadata = metadata};
  for (const auto& e : entries) {
    tg::Tensor t = tg::empty(e.shape);
    REQUIRE(size_t(t.numel()) == e.data.size());
    std::copy(e.data.begin(), e.data.end(), t.data());
    file.tensors.emplace_back(e.name, t);
  }
  return file;
}

std::vector<SafetensorsEntry> entries_of(const tg::Safetensors& file) {
  std::vector<SafetensorsEntry> entries;
  for (const auto& [name, t] : file.tensors) entries.push_back({name, t.shape(), t.to_vector()});
  return entries;
}

std::string encode(const std::vector<SafetensorsEntry>& entries,
                   const SafetensorsMetadata& metadata = {}) {
  return tg::encode_safetensors(file_of(entries, metadata));
}

std::vector<SafetensorsEntry> decode(std::string_view bytes, const std::string& source,
                                     SafetensorsMetadata* metadata = nullptr) {
  tg::Safetensors file = tg::decode_safetensors(bytes, source);
  if (metadata) *metadata = file.metadata;
  return entries_of(file);
}

std::vector<SafetensorsEntry> load(const std::string& path,
                                   SafetensorsMetadata* metadata = nullptr) {
  tg::Safetensors file = tg::load_safetensors(path);
  if (metadata) *metadata = file.metadata;
  return entries_of(file);
}

void save(const std::string& path, const std::vector<SafetensorsEntry>& entries) {
  tg::save_safetensors(path, file_of(entries));
}

const std::string kFixtures = std::string(TG_TEST_DIR) + "/nn/fixtures/";

// A fresh directory under the system temp folder, removed with its contents at scope exit.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::string name = (fs::temp_directory_path() / "tapegrad-safetensors-XXXXXX").string();
    REQUIRE(::mkdtemp(name.data()) != nullptr);
    path = name;
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  std::vector<std::string> list() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }
};

std::string le64(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(char(uint8_t(v >> (8 * i))));
  return s;
}

// A file with this exact header text (no padding) followed by `data`.
std::string file_with(const std::string& header, const std::string& data = "") {
  return le64(header.size()) + header + data;
}

std::string decode_error(std::string_view bytes) {
  try {
    decode(bytes, "bad.safetensors");
  } catch (const tg::Error& e) {
    return e.what();
  }
  return "(no error)";
}

// The reader must throw tg::Error naming the file and containing each of `words`.
void check_rejects(std::string_view bytes, std::initializer_list<const char*> words) {
  std::string message = decode_error(bytes);
  INFO("message: ", message);
  CHECK(message.rfind("safetensors: bad.safetensors: ", 0) == 0);
  for (const char* w : words)
    CHECK_MESSAGE(message.find(w) != std::string::npos, "want: ", std::string(w));
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), 4 * a.size()) == 0);
}

// A small valid F32 entry that takes bytes [begin, begin + 4 * n) of the buffer.
std::string entry(const std::string& name, int n, int begin) {
  return fmt::format(R"("{}":{{"dtype":"F32","shape":[{}],"data_offsets":[{},{}]}})", name, n,
                     begin, begin + 4 * n);
}

// A header object holding these "name": {...} members.
std::string header_of(const std::vector<std::string>& members) {
  return fmt::format("{{{}}}", fmt::join(members, ","));
}

}  // namespace

TEST_CASE("safetensors: round trip keeps names, shapes, metadata and every float bit") {
  float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<SafetensorsEntry> entries = {
      {"layer.weight", {2, 3}, {1.5f, -2.0f, 0.1f, 1e-30f, -0.0f, 3e38f}},
      {"a_scalar", {}, {42.0f}},
      {"empty", {0, 4}, {}},
      {"special", {3}, {inf, -inf, nan}},
  };
  SafetensorsMetadata metadata = {{"format", "pt"}, {"epoch", "7"}};
  std::string bytes = encode(entries, metadata);

  SafetensorsMetadata read_back;
  auto decoded = decode(bytes, "memory", &read_back);
  CHECK(read_back == metadata);
  REQUIRE(decoded.size() == 4);
  std::vector<std::string> names;
  for (const auto& e : decoded) names.push_back(e.name);
  CHECK(names == std::vector<std::string>{"a_scalar", "empty", "layer.weight", "special"});
  for (const auto& want : entries) {
    auto named = [&](const SafetensorsEntry& e) { return e.name == want.name; };
    auto got = std::find_if(decoded.begin(), decoded.end(), named);
    REQUIRE(got != decoded.end());
    CHECK(got->shape == want.shape);
    CHECK(same_bits(got->data, want.data));
  }

  SafetensorsMetadata none = {{"stale", "x"}};  // cleared when the file has no metadata
  decode(encode({}), "memory", &none);
  CHECK(none.empty());
}

TEST_CASE("safetensors: byte layout of a tiny file, checked by hand") {
  // Names are sorted ("a" before "b"), offsets are consecutive, header padded to 8 with spaces.
  std::string bytes = encode({{"b", {2}, {1.0f, 2.0f}}, {"a", {}, {3.0f}}});
  std::string json = R"({"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
                     R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  REQUIRE(json.size() == 107);
  std::string header = json + std::string(5, ' ');  // 107 -> 112, a multiple of 8
  std::string data("\x00\x00\x40\x40"   // 3.0f little-endian
                   "\x00\x00\x80\x3f"   // 1.0f
                   "\x00\x00\x00\x40",  // 2.0f
                   12);
  CHECK(bytes.substr(0, 8) == std::string("\x70\0\0\0\0\0\0\0", 8));  // 112
  CHECK(bytes.substr(8, 112) == header);
  CHECK(bytes.substr(120) == data);
  CHECK(bytes.size() == 8 + 112 + 12);

  // The same layouts as the Rust library's own serialization tests.
  CHECK(encode({}) == le64(8) + "{}      ");
  CHECK(encode({}, {{"framework", "pt"}}) ==
        le64(40) + R"({"__metadata__":{"framework":"pt"}})" + "     ");
  std::string attn = encode({{"attn0", {1, 1, 2, 3}, {0, 1, 2, 3, 4, 5}}});
  CHECK(attn.substr(0, 8 + 72) ==
        le64(72) + R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})" +
            std::string(7, ' '));
}

TEST_CASE("safetensors: reads files written by PyTorch + a hand-written Python encoder") {
  const auto expected = tg::test::JsonFixture::load(kFixtures + "safetensors_expected.json");

  for (const char* file : {"small.safetensors", "dtypes.safetensors"}) {
    CAPTURE(file);
    SafetensorsMetadata metadata;
    auto entries = load(kFixtures + file, &metadata);
    const tg::test::JsonFixture want = expected[file];
    REQUIRE(entries.size() == want.size());
    for (const auto& e : entries) {
      CAPTURE(e.name);
      REQUIRE(want.contains(e.name));
      const tg::test::JsonFixture w = want[e.name];
      CHECK(std::vector<int64_t>(e.shape.begin(), e.shape.end()) == w["shape"].integers());
      auto values = w["values"].numbers();
      REQUIRE(e.data.size() == values.size());
      for (size_t i = 0; i < values.size(); ++i) {
        CHECK(e.data[i] == float(values[i]));  // exact: torch computed the same float
        CHECK(std::signbit(e.data[i]) == std::signbit(values[i]));  // f16 -0.0 keeps its sign
      }
    }
  }

  // F32 only: our writer reproduces the Python layout byte for byte, metadata included.
  SafetensorsMetadata metadata;
  auto small = load(kFixtures + "small.safetensors", &metadata);
  CHECK(metadata == SafetensorsMetadata{{"format", "pt"}, {"note", "tapegrad fixture"}});
  CHECK(encode(small, metadata) == tg::read_file(kFixtures + "small.safetensors"));
}

TEST_CASE("safetensors: F16 and BF16 special values convert exactly") {
  // bits of: 1, -2, 65504 (max), 2^-24 (min subnormal), largest subnormal, 2^-14 (min normal),
  // -0, +inf, -inf, nan
  std::vector<uint16_t> halves = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff,
                                  0x0400, 0x8000, 0x7c00, 0xfc00, 0x7e00};
  std::string data;
  for (uint16_t h : halves) data += std::string{char(h & 0xff), char(h >> 8)};
  data += std::string("\x80\x3f\x80\xff", 4);  // BF16 1.0 and -inf
  std::string bytes = file_with(R"({"h":{"dtype":"F16","shape":[10],"data_offsets":[0,20]},)"
                                R"("z":{"dtype":"BF16","shape":[2],"data_offsets":[20,24]}})",
                                data);
  auto entries = decode(bytes, "memory");
  REQUIRE(entries.size() == 2);
  const auto& h = entries[0].data;
  float inf = std::numeric_limits<float>::infinity();
  CHECK(h[0] == 1.0f);
  CHECK(h[1] == -2.0f);
  CHECK(h[2] == 65504.0f);
  CHECK(h[3] == std::ldexp(1.0f, -24));
  CHECK(h[4] == 1023 * std::ldexp(1.0f, -24));
  CHECK(h[5] == std::ldexp(1.0f, -14));
  CHECK((h[6] == 0.0f && std::signbit(h[6])));
  CHECK(h[7] == inf);
  CHECK(h[8] == -inf);
  CHECK(std::isnan(h[9]));
  CHECK(entries[1].data == std::vector<float>{1.0f, -inf});
}

TEST_CASE("safetensors: every malformed file is a tg::Error naming the problem") {
  std::string f32x2 = std::string(8, '\0');  // 8 data bytes: two F32 zeros

  SUBCASE("length field") {
    check_rejects("", {"file is 0 bytes", "too short"});
    check_rejects("abcdefg", {"file is 7 bytes", "too short"});
    check_rejects(le64(100) + "{}", {"header length 100 is larger than the file", "2 bytes"});
    check_rejects(le64(uint64_t(1) << 40) + "{}", {"header length 1099511627776 is absurd"});
    check_rejects(le64(~uint64_t(0)), {"absurd"});
  }
  SUBCASE("JSON syntax") {
    check_rejects(file_with(R"({"w": )"), {"not valid JSON", "parse error at line 1, column"});
    check_rejects(file_with(""), {"not valid JSON"});
    check_rejects(file_with("{} x"), {"not valid JSON", "expected end of input"});
    check_rejects(file_with("{\"\xff\":1}"), {"not valid JSON"});  // not UTF-8
    check_rejects(file_with(R"({"w":1e400})"), {"not valid JSON", "number overflow"});
    // nlohmann's lexer takes a NUL byte for the end of input and would ignore what follows.
    check_rejects(file_with(std::string("{}\0", 3)), {"NUL byte at offset 2"});
    check_rejects(file_with(std::string("{}\0{\"x\":1}", 10)), {"NUL byte at offset 2"});
  }
  SUBCASE("header and entry types") {
    check_rejects(file_with("[1,2]"), {"header is a JSON array, expected an object"});
    check_rejects(file_with("\"x\""), {"header is a JSON string"});
    check_rejects(file_with(R"({"w":3})"), {"tensor 'w'", "entry is a JSON number"});
    check_rejects(file_with(R"({"w":{"shape":[],"data_offsets":[0,4]}})", "1234"),
                  {"tensor 'w'", "missing \"dtype\""});
    check_rejects(file_with(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", "1234"),
                  {"missing \"shape\""});
    check_rejects(file_with(R"({"w":{"dtype":"F32","shape":[]}})", "1234"),
                  {"missing \"data_offsets\""});
    check_rejects(file_with(R"({"w":{"dtype":5,"shape":[],"data_offsets":[0,4]}})", "1234"),
                  {"\"dtype\" is a JSON number, expected a string"});
    check_rejects(file_with(R"({"w":{"dtype":"F32","shape":"2","data_offsets":[0,4]}})", "1234"),
                  {"\"shape\" is a JSON string, expected an array"});
    check_rejects(file_with(R"({"w":{"dtype":"F32","shape":[],"data_offsets":{}}})", "1234"),
                  {"\"data_offsets\" is a JSON object, expected an array"});
    check_rejects(file_with(R"({"__metadata__":[]})"), {"__metadata__ is a JSON array"});
    check_rejects(file_with(R"({"__metadata__":{"epoch":3}})"),
                  {"__metadata__ value of 'epoch' is a JSON number, expected a string"});
  }
  SUBCASE("dtype and shape") {
    check_rejects(file_with(R"({"w":{"dtype":"F128","shape":[],"data_offsets":[0,4]}})", "1234"),
                  {"tensor 'w'", "unsupported dtype \"F128\"", "supported: F32"});
    check_rejects(file_with(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", f32x2),
                  {"shape dim -2 is negative"});
    check_rejects(file_with(R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", f32x2),
                  {"shape dim 2.5 is not an integer"});
    check_rejects(file_with(R"({"w":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", f32x2),
                  {"shape dim \"2\" is not an integer"});
    check_rejects(
        file_with(R"({"w":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,2],"data_offsets":[0,8]}})",
                  f32x2),
        {"has 9 dims, at most 8"});
    check_rejects(file_with(R"({"w":{"dtype":"F32","shape":[9223372036854775808],)"
                            R"("data_offsets":[0,8]}})",
                            f32x2),
                  {"shape dim 9223372036854775808 is too large"});
    check_rejects(file_with(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,2],)"
                            R"("data_offsets":[0,8]}})",
                            f32x2),
                  {"too many elements"});
    check_rejects(file_with(R"({"w":{"dtype":"F64","shape":[4611686018427387904],)"
                            R"("data_offsets":[0,8]}})",
                            f32x2),
                  {"byte size mismatch"});  // numel * 8 overflows
  }
  SUBCASE("offsets and sizes") {
    check_rejects(file_with(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", f32x2),
                  {"data_offsets [0, 16] out of range", "8 bytes"});
    check_rejects(file_with(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", f32x2),
                  {"data_offsets [8, 4] end before they begin"});
    check_rejects(file_with(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}})", f32x2),
                  {"must be [begin, end]"});
    check_rejects(file_with(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[-1,8]}})", f32x2),
                  {"data_offsets value -1 is negative"});
    check_rejects(file_with(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,8]}})", f32x2),
                  {"tensor 'w'", "byte size mismatch", "[2,3] of F32", "span 8"});
    check_rejects(file_with(R"({"w":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}})", f32x2),
                  {"byte size mismatch"});
  }
  SUBCASE("coverage of the data buffer") {
    std::string twelve(12, '\0');
    check_rejects(file_with(header_of({entry("a", 2, 0), entry("b", 2, 4)}), twelve),
                  {"tensors 'a' [0, 8] and 'b' [4, 12] overlap"});
    check_rejects(file_with(header_of({entry("a", 2, 0), entry("b", 2, 0)}), f32x2),
                  {"overlap"});
    check_rejects(file_with(header_of({entry("a", 1, 0), entry("b", 1, 8)}), twelve),
                  {"non-contiguous", "bytes [4, 8)", "gap before 'b'"});
    check_rejects(file_with(header_of({entry("a", 1, 4)}), f32x2), {"bytes [0, 4)"});
    check_rejects(file_with(header_of({entry("a", 1, 0)}), f32x2 + "junk"),
                  {"trailing bytes", "12 bytes", "cover only 4"});
    check_rejects(file_with("{}", "x"), {"trailing bytes"});
  }
  SUBCASE("duplicate keys, which JSON parsers usually drop silently") {
    check_rejects(file_with(header_of({entry("w", 1, 0), entry("w", 1, 4)}), f32x2),
                  {"duplicate key 'w'"});
    check_rejects(
        file_with(R"({"w":{"dtype":"F32","dtype":"F64","shape":[2],"data_offsets":[0,8]}})",
                  f32x2),
        {"duplicate key 'dtype'"});
    check_rejects(file_with(R"({"__metadata__":{"a":"1","a":"2"}})"), {"duplicate key 'a'"});
    // The same key in different objects is fine.
    CHECK(decode_error(file_with(header_of({R"("__metadata__":{"w":"1"})", entry("w", 2, 0)}),
                                 f32x2)) == "(no error)");
  }
}

TEST_CASE("safetensors: truncated or bit-flipped files never crash, only throw tg::Error") {
  std::string good = tg::read_file(kFixtures + "dtypes.safetensors");
  for (size_t n = 0; n < good.size(); ++n) {
    CAPTURE(n);
    CHECK_THROWS_AS(decode(std::string_view(good).substr(0, n), "cut"), tg::Error);
  }
  int decoded = 0, rejected = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (int bit : {0, 3, 7}) {
      std::string bad = good;
      bad[i] = char(bad[i] ^ (1 << bit));
      try {
        decode(bad, "flipped");
        ++decoded;  // a flipped data byte is still a valid file
      } catch (const tg::Error&) {
        ++rejected;
      }
    }
  }
  CHECK(rejected > 0);
  CHECK(decoded > 0);
}

TEST_CASE("safetensors: the writer rejects what it cannot store") {
  auto encode_error = [](std::vector<std::pair<std::string, tg::TensorBase>> tensors) {
    return error_of([&] { tg::encode_safetensors({.tensors = tensors}); });
  };
  tg::Tensor one = tg::zeros({1});
  CHECK(encode_error({{"w", tg::Tensor()}}) == "encode_safetensors: tensor 'w' is undefined");
  CHECK(encode_error({{"w", one}, {"w", one}}) == "encode_safetensors: duplicate tensor name 'w'");
  CHECK(encode_error({{"__metadata__", one}}) ==
        "encode_safetensors: '__metadata__' is reserved, not a name");
  CHECK(encode_error({{"bad\xff", one}}).find("not valid UTF-8") != std::string::npos);
}

TEST_CASE("safetensors: views are written in row-major order, whatever their strides") {
  tg::Tensor m = tg::arange(12).reshape({3, 4});
  tg::Tensor transposed = m.transpose(0, 1);       // [4, 3], strides [1, 4]
  tg::Tensor column = m.select(1, 2);              // [3], stride 4, offset 2
  tg::Tensor corner = m.narrow(0, 1, 2).narrow(1, 1, 2);  // [2, 2], offset 5
  REQUIRE(!transposed.is_contiguous());
  REQUIRE(!column.is_contiguous());
  std::string bytes = tg::encode_safetensors(
      {.tensors = {{"t", transposed}, {"c", column}, {"k", corner}, {"s", m.select(0, 1).select(0, 3)}}});
  auto entries = decode(bytes, "memory");
  REQUIRE(entries.size() == 4);  // sorted by name: c, k, s, t
  CHECK(entries[0].data == std::vector<float>{2, 6, 10});
  CHECK(entries[1].data == std::vector<float>{5, 6, 9, 10});
  CHECK(entries[2].shape == tg::Shape{});
  CHECK(entries[2].data == std::vector<float>{7});
  CHECK(entries[3].shape == tg::Shape{4, 3});
  CHECK(entries[3].data == std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  // The same bytes as writing contiguous copies.
  CHECK(bytes == tg::encode_safetensors({.tensors = {{"t", transposed.contiguous()},
                                                      {"c", column.contiguous()},
                                                      {"k", corner.contiguous()},
                                                      {"s", m.select(0, 1).select(0, 3).contiguous()}}}));
}

TEST_CASE("atomic_file: write, overwrite and read back; permissions are kept") {
  ScratchDir dir;
  std::string path = dir / "file.bin";
  tg::write_file_atomic(path, std::string("first\0version", 13));
  CHECK(tg::read_file(path) == std::string("first\0version", 13));
  ::chmod(path.c_str(), 0600);
  tg::write_file_atomic(path, [](const tg::ByteSink& sink) {
    sink("second ");
    sink("");
    sink("version");
  });
  CHECK(tg::read_file(path) == "second version");
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  tg::write_file_atomic(path, "");
  CHECK(tg::read_file(path).empty());
  CHECK(dir.list() == std::vector<std::string>{"file.bin"});  // no temporaries left
}

TEST_CASE("atomic_file: failures throw, keep the old file and leave no temporary") {
  ScratchDir dir;
  std::string path = dir / "model.safetensors";
  std::vector<SafetensorsEntry> good = {{"w", {2}, {1.0f, 2.0f}}};
  save(path, good);
  std::string before = tg::read_file(path);

  SUBCASE("the directory does not exist") {
    std::string missing = dir / "no/such/dir/model.safetensors";
    std::string message = error_of([&] { save(missing, good); });
    CHECK(message.find("write_file_atomic: cannot create temporary file for '" + missing + "'") ==
          0);
    CHECK(message.find("No such file or directory") != std::string::npos);
  }
  SUBCASE("the rename fails (the target is a non-empty directory)") {
    std::string target = dir / "taken";
    fs::create_directory(target);
    tg::write_file_atomic(target + "/inside", "x");
    std::string message = error_of([&] { tg::write_file_atomic(target, "data"); });
    CHECK(message.find("write_file_atomic: cannot rename") == 0);
    CHECK(message.find("Is a directory") != std::string::npos);
    CHECK(tg::read_file(target + "/inside") == "x");
    fs::remove_all(target);
  }
  SUBCASE("the producer throws halfway") {
    auto half_then_throw = [](const tg::ByteSink& sink) {
      sink("partial garbage");
      throw std::runtime_error("producer gave up");
    };
    CHECK_THROWS_WITH_AS(tg::write_file_atomic(path, half_then_throw), "producer gave up",
                         std::runtime_error);
  }
  SUBCASE("invalid entries are rejected before the file system is touched") {
    CHECK_THROWS_AS(tg::save_safetensors(path, {.tensors = {{"w", tg::Tensor()}}}), tg::Error);
  }
  CHECK(tg::read_file(path) == before);
  CHECK(load(path)[0].data == good[0].data);
  CHECK(dir.list() == std::vector<std::string>{"model.safetensors"});
}

TEST_CASE("atomic_file: the next write removes temporaries that killed writers left behind") {
  ScratchDir dir;
  // A pid that surely is no process now: a child that has exited and was reaped.
  pid_t dead = ::fork();
  REQUIRE(dead >= 0);
  if (dead == 0) ::_exit(0);
  REQUIRE(::waitpid(dead, nullptr, 0) == dead);
  const std::string path = dir / "run.ckpt";
  auto left_by = [&](pid_t pid, const std::string& target, int n) {
    std::string name = fmt::format("{}.tmp.{}.{}", target, pid, n);
    tg::write_file_atomic(dir / "scratch", "half a file");  // a real file to rename into place
    fs::rename(dir / "scratch", dir / name);
    return name;
  };
  std::string stale1 = left_by(dead, "run.ckpt", 0), stale2 = left_by(dead, "run.ckpt", 7);
  std::string live = left_by(::getpid(), "run.ckpt", 99);  // a writer that still runs: kept
  std::string other = left_by(dead, "other.ckpt", 0);      // another target's: kept
  std::string lookalike = "run.ckpt.tmp.notes";            // not a temporary's name: kept
  tg::write_file_atomic(dir / lookalike, "user file");
  CHECK(dir.list().size() == 5);

  tg::write_file_atomic(path, "new version");
  CHECK(tg::read_file(path) == "new version");
  std::vector<std::string> expected = {live, lookalike, other, "run.ckpt"};
  std::sort(expected.begin(), expected.end());
  CHECK(dir.list() == expected);
  (void)stale1, (void)stale2;
}

TEST_CASE("atomic_file: read_file errors name the path and the reason") {
  ScratchDir dir;
  CHECK(error_of([&] { tg::read_file(dir / "missing.bin"); }) ==
        "read_file: cannot open '" + (dir / "missing.bin") + "': No such file or directory");
  CHECK(error_of([&] { tg::read_file(dir.path.string()); }) ==
        "read_file: '" + dir.path.string() + "' is a directory, not a file");
  CHECK(error_of([&] { load(dir / "missing.bin"); }).find("cannot open") == 11);
}

TEST_CASE("atomic_file: a writer SIGKILLed mid-write leaves one complete version") {
  ScratchDir dir;
  std::string path = dir / "model.safetensors";
  constexpr int64_t kOld = 1000, kNew = 2'000'000;  // a new version takes 8 MB
  auto version = [](float fill, int64_t n) {
    return std::vector<SafetensorsEntry>{{"w", {n}, std::vector<float>(size_t(n), fill)}};
  };
  save(path, version(-1.0f, kOld));
  auto writing = [&] {  // a temporary file exists: a write is in flight
    for (const auto& name : dir.list())
      if (name.find(".tmp.") != std::string::npos) return true;
    return false;
  };

  // Round r lets the child finish r saves first, so later rounds kill a writer that is
  // replacing a new version rather than the original one.
  for (int round = 0; round < 4; ++round) {
    CAPTURE(round);
    int saved[2];
    REQUIRE(::pipe(saved) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {  // saves versions 0, 1, 2... until killed; never returns into doctest
      ::close(saved[0]);
      try {
        for (int i = 0;; ++i) {
          save(path, version(float(i), kNew));
          if (::write(saved[1], "s", 1) != 1) break;
        }
      } catch (...) {
      }
      ::_exit(1);
    }
    ::close(saved[1]);
    char byte;
    for (int done = 0; done < round; ++done) REQUIRE(::read(saved[0], &byte, 1) == 1);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!writing() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    std::this_thread::sleep_for(std::chrono::milliseconds(round));
    ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    ::close(saved[0]);
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));

    auto entries = load(path);  // must be whole: the old or a new version
    REQUIRE(entries.size() == 1);
    const std::vector<float>& w = entries[0].data;
    REQUIRE(!w.empty());
    CHECK(std::all_of(w.begin(), w.end(), [&](float v) { return v == w[0]; }));
    if (round == 0) {
      CHECK(((w.size() == size_t(kOld) && w[0] == -1.0f) || w.size() == size_t(kNew)));
    } else {
      CHECK(w.size() == size_t(kNew));
      CHECK(w[0] >= float(round - 1));  // at least the last save the child reported
    }
    for (const auto& name : dir.list())  // a killed writer cannot remove its temporary
      if (name.find(".tmp.") != std::string::npos) fs::remove(dir / name);
  }
}
