// Tests of the CIFAR-10 binary reader on batch files written here record by record: labels,
// channel-major pixels, batch order, and the messages for damaged or missing files.
#include <doctest/doctest.h>

#include <tapegrad/core/error.h>
#include <tapegrad/data/cifar10.h>
#include <tapegrad/data/dataloader.h>
#include "tests/data/temp_dir.h"

using tg::data::kCifar10RecordBytes;
using tg::data::read_cifar10;
using tg::data::read_cifar10_batch;

namespace {

// The pixel of a made-up image: distinct per image, channel, row and column (mod 256).
uint8_t pixel(int image, int c, int y, int x) { return uint8_t(image * 7 + c * 50 + y * 3 + x); }

// One record in the file format: label byte, then the R, G and B planes, row by row.
std::string record(int label, int image) {
  std::string bytes(1, char(label));
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) bytes += char(pixel(image, c, y, x));
  return bytes;
}

}  // namespace

TEST_CASE("cifar10: a batch file gives labels and [N, 3, 32, 32] pixels in record order") {
  tg::test::TempDir dir;
  std::string path = dir.write("data_batch_1.bin", record(3, 0) + record(9, 1) + record(0, 2));
  tg::data::ImageSet set = read_cifar10_batch(path);
  CHECK(set.count == 3);
  CHECK(set.shape() == tg::Shape{3, 3, 32, 32});
  CHECK(set.labels == std::vector<int64_t>{3, 9, 0});
  REQUIRE(set.pixels.size() == 3 * 3072);
  for (int i = 0; i < 3; ++i)
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; y += 5)
        for (int x = 0; x < 32; x += 3)
          CHECK(set.pixels[size_t(i * 3072 + c * 1024 + y * 32 + x)] == pixel(i, c, y, x));
  CHECK(set.image(1)[1024] == pixel(1, 1, 0, 0));  // image 1, green plane
  REQUIRE(set.classes.size() == 10);
  CHECK(set.classes[0] == "airplane");
  CHECK(set.classes[3] == "cat");
  CHECK(set.classes[9] == "truck");
}

TEST_CASE("cifar10: train reads data_batch_1..5 in order, test reads test_batch") {
  tg::test::TempDir dir;
  for (int b = 1; b <= 5; ++b)
    dir.write(fmt::format("data_batch_{}.bin", b), record(b, 2 * b) + record(b - 1, 2 * b + 1));
  dir.write("test_batch.bin", record(8, 100));
  tg::data::ImageSet train = read_cifar10(dir.path().string(), true);
  CHECK(train.count == 10);
  CHECK(train.labels == std::vector<int64_t>{1, 0, 2, 1, 3, 2, 4, 3, 5, 4});
  CHECK(train.image(9)[0] == pixel(11, 0, 0, 0));
  CHECK(train.image(4)[2 * 1024 + 31 * 32 + 31] == pixel(6, 2, 31, 31));
  tg::data::ImageSet test = read_cifar10(dir.path().string(), false);
  CHECK(test.count == 1);
  CHECK(test.labels == std::vector<int64_t>{8});
  CHECK(test.image(0)[5] == pixel(100, 0, 0, 5));
}

TEST_CASE("cifar10: batches from the loader hold int64 labels") {
  tg::test::TempDir dir;
  std::string path = dir.write("data_batch_1.bin", record(3, 0) + record(9, 1) + record(0, 2));
  auto set = std::make_shared<tg::data::ImageDataset>(read_cifar10_batch(path));
  tg::data::DataLoader loader(set, {.batch_size = 3});
  auto [x, y] = *loader.begin();
  CHECK(x.shape() == tg::Shape{3, 3, 32, 32});
  CHECK(y.dtype() == tg::kInt64);
  CHECK(y.to_vector<int64_t>() == std::vector<int64_t>{3, 9, 0});
}

TEST_CASE("cifar10: damaged files are named with their size or record") {
  tg::test::TempDir dir;
  std::string two = record(1, 0) + record(2, 1);
  CHECK_THROWS_WITH_AS(read_cifar10_batch(dir.write("data_batch_1.bin", two + "x")),
                       "cifar10: data_batch_1.bin is 6147 bytes, expected a multiple of 3073",
                       tg::Error);
  CHECK_THROWS_WITH_AS(read_cifar10_batch(dir.write("data_batch_2.bin", two.substr(0, 5000))),
                       "cifar10: data_batch_2.bin is 5000 bytes, expected a multiple of 3073",
                       tg::Error);
  CHECK_THROWS_WITH_AS(read_cifar10_batch(dir.write("test_batch.bin", "")),
                       "cifar10: test_batch.bin is empty (0 bytes)", tg::Error);
  std::string bad = record(1, 0) + record(4, 1) + record(12, 2);
  CHECK_THROWS_WITH_AS(read_cifar10_batch(dir.write("data_batch_3.bin", bad)),
                       "cifar10: data_batch_3.bin record 2 has label 12, expected 0..9", tg::Error);
}

TEST_CASE("cifar10: a missing file is named, with the command that fetches it") {
  tg::test::TempDir dir;
  std::string missing = (dir.path() / "data_batch_1.bin").string();
  CHECK_THROWS_WITH_AS(
      read_cifar10(dir.path().string(), true),
      doctest::Contains(
          ("cifar10: cannot open " + missing + ": No such file or directory").c_str()),
      tg::Error);
  CHECK_THROWS_WITH_AS(read_cifar10(dir.path().string(), true),
                       doctest::Contains("hint: scripts/fetch-data.sh cifar10"), tg::Error);
  // Only the first four batches present: the fifth is named.
  for (int b = 1; b <= 4; ++b) dir.write(fmt::format("data_batch_{}.bin", b), record(0, 0));
  CHECK_THROWS_WITH_AS(read_cifar10(dir.path().string(), true),
                       doctest::Contains("data_batch_5.bin: No such file or directory"), tg::Error);
  // The parent of cifar-10-batches-bin given instead of the folder itself.
  tg::test::TempDir parent;
  parent.write("cifar-10-batches-bin/test_batch.bin", record(0, 0));
  CHECK_THROWS_WITH_AS(
      read_cifar10(parent.path().string(), false),
      doctest::Contains(
          ("hint: did you mean the folder " + (parent / "cifar-10-batches-bin") + "?").c_str()),
      tg::Error);
}

TEST_CASE("load_cifar10 finds the binary batches or the image folders under a root") {
  tg::test::TempDir dir;
  dir.write("nested/cifar-10-batches-bin/test_batch.bin", record(4, 0) + record(2, 1));
  dir.write("flat/test_batch.bin", record(7, 0));
  CHECK(tg::data::load_cifar10(dir / "nested", false).labels == std::vector<int64_t>{4, 2});
  CHECK(tg::data::load_cifar10(dir / "flat", false).labels == std::vector<int64_t>{7});
  // An image folder per split: 32 x 32 BMP files (24-bit, bottom-up rows), one per class here.
  auto bmp = [](uint8_t grey) {
    std::string b = "BM" + std::string(52, '\0') + std::string(32 * 32 * 3, char(grey));
    auto put = [&](size_t at, uint32_t v) {
      for (int i = 0; i < 4; ++i) b[at + size_t(i)] = char((v >> (8 * i)) & 0xff);
    };
    put(2, uint32_t(b.size())), put(10, 54), put(14, 40), put(18, 32), put(22, 32);
    b[26] = 1, b[28] = 24;  // one plane, 24 bits per pixel
    return b;
  };
  for (const char* split : {"train", "test"}) {
    dir.write(fmt::format("jpg/cifar10-jpg/{}/cat/0.bmp", split), bmp(10));
    dir.write(fmt::format("jpg/cifar10-jpg/{}/dog/0.bmp", split), bmp(200));
  }
  tg::data::ImageSet train = tg::data::load_cifar10(dir / "jpg", true);
  CHECK(train.classes == std::vector<std::string>{"cat", "dog"});
  CHECK(train.labels == std::vector<int64_t>{0, 1});
  CHECK(train.image(1)[5] == 200);
  CHECK(tg::data::load_cifar10(dir / "jpg/cifar10-jpg", false).count == 2);
}

TEST_CASE("load_cifar10 names the root when it holds no CIFAR-10") {
  tg::test::TempDir dir;
  std::string missing = dir / "missing", empty = dir.path().string();
  std::string message;
  try {
    tg::data::load_cifar10(missing, true);
  } catch (const tg::Error& e) {
    message = e.what();
  }
  CHECK(message == "load_cifar10: " + missing +
                       ": no such directory; fetch CIFAR-10 with `scripts/fetch-data.sh cifar10` "
                       "(it unpacks to datasets/)");
  try {
    tg::data::load_cifar10(empty, true);
  } catch (const tg::Error& e) {
    message = e.what();
  }
  CHECK(message == "load_cifar10: " + empty + ": no CIFAR-10 there: expected " + empty +
                       "/cifar-10-batches-bin/ (binary batches), " + empty +
                       "/cifar10-jpg/{train,test}/ (image folders), or the folder itself being "
                       "either");
}
