// The PNG writer: scale floats to 8-bit gray, lay images out in a row, encode with
// stb_image_write into memory and hand the bytes to write_file_atomic. The stb implementation
// comes from Debian's libstb (the `stb` dependency), as data/'s image decoding does.
#include <tapegrad/plot/png.h>

#include <stb/stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include <tapegrad/core/atomic_file.h>
#include <tapegrad/core/error.h>

namespace tg::plot {
namespace {

// stb takes int sizes; 2^15 per side keeps every product below 2^31 with room to spare.
constexpr int64_t kMaxSide = 1 << 15;

void check_size(const std::string& op, int64_t height, int64_t width) {
  check(height > 0 && width > 0 && height <= kMaxSide && width <= kMaxSide,
        "{}: image size {} x {} must be between 1 and {} on each side", op, height, width,
        kMaxSide);
}

void check_range(const std::string& op, GrayRange r) {
  check(std::isfinite(r.lo) && std::isfinite(r.hi) && r.lo < r.hi,
        "{}: gray range [{}, {}] must be finite with lo < hi", op, r.lo, r.hi);
}

// Checks every pixel is finite and returns their [min, max].
GrayRange finite_min_max(const std::string& op, std::span<const float> pixels) {
  GrayRange r{std::numeric_limits<float>::max(), std::numeric_limits<float>::lowest()};
  for (size_t i = 0; i < pixels.size(); ++i) {
    check(std::isfinite(pixels[i]), "{}: pixel {} is {}, not a finite number", op, i, pixels[i]);
    r.lo = std::min(r.lo, pixels[i]);
    r.hi = std::max(r.hi, pixels[i]);
  }
  return r;
}

// Maps pixels to gray levels; a degenerate range (a constant image) maps to 0.
void scale_into(std::span<const float> pixels, GrayRange r, uint8_t* out, int64_t stride,
                int64_t width) {
  const double span = double(r.hi) - r.lo;
  for (size_t i = 0; i < pixels.size(); ++i) {
    double t = span > 0 ? (std::clamp(pixels[i], r.lo, r.hi) - double(r.lo)) / span : 0.0;
    out[int64_t(i) / width * stride + int64_t(i) % width] = uint8_t(std::lround(255.0 * t));
  }
}

void check_pixel_count(const std::string& op, size_t count, int64_t height, int64_t width,
                       const std::string& which) {
  check(int64_t(count) == height * width, "{}: {} has {} pixels, expected {} x {} = {}", op, which,
        count, height, width, height * width);
}

void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), size_t(size));
}

// png_gray under the name of the calling function.
std::vector<uint8_t> gray_levels(const std::string& op, std::span<const float> pixels,
                                 int64_t height, int64_t width, std::optional<GrayRange> range) {
  check_size(op, height, width);
  check_pixel_count(op, pixels.size(), height, width, "the image");
  GrayRange own = finite_min_max(op, pixels);
  if (range) check_range(op, *range);
  std::vector<uint8_t> gray(size_t(height * width));
  scale_into(pixels, range.value_or(own), gray.data(), width, width);
  return gray;
}

}  // namespace

std::vector<uint8_t> png_gray(std::span<const float> pixels, int64_t height, int64_t width,
                              std::optional<GrayRange> range) {
  return gray_levels("png_gray", pixels, height, width, range);
}

std::string encode_png(std::span<const uint8_t> gray, int64_t height, int64_t width) {
  check_size("encode_png", height, width);
  check_pixel_count("encode_png", gray.size(), height, width, "the image");
  std::string bytes;
  int ok = stbi_write_png_to_func(append_bytes, &bytes, int(width), int(height), 1, gray.data(),
                                  int(width));
  check(ok != 0, "encode_png: stb_image_write failed on a {} x {} image", height, width);
  return bytes;
}

void write_png(const std::filesystem::path& path, std::span<const float> pixels, int64_t height,
               int64_t width, std::optional<GrayRange> range) {
  check(!path.empty(), "write_png: empty path");
  std::vector<uint8_t> gray =
      gray_levels("write_png: " + path.string(), pixels, height, width, range);
  write_file_atomic(path.string(), encode_png(gray, height, width));
}

void write_png_grid(const std::filesystem::path& path,
                    const std::vector<std::span<const float>>& images, int64_t height,
                    int64_t width, const PngGridOptions& options) {
  const std::string op = "write_png_grid: " + path.string();
  check(!path.empty(), "write_png_grid: empty path");
  check(!images.empty(), "{}: no images", op);
  check(options.gap >= 0, "{}: gap {} must be >= 0", op, options.gap);
  check_size(op, height, width);
  const int64_t n = int64_t(images.size());
  const int64_t total_width = n * width + (n - 1) * options.gap;
  check(total_width <= kMaxSide,
        "{}: {} images of width {} with gap {} are {} pixels wide, at "
        "most {}",
        op, n, width, options.gap, total_width, kMaxSide);

  std::vector<GrayRange> ranges;
  GrayRange all{std::numeric_limits<float>::max(), std::numeric_limits<float>::lowest()};
  for (int64_t k = 0; k < n; ++k) {
    check_pixel_count(op, images[k].size(), height, width, "image " + std::to_string(k));
    ranges.push_back(finite_min_max(op + ": image " + std::to_string(k), images[k]));
    all = {std::min(all.lo, ranges.back().lo), std::max(all.hi, ranges.back().hi)};
  }
  if (options.range) check_range(op, *options.range);

  std::vector<uint8_t> gray(size_t(height * total_width), options.gap_gray);
  for (int64_t k = 0; k < n; ++k) {
    GrayRange r = options.range ? *options.range : options.shared_range ? all : ranges[k];
    scale_into(images[k], r, gray.data() + k * (width + options.gap), total_width, width);
  }
  write_file_atomic(path.string(), encode_png(gray, height, total_width));
}

}  // namespace tg::plot
