// Tests of the image-folder reader on PNG, BMP and JPEG files written here with stb_image_write:
// class and file order, channel-major layout, grey and alpha inputs, size policies, and one
// case per error message (including the first bad image among many decoded in parallel).
#include <doctest/doctest.h>
#include <stb/stb_image_write.h>

#include <filesystem>

#include <tapegrad/core/error.h>
#include <tapegrad/data/dataset.h>
#include <tapegrad/data/image_folder.h>
#include "tests/data/temp_dir.h"

using tg::data::ImageFolderOptions;
using tg::data::ImageSet;
using tg::data::read_image_folder;
using tg::data::SizeMismatch;

namespace {

// A made-up pixel value, distinct per image, channel, row and column.
uint8_t value(int image, int c, int y, int x) { return uint8_t(image * 40 + c * 60 + y * 9 + x); }

// Writes an interleaved (HWC) image of `channels` channels filled by value(), in the format
// named by the extension; returns its path.
std::string write_image(const tg::test::TempDir& dir, const std::string& name, int image,
                        int height, int width, int channels = 3) {
  std::vector<uint8_t> hwc;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c) hwc.push_back(value(image, c, y, x));
  std::string path = dir / name;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::string ext = std::filesystem::path(path).extension().string();
  int ok = 0;
  if (ext == ".png" || ext == ".PNG")
    ok = stbi_write_png(path.c_str(), width, height, channels, hwc.data(), width * channels);
  else if (ext == ".bmp")
    ok = stbi_write_bmp(path.c_str(), width, height, channels, hwc.data());
  else
    ok = stbi_write_jpg(path.c_str(), width, height, channels, hwc.data(), 100);
  REQUIRE(ok);
  return path;
}

// A flat-coloured JPEG: JPEG is lossy, but a flat colour survives it almost exactly.
void write_flat_jpg(const tg::test::TempDir& dir, const std::string& name, int height, int width,
                    uint8_t r, uint8_t g, uint8_t b) {
  std::vector<uint8_t> hwc;
  for (int p = 0; p < height * width; ++p) hwc.insert(hwc.end(), {r, g, b});
  std::string path = dir / name;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  REQUIRE(stbi_write_jpg(path.c_str(), width, height, 3, hwc.data(), 100));
}

// Pixel (c, y, x) of image i in a channel-major ImageSet.
int at(const ImageSet& set, int64_t i, int c, int y, int x) {
  return set.image(i)[size_t((c * set.height + y) * set.width + x)];
}

}  // namespace

TEST_CASE("image_folder: classes and files sorted by name, channel-major RGB pixels") {
  tg::test::TempDir dir;
  write_image(dir, "dog/b.png", 0, 3, 4);
  write_image(dir, "dog/a.bmp", 1, 3, 4);
  write_image(dir, "dog/C.PNG", 2, 3, 4);         // 'C' < 'a' byte-wise, as Python's sorted() does
  write_image(dir, "cat/x.png", 3, 3, 4, 4);      // RGBA: alpha is dropped
  write_image(dir, "bird/grey.png", 4, 3, 4, 1);  // grey: copied to R, G and B
  write_flat_jpg(dir, "bird/j.JPEG", 3, 4, 200, 100, 50);
  dir.write("dog/notes.txt", "not an image, skipped");
  dir.write("readme.txt", "a file in the root is not a class");

  ImageSet set = read_image_folder(dir.path().string());
  CHECK(set.classes == std::vector<std::string>{"bird", "cat", "dog"});
  CHECK(set.shape() == tg::Shape{6, 3, 3, 4});
  CHECK(set.labels == std::vector<int64_t>{0, 0, 1, 2, 2, 2});
  REQUIRE(set.pixels.size() == 6 * 3 * 3 * 4);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x)
      for (int c = 0; c < 3; ++c) {
        CHECK(at(set, 0, c, y, x) == value(4, 0, y, x));                       // bird/grey.png
        CHECK(std::abs(at(set, 1, c, y, x) - (c == 0 ? 200 : 100 / c)) <= 2);  // bird/j.JPEG
        CHECK(at(set, 2, c, y, x) == value(3, c, y, x));                       // cat/x.png
        CHECK(at(set, 3, c, y, x) == value(2, c, y, x));                       // dog/C.PNG
        CHECK(at(set, 4, c, y, x) == value(1, c, y, x));                       // dog/a.bmp
        CHECK(at(set, 5, c, y, x) == value(0, c, y, x));                       // dog/b.png
      }
}

TEST_CASE("image_folder: an ImageDataset of it gives int64 class indices") {
  tg::test::TempDir dir;
  write_image(dir, "b/x.png", 0, 2, 2);
  write_image(dir, "a/y.png", 1, 2, 2);
  tg::data::ImageDataset set(read_image_folder(dir.path().string()));
  tg::data::Batch batch = set.get_batch(std::vector<int64_t>{0, 1});
  CHECK(batch.target.dtype() == tg::kInt64);
  CHECK(batch.target.to_vector<int64_t>() == std::vector<int64_t>{0, 1});  // a, then b
}

TEST_CASE("image_folder: many images decoded in parallel land in their own slots") {
  tg::test::TempDir dir;
  for (int i = 0; i < 300; ++i)
    write_image(dir, fmt::format("{}/{:03}.png", i % 2 ? "odd" : "even", i), i, 5, 6);
  ImageSet set = read_image_folder(dir.path().string());
  REQUIRE(set.count == 300);
  for (int64_t k = 0; k < 300; ++k) {
    int i = k < 150 ? int(2 * k) : int(2 * (k - 150) + 1);  // "even" sorts before "odd"
    CHECK(set.labels[size_t(k)] == (k < 150 ? 0 : 1));
    CHECK(at(set, k, 2, 4, 5) == value(i, 2, 4, 5));
    CHECK(at(set, k, 0, 0, 0) == value(i, 0, 0, 0));
  }
}

TEST_CASE("image_folder: size mismatches are rejected by default, resized on request") {
  tg::test::TempDir dir;
  std::string first = write_image(dir, "a/1.png", 0, 3, 4);
  std::string wide = write_image(dir, "b/2.png", 1, 5, 7);
  CHECK_THROWS_WITH_AS(read_image_folder(dir.path().string()),
                       doctest::Contains(("image_folder: " + wide +
                                          " is 5x7 (height x width), expected 3x4 like the first "
                                          "image, " +
                                          first)
                                             .c_str()),
                       tg::Error);
  CHECK_THROWS_WITH_AS(
      read_image_folder(dir.path().string(),
                        {.height = 3, .width = 4, .on_size_mismatch = SizeMismatch::reject}),
      doctest::Contains((wide + " is 5x7 (height x width), expected 3x4 as given").c_str()),
      tg::Error);

  tg::test::TempDir flat;
  write_flat_jpg(flat, "a/1.jpg", 3, 4, 10, 120, 250);
  write_flat_jpg(flat, "b/2.jpg", 20, 30, 90, 60, 30);
  ImageSet set = read_image_folder(flat.path().string(), {.height = 8, .width = 8});  // resizes
  CHECK(set.shape() == tg::Shape{2, 3, 8, 8});
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) {
      CHECK(std::abs(at(set, 0, 0, y, x) - 10) <= 2);  // a flat colour stays flat
      CHECK(std::abs(at(set, 0, 2, y, x) - 250) <= 2);
      CHECK(std::abs(at(set, 1, 1, y, x) - 60) <= 2);
    }
}

TEST_CASE("image_folder: undecodable images are named with stb_image's reason") {
  tg::test::TempDir dir;
  write_image(dir, "a/0.png", 0, 2, 2);
  std::string bad = dir.write("a/1.jpg", "not a jpeg");
  CHECK_THROWS_WITH_AS(read_image_folder(dir.path().string()),
                       doctest::Contains(("image_folder: cannot decode " + bad + ": ").c_str()),
                       tg::Error);
  tg::test::TempDir first_bad;  // the first image sets the size, so it is read on its own first
  std::string bad0 = first_bad.write("a/0.bmp", "BM but not really");
  write_image(first_bad, "a/1.png", 0, 2, 2);
  CHECK_THROWS_WITH_AS(read_image_folder(first_bad.path().string()),
                       doctest::Contains(("image_folder: cannot decode " + bad0 + ": ").c_str()),
                       tg::Error);
  // Among many images decoded in parallel, the first bad one in sorted order is reported.
  tg::test::TempDir many;
  for (int i = 0; i < 400; ++i) write_image(many, fmt::format("c/{:03}.png", i), i, 2, 2);
  many.write("c/250.png", "garbage");
  std::string first = many.write("c/150.png", "garbage");
  CHECK_THROWS_WITH_AS(read_image_folder(many.path().string()),
                       doctest::Contains(("cannot decode " + first + ": ").c_str()), tg::Error);
}

TEST_CASE("image_folder: headers declaring huge images are refused before stb allocates") {
  // A PNG of signature, IHDR and IEND only (stb ignores CRCs), declaring height x width.
  auto png_header = [](uint32_t height, uint32_t width) {
    auto be32 = [](uint32_t v) {
      return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
    };
    std::string ihdr = be32(width) + be32(height) + std::string("\x08\x02\x00\x00\x00", 5);
    return std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + "IHDR" + ihdr + be32(0) + be32(0) +
           "IEND" + be32(0);
  };
  for (ImageFolderOptions options : {ImageFolderOptions{}, ImageFolderOptions{.height = 8, .width = 8}}) {
    tg::test::TempDir dir;
    write_image(dir, "a/0.png", 0, 8, 8);
    std::string big = dir.write("a/1.png", png_header(9000, 8000));  // 72 M pixels > 2^26
    CHECK_THROWS_WITH_AS(read_image_folder(dir.path().string(), options),
                         doctest::Contains((big + " is too large to decode: its header declares "
                                            "9000x8000 (height x width) pixels").c_str()),
                         tg::Error);
  }
  tg::test::TempDir ok;  // 8192 x 8192 is exactly the limit: allowed through to decoding
  std::string limit = ok.write("a/0.png", png_header(8192, 8192));
  CHECK_THROWS_WITH_AS(read_image_folder(ok.path().string(), {.height = 8, .width = 8}),
                       doctest::Contains(("cannot decode " + limit + ": ").c_str()), tg::Error);
}

TEST_CASE("image_folder: missing root, no class folders, empty class folder, bad options") {
  tg::test::TempDir dir;
  CHECK_THROWS_WITH_AS(read_image_folder(dir / "none"),
                       ("image_folder: " + (dir / "none") + " does not exist").c_str(), tg::Error);
  std::string file = dir.write("file.png", "x");
  CHECK_THROWS_WITH_AS(read_image_folder(file),
                       ("image_folder: " + file + " is not a directory").c_str(), tg::Error);
  CHECK_THROWS_WITH_AS(
      read_image_folder(dir.path().string()),
      doctest::Contains(("image_folder: " + dir.path().string() + " has no class folders").c_str()),
      tg::Error);
  write_image(dir, "a/0.png", 0, 2, 2);
  dir.write("b/readme.txt", "no images here");
  CHECK_THROWS_WITH_AS(
      read_image_folder(dir.path().string()),
      ("image_folder: class folder " + (dir / "b") + " has no .png, .jpg, .jpeg or .bmp files")
          .c_str(),
      tg::Error);
  CHECK_THROWS_WITH_AS(
      read_image_folder(dir.path().string(), {.on_size_mismatch = SizeMismatch::resize}),
      doctest::Contains("on_size_mismatch = resize needs a target size"), tg::Error);
  CHECK_THROWS_WITH_AS(read_image_folder(dir.path().string(), {.height = 32}),
                       "image_folder: target size 32x0 (height x width) must be positive and at "
                       "most 65536",
                       tg::Error);
  CHECK_THROWS_WITH_AS(read_image_folder(dir.path().string(), {.height = -1, .width = 4}),
                       doctest::Contains("target size -1x4"), tg::Error);
}

TEST_CASE("image_folder: symlink loops and broken links are skipped, not thrown") {
  tg::test::TempDir dir;
  write_image(dir, "dog/a.png", 0, 3, 4);
  std::filesystem::create_directory_symlink(dir / "loop_b", dir / "loop_a");
  std::filesystem::create_directory_symlink(dir / "loop_a", dir / "loop_b");
  std::filesystem::create_symlink(dir / "dog/missing.png", dir / "dog/broken.png");
  ImageSet set = read_image_folder(dir.path().string());
  CHECK(set.classes == std::vector<std::string>{"dog"});
  CHECK(set.count == 1);
}
