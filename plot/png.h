// Grayscale PNG images from plain numbers: one image, or a row of equally sized images with a
// small gap between them (ground truth | raw | reconstructed), each mapped linearly to 0..255
// from its own [min, max] or from one shared range. Like svg.h it sees numbers, not tensors:
// pass `t.to_vector()` (row-major, H x W). Files are written atomically (core/atomic_file.h).
//
//   std::vector<float> img = t.to_vector();
//   tg::plot::write_png("x.png", img, 64, 64);                      // its own [min, max]
//   tg::plot::write_png_grid("cmp.png", {truth, raw, fused}, 64, 64, {.shared_range = true});
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tg::plot {

/// The values drawn black (lo) and white (hi); values outside are clamped. Needs lo < hi.
struct GrayRange {
  float lo = 0, hi = 1;
};

/// How write_png_grid lays out and scales its images.
struct PngGridOptions {
  std::optional<GrayRange> range{};  ///< one fixed range for every image (wins over shared_range)
  bool shared_range = false;         ///< true: the min and max over all images; false: each its own
  int gap = 2;                       ///< pixels between neighbouring images (>= 0)
  uint8_t gap_gray = 255;            ///< the gap's colour (255: white)
};

/// The 8-bit gray levels of an image: round(255 (clamp(v, lo, hi) - lo) / (hi - lo)).
/// Default range: the image's own [min, max]; a constant image is then all 0 (black).
/// Throws tg::Error ("png_gray: ...") on a size mismatch, a NaN or infinite pixel, or a bad range.
std::vector<uint8_t> png_gray(std::span<const float> pixels, int64_t height, int64_t width,
                              std::optional<GrayRange> range = {});

/// The PNG file's bytes for an 8-bit gray image of height x width (stb_image_write).
std::string encode_png(std::span<const uint8_t> gray, int64_t height, int64_t width);

/// Writes a height x width image (row-major) as an 8-bit grayscale PNG, scaled as png_gray
/// does. Atomic: on any error the old file (if any) stays. Errors name the function and path.
void write_png(const std::filesystem::path& path, std::span<const float> pixels, int64_t height,
               int64_t width, std::optional<GrayRange> range = {});

/// Writes several height x width images side by side, left to right, `options.gap` pixels
/// apart, as one grayscale PNG of height x (n width + (n - 1) gap). Errors name the path and
/// the offending image ("write_png_grid: <path>: image 2 has 30 pixels, expected 4 x 8 = 32").
void write_png_grid(const std::filesystem::path& path,
                    const std::vector<std::span<const float>>& images, int64_t height,
                    int64_t width, const PngGridOptions& options = {});

}  // namespace tg::plot
