// Tests of the PNG writer: files decode (stb_image) to the gray levels worked out by hand for
// each scaling (own range, shared range, fixed range with clamping), the grid's layout and gap,
// atomic writes, and every error message naming the function, the path and the bad value.
#include <doctest/doctest.h>
#include <stb/stb_image.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <tapegrad/core/error.h>
#include <tapegrad/plot/png.h>
#include "tests/test_util.h"

namespace {

namespace fs = std::filesystem;
using namespace tg::plot;

fs::path scratch(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("tapegrad-png-" + std::to_string(getpid()));
  fs::create_directories(dir);
  return dir / name;
}

struct Decoded {
  int height = 0, width = 0, channels = 0;
  std::vector<int> pixels;
};

Decoded decode(const fs::path& path) {
  Decoded d;
  unsigned char* data = stbi_load(path.c_str(), &d.width, &d.height, &d.channels, 0);
  REQUIRE_MESSAGE(data != nullptr, stbi_failure_reason());
  d.pixels.assign(data, data + d.width * d.height * d.channels);
  stbi_image_free(data);
  return d;
}

}  // namespace

TEST_CASE("write_png: an image on its own range decodes to the levels computed by hand") {
  // 2 x 3, min -1, max 3: level = round(255 (v + 1) / 4).
  std::vector<float> img = {-1, 0, 1, 2, 3, 0.5f};
  fs::path path = scratch("own.png");
  write_png(path, img, 2, 3);
  Decoded d = decode(path);
  CHECK(d.height == 2);
  CHECK(d.width == 3);
  CHECK(d.channels == 1);
  // 0, 63.75 -> 64, 127.5 -> 128 (half away from zero), 191.25 -> 191, 255, 95.625 -> 96
  CHECK(d.pixels == std::vector<int>{0, 64, 128, 191, 255, 96});
  fs::remove(path);
}

TEST_CASE("write_png: a fixed range clamps, and a constant image is black") {
  std::vector<float> img = {-5, 0.25f, 0.5f, 9};
  fs::path path = scratch("fixed.png");
  write_png(path, img, 2, 2, GrayRange{0, 1});
  CHECK(decode(path).pixels == std::vector<int>{0, 64, 128, 255});  // 63.75 -> 64, 127.5 -> 128
  write_png(path, std::vector<float>(6, 7.f), 3, 2);
  CHECK(decode(path).pixels == std::vector<int>(6, 0));
  CHECK(png_gray(img, 1, 4, GrayRange{-5, 9}) == std::vector<uint8_t>{0, 96, 100, 255});
  fs::remove(path);
}

TEST_CASE("write_png_grid: images side by side with a gap, own or shared ranges") {
  std::vector<float> a = {0, 1, 2, 3}, b = {0, 2, 4, 6};  // 2 x 2 each
  std::vector<std::span<const float>> images = {a, b};
  fs::path path = scratch("grid.png");

  write_png_grid(path, images, 2, 2, {.gap = 1, .gap_gray = 200});
  Decoded own = decode(path);
  CHECK(own.height == 2);
  CHECK(own.width == 5);  // 2 + 1 + 2
  // each on its own range: both become 0, 85, 170, 255
  CHECK(own.pixels == std::vector<int>{0, 85, 200, 0, 85, 170, 255, 200, 170, 255});

  write_png_grid(path, images, 2, 2, {.shared_range = true, .gap = 1});
  // shared [0, 6]: a -> 0, 42.5 -> 43, 85, 127.5 -> 128; b -> 0, 85, 170, 255; gap white
  CHECK(decode(path).pixels == std::vector<int>{0, 43, 255, 0, 85, 85, 128, 255, 170, 255});

  write_png_grid(path, images, 2, 2, {.range = GrayRange{0, 2}, .gap = 0});
  CHECK(decode(path).pixels == std::vector<int>{0, 128, 0, 255, 255, 255, 255, 255});
  fs::remove(path);
}

TEST_CASE("write_png: errors name the function, the path and the bad value") {
  using tg::test::error_of;
  std::vector<float> img = {0, 1, 2, 3};
  fs::path path = scratch("err.png");
  CHECK(error_of([&] { write_png(path, img, 3, 2); })
            .find("write_png: " + path.string() +
                  ": the image has 4 pixels, expected "
                  "3 x 2 = 6") != std::string::npos);
  CHECK_THROWS_CONTAINING(write_png(path, img, 0, 4), "image size 0 x 4");
  CHECK_THROWS_CONTAINING(write_png(path, img, 2, 2, GrayRange{1, 1}), "gray range [1, 1]");
  float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_CONTAINING(write_png(path, img, 2, 2, GrayRange{nan, 1}), "must be finite");
  std::vector<float> with_nan = {0, nan, 2, 3};
  CHECK_THROWS_CONTAINING(write_png(path, with_nan, 2, 2), "pixel 1 is nan");
  CHECK_FALSE(fs::exists(path));  // nothing written on error

  fs::path unwritable = scratch("no-such-dir") / "x.png";
  CHECK_THROWS_CONTAINING(write_png(unwritable, img, 2, 2), unwritable.string());
  CHECK_THROWS_CONTAINING(write_png("", img, 2, 2), "write_png: empty path");

  std::vector<float> small = {0, 1};
  std::vector<std::span<const float>> mixed = {img, small};
  CHECK_THROWS_CONTAINING(write_png_grid(path, mixed, 2, 2), "image 1 has 2 pixels");
  CHECK_THROWS_CONTAINING(write_png_grid(path, {}, 2, 2),
                          "write_png_grid: " + path.string() + ": no images");
  std::vector<std::span<const float>> one = {img};
  CHECK_THROWS_CONTAINING(write_png_grid(path, one, 2, 2, {.gap = -1}), "gap -1");
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("write_png: an existing file is replaced whole, and kept when the new one is bad") {
  fs::path path = scratch("replace.png");
  std::vector<float> first = {0, 1}, second = {1, 0, 1, 0};
  write_png(path, first, 1, 2);
  CHECK_THROWS_AS(write_png(path, second, 3, 3), tg::Error);
  CHECK(decode(path).pixels == std::vector<int>{0, 255});  // the old file, intact
  write_png(path, second, 2, 2);
  Decoded d = decode(path);
  CHECK(d.pixels == std::vector<int>{255, 0, 255, 0});
  fs::remove(path);
  std::error_code ec;
  fs::remove_all(path.parent_path(), ec);
}
