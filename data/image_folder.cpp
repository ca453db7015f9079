// Lists root/<class>/<file> in sorted order, then decodes the images in parallel (one OpenMP
// loop; stb_image keeps its error text per thread). Errors cannot leave an OpenMP loop as
// exceptions, so each image records its message and the first failing image (in sorted
// order, whatever the thread timing) is thrown after the loop.
#include <tapegrad/data/image_folder.h>

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <string_view>

#include <tapegrad/core/atomic_file.h>
#include <tapegrad/core/error.h>

namespace tg::data {
namespace fs = std::filesystem;
namespace {

struct Entry {
  std::string path;
  int64_t label;
};

bool is_image_file(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

// The entries of `dir` for which `keep` holds, sorted by file name.
template <typename Keep>
std::vector<fs::path> sorted_entries(const fs::path& dir, Keep keep) {
  std::vector<fs::path> paths;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (keep(*it)) paths.push_back(it->path());
  check(!ec, "image_folder: cannot list {}: {}", dir.string(), ec.message());
  std::sort(paths.begin(), paths.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  return paths;
}

std::vector<Entry> list_images(const fs::path& root, std::vector<std::string>& classes) {
  std::error_code ec;
  check(fs::exists(root, ec), "image_folder: {} does not exist", root.string());
  check(fs::is_directory(root, ec), "image_folder: {} is not a directory", root.string());
  auto dirs = sorted_entries(root, [](const fs::directory_entry& e) {
    std::error_code ec;  // a broken link or a symlink loop is skipped, not thrown
    return e.is_directory(ec);
  });
  check(!dirs.empty(), "image_folder: {} has no class folders (expected {}/<class>/<image files>)",
        root.string(), root.string());
  std::vector<Entry> entries;
  for (const fs::path& dir : dirs) {
    auto files = sorted_entries(dir, [](const fs::directory_entry& e) {
      std::error_code ec;
      return e.is_regular_file(ec) && is_image_file(e.path());
    });
    check(!files.empty(), "image_folder: class folder {} has no .png, .jpg, .jpeg or .bmp files",
          dir.string());
    for (const fs::path& file : files) entries.push_back({file.string(), int64_t(classes.size())});
    classes.push_back(dir.filename().string());
  }
  return entries;
}

// stb_image 2.27 (Debian 12) has memory-safety bugs fixed upstream only in 2.28: a JPEG
// Huffman table (DHT segment) whose 16 code counts add up to more than 256 overruns fixed
// arrays (found by tests/fuzz/fuzz_image_folder), and the HDR and PNM readers mishandle crafted
// files (CVE-2021-42715, CVE-2021-42716). stb picks its decoder by content, not by extension,
// so only PNG, JPEG and BMP content (the extensions listed above) is handed to it, every
// JPEG DHT segment is checked the way stb will read it, and so are PNG chunks (below).
// Returns "" or what is wrong.
std::string check_for_stb(std::string_view b) {
  auto at = [&](size_t i) -> size_t { return i < b.size() ? uint8_t(b[i]) : 0; };  // stb: 0 at EOF
  if (b.starts_with("\x89PNG\r\n\x1a\n")) {
    // An empty IDAT chunk before any image data makes stb 2.27 memcpy to a null pointer
    // (UBSan; found by fuzz_image_folder in CI). Chunks: length, type, data, CRC.
    auto be32 = [&](size_t i) { return at(i) << 24 | at(i + 1) << 16 | at(i + 2) << 8 | at(i + 3); };
    size_t image_bytes = 0;
    for (size_t pos = 8; pos + 8 <= b.size();) {
      size_t length = be32(pos);
      std::string_view type = b.substr(pos + 4, 4);
      if (type == "IDAT") {
        if (length == 0 && image_bytes == 0) return "corrupt PNG: empty IDAT chunk before any image data";
        // stb reserves a chunk's declared length before reading it: 2 GB for 100 bytes.
        if (size_t remaining = b.size() - pos - 8; length > remaining)
          return fmt::format("corrupt PNG: the IDAT chunk at byte {} declares {} bytes, {} "
                             "remain in the file", pos, length, remaining);
        image_bytes += length;
      }
      if (type == "IEND" || length > b.size()) break;
      pos += 12 + length;
    }
    return "";
  }
  if (b.starts_with("BM")) return "";
  if (at(0) != 0xFF || at(1) != 0xD8) return "not a PNG, JPEG or BMP file";
  // Markers are 0xFF + a code; stb skips everything else (entropy-coded data, junk) byte by
  // byte, and so does this walk, which therefore sees every segment stb can act on.
  for (size_t pos = 2; pos + 1 < b.size();) {
    size_t code = at(pos + 1);
    if (at(pos) != 0xFF || code == 0x00 || code == 0xFF || code == 0x01 || code == 0xD8 ||
        (code >= 0xD0 && code <= 0xD7)) {  // data, stuffed 0xFF, fill, TEM, SOI, RSTn
      ++pos;
      continue;
    }
    if (code == 0xD9) break;  // EOI
    size_t length = at(pos + 2) << 8 | at(pos + 3);
    if (code == 0xC4) {  // DHT: tables of (class/id byte, 16 counts, sum(counts) symbols)
      for (size_t p = pos + 4, left = length - std::min<size_t>(length, 2); left > 0;) {
        size_t n = 0;
        for (size_t i = 1; i <= 16; ++i) n += at(p + i);
        if (n > 256) return "corrupt JPEG: a Huffman table has more than 256 codes";
        p += 17 + n;
        left -= std::min(left, 17 + n);
      }
    }
    pos += 2 + length;
  }
  return "";
}

const stbi_uc* stb_bytes(const std::string& bytes) {
  return reinterpret_cast<const stbi_uc*>(bytes.data());
}

// The most pixels a file may declare (8192 x 8192). stb allocates for the declared size
// before it finds the pixel data missing, so a 100-byte file claiming 40000 x 40000 pixels
// would cost gigabytes on every decoding thread (found by fuzz_image_folder).
constexpr int64_t kMaxImagePixels = int64_t(1) << 26;

// Reads `path` into `bytes` if stb_image may see them; returns "" or an error message.
std::string read_for_stb(const std::string& path, std::string& bytes) {
  try {
    bytes = read_file(path);
  } catch (const Error& e) {
    return fmt::format("image_folder: {}", e.what());
  }
  std::string problem = check_for_stb(bytes);
  if (problem.empty() && bytes.size() > size_t(std::numeric_limits<int>::max()))
    problem = fmt::format("{} bytes is more than stb_image reads", bytes.size());
  if (!problem.empty()) return fmt::format("image_folder: cannot decode {}: {}", path, problem);
  int w = 0, h = 0, n = 0;  // an unreadable header is left to stbi_load to report
  if (stbi_info_from_memory(stb_bytes(bytes), int(bytes.size()), &w, &h, &n) &&
      std::abs(int64_t(w)) * std::abs(int64_t(h)) > kMaxImagePixels)
    return fmt::format("image_folder: {} is too large to decode: its header declares {}x{} "
                       "(height x width) pixels, more than 2^26 (a damaged file?)",
                       path, std::abs(int64_t(h)), w);
  return "";
}

// Why the last stb call on this thread failed. Call it only after that call: as an argument
// next to the call itself it may be evaluated first (g++ does), giving a stale reason or NULL.
const char* stb_reason() {
  const char* reason = stbi_failure_reason();
  return reason ? reason : "unknown error";
}

// Decodes one image into `out` as channel-major [3, height, width]; returns an error message
// or "" on success. Runs on worker threads, so it reports instead of throwing.
std::string decode(const std::string& path, int height, int width, SizeMismatch on_mismatch,
                   const std::string& size_source, uint8_t* out) {
  std::string bytes;
  if (std::string error = read_for_stb(path, bytes); !error.empty()) return error;
  int w = 0, h = 0, channels_in_file = 0;
  std::unique_ptr<uint8_t, void (*)(void*)> rgb(
      stbi_load_from_memory(stb_bytes(bytes), int(bytes.size()), &w, &h, &channels_in_file, 3),
      stbi_image_free);
  if (!rgb) return fmt::format("image_folder: cannot decode {}: {}", path, stb_reason());
  std::vector<uint8_t> resized;
  const uint8_t* hwc = rgb.get();
  if (h != height || w != width) {
    if (on_mismatch == SizeMismatch::reject)
      return fmt::format("image_folder: {} is {}x{} (height x width), expected {}x{} {}", path, h,
                         w, height, width, size_source);
    resized.resize(size_t(height) * size_t(width) * 3);
    if (!stbir_resize_uint8(hwc, w, h, 0, resized.data(), width, height, 0, 3))
      return fmt::format("image_folder: cannot resize {} from {}x{} to {}x{}", path, h, w, height,
                         width);
    hwc = resized.data();
  }
  size_t plane = size_t(height) * size_t(width);  // stb gives HWC; we store CHW
  for (size_t p = 0; p < plane; ++p)
    for (size_t c = 0; c < 3; ++c) out[c * plane + p] = hwc[p * 3 + c];
  return "";
}

}  // namespace

ImageSet read_image_folder(const std::string& root, const ImageFolderOptions& options) {
  bool sized = options.height != 0 || options.width != 0;
  check(!sized || (options.height > 0 && options.width > 0 && options.height <= 1 << 16 &&
                   options.width <= 1 << 16),
        "image_folder: target size {}x{} (height x width) must be positive and at most 65536",
        options.height, options.width);
  SizeMismatch on_mismatch =
      options.on_size_mismatch.value_or(sized ? SizeMismatch::resize : SizeMismatch::reject);
  check(sized || on_mismatch == SizeMismatch::reject,
        "image_folder: on_size_mismatch = resize needs a target size\n"
        "hint: set .height and .width, e.g. {{.height = 32, .width = 32}}");

  ImageSet set{.channels = 3};
  std::vector<Entry> entries = list_images(root, set.classes);
  std::string size_source =
      "as given in the options\nhint: on_size_mismatch = SizeMismatch::resize resamples it";
  if (sized) {
    set.height = options.height, set.width = options.width;
  } else {  // the first image sets the size; stbi_info reads only its header
    std::string bytes;
    std::string error = read_for_stb(entries[0].path, bytes);
    if (!error.empty()) throw Error(error);
    int w = 0, h = 0, n = 0;
    bool known = stbi_info_from_memory(stb_bytes(bytes), int(bytes.size()), &w, &h, &n);
    check(known, "image_folder: cannot decode {}: {}", entries[0].path, stb_reason());
    // stb 2.27 reports the height of a top-down BMP as negative (its loader flips the sign).
    set.height = std::abs(int64_t(h)), set.width = w;
    size_source = fmt::format(
        "like the first image, {}\nhint: give .height and .width to resize all to one size",
        entries[0].path);
  }

  // stb counts bytes in int: a larger image cannot be decoded (or resized to), so a header that
  // declares one is damaged, and must not make us reserve (and zero) gigabytes first.
  std::string declared = sized ? "the target size" : "the size declared by " + entries[0].path;
  check(set.height > 0 && set.width > 0, "image_folder: {}x{} (height x width, {}) is empty",
        set.height, set.width, declared);
  check(set.height <= std::numeric_limits<int>::max() / 3 / set.width,
        "image_folder: {}x{} (height x width, {}) is too large to decode: 3 x height x width "
        "must be below 2^31", set.height, set.width, declared);
  auto count = int64_t(entries.size());
  size_t image_bytes = size_t(3 * set.height * set.width);
  set.count = count;
  try {
    set.pixels.resize(size_t(count) * image_bytes);
  } catch (const std::bad_alloc&) {
    fail("image_folder: out of memory for {} images of {}x{} ({} bytes)", count, set.height,
         set.width, size_t(count) * image_bytes);
  }
  set.labels.resize(size_t(count));
  std::vector<std::string> errors(entries.size());
  std::atomic<int64_t> first_error = count;  // images after a failed one need not be decoded
#pragma omp parallel for schedule(dynamic, 64)
  for (int64_t i = 0; i < count; ++i) {
    if (i > first_error.load(std::memory_order_relaxed)) continue;
    const Entry& entry = entries[size_t(i)];
    set.labels[size_t(i)] = entry.label;
    errors[size_t(i)] = decode(entry.path, int(set.height), int(set.width), on_mismatch,
                               size_source, set.pixels.data() + size_t(i) * image_bytes);
    if (!errors[size_t(i)].empty()) {  // first_error = min(first_error, i)
      int64_t seen = first_error.load();
      while (i < seen && !first_error.compare_exchange_weak(seen, i)) {
      }
    }
  }
  if (first_error < count) throw Error(errors[size_t(first_error.load())]);
  return set;
}

}  // namespace tg::data
