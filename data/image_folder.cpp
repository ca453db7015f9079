// Lists root/<class>/<file> in sorted order, then decodes the images in parallel (one OpenMP
// loop; stb_image keeps its error text per thread). Errors cannot leave an OpenMP loop as
// exceptions, so each image records its message and the first failing image (in sorted
// order, whatever the thread timing) is thrown after the loop.
#include "data/image_folder.h"

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <memory>

#include "core/error.h"

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
  auto dirs = sorted_entries(root, [](const fs::directory_entry& e) { return e.is_directory(); });
  check(!dirs.empty(), "image_folder: {} has no class folders (expected {}/<class>/<image files>)",
        root.string(), root.string());
  std::vector<Entry> entries;
  for (const fs::path& dir : dirs) {
    auto files = sorted_entries(dir, [](const fs::directory_entry& e) {
      return e.is_regular_file() && is_image_file(e.path());
    });
    check(!files.empty(), "image_folder: class folder {} has no .png, .jpg, .jpeg or .bmp files",
          dir.string());
    for (const fs::path& file : files) entries.push_back({file.string(), int64_t(classes.size())});
    classes.push_back(dir.filename().string());
  }
  return entries;
}

// Decodes one image into `out` as channel-major [3, height, width]; returns an error message
// or "" on success. Runs on worker threads, so it reports instead of throwing.
std::string decode(const std::string& path, int height, int width, SizeMismatch on_mismatch,
                   const std::string& size_source, uint8_t* out) {
  int w = 0, h = 0, channels_in_file = 0;
  std::unique_ptr<uint8_t, void (*)(void*)> rgb(
      stbi_load(path.c_str(), &w, &h, &channels_in_file, 3), stbi_image_free);
  if (!rgb) return fmt::format("image_folder: cannot decode {}: {}", path, stbi_failure_reason());
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
    int w = 0, h = 0, n = 0;
    check(stbi_info(entries[0].path.c_str(), &w, &h, &n), "image_folder: cannot decode {}: {}",
          entries[0].path, stbi_failure_reason());
    set.height = h, set.width = w;
    size_source = fmt::format(
        "like the first image, {}\nhint: give .height and .width to resize all to one size",
        entries[0].path);
  }

  auto count = int64_t(entries.size());
  size_t image_bytes = size_t(3 * set.height * set.width);
  set.count = count;
  set.pixels.resize(size_t(count) * image_bytes);
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
