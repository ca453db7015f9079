// Tests of the IDX reader and the MNIST / Fashion-MNIST splits on files written here, raw and
// gzip-compressed (zlib's deflate, in memory), with each damaged-file message checked; and, when
// Debian's dataset-fashion-mnist is installed, the real files against values read from them
// independently with Python's gzip module.
#include <doctest/doctest.h>
#include <zlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include <tapegrad/core/error.h>
#include <tapegrad/data/dataset.h>
#include <tapegrad/data/mnist.h>
#include "tests/data/temp_dir.h"

using tg::data::read_fashion_mnist;
using tg::data::read_idx;
using tg::data::read_mnist;

namespace {

// An IDX header: 00 00, type code, dim count, the dims as big-endian uint32.
std::string header(std::vector<uint32_t> dims, int type = 0x08) {
  std::string b = {0, 0, char(type), char(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) b += char((d >> shift) & 0xff);
  return b;
}

// The pixel of a made-up image: distinct per image, row and column (mod 256).
uint8_t pixel(int image, int y, int x) { return uint8_t(image * 13 + y * 5 + x * 3 + 1); }

// An images file of n 28 x 28 images (first image `first`); dims may be overridden.
std::string images(int n, int first = 0) {
  std::string b = header({uint32_t(n), 28, 28});
  for (int i = first; i < first + n; ++i)
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x) b += char(pixel(i, y, x));
  return b;
}

std::string labels(const std::vector<uint8_t>& values) {
  return header({uint32_t(values.size())}) + std::string(values.begin(), values.end());
}

// A gzip stream of `raw` (deflate with the gzip wrapper: window bits 15 + 16).
std::string gzip(const std::string& raw) {
  z_stream s{};
  REQUIRE(deflateInit2(&s, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&s, uLong(raw.size())), '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  s.avail_in = uInt(raw.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = uInt(out.size());
  REQUIRE(deflate(&s, Z_FINISH) == Z_STREAM_END);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

// The message of the tg::Error that f throws ("" when it throws none).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const tg::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("read_idx: dims and bytes of raw and gzip files") {
  tg::test::TempDir dir;
  std::string raw = header({2, 3}) + std::string{1, 2, 3, 4, 5, 6};
  for (const std::string& path : {dir.write("a.idx", raw), dir.write("a.idx.gz", gzip(raw)),
                                  dir.write("gzip-without-suffix", gzip(raw))}) {
    INFO(path);
    tg::data::IdxArray a = read_idx(path);
    CHECK(a.dims == std::vector<int64_t>{2, 3});
    CHECK(a.data == std::vector<uint8_t>{1, 2, 3, 4, 5, 6});
  }
  // No dims: one element (a scalar); a zero dim: no data.
  CHECK(read_idx(dir.write("scalar", header({}) + "\x07")).data == std::vector<uint8_t>{7});
  tg::data::IdxArray empty = read_idx(dir.write("empty", header({4, 0, 9})));
  CHECK(empty.dims == std::vector<int64_t>{4, 0, 9});
  CHECK(empty.data.empty());
  // Larger than the first 1 MB chunk: the buffer grows (doubling) as the data arrives.
  std::string big = header({3, 3000, 2000});
  big.resize(big.size() + 18'000'000, '\x05');
  big[big.size() - 1] = 9;
  tg::data::IdxArray b = read_idx(dir.write("big.gz", gzip(big)));
  REQUIRE(b.data.size() == 18'000'000);
  CHECK(b.data[17'999'999] == 9);
  CHECK(b.data[16'777'216] == 5);
}

TEST_CASE("read_mnist: [N, 1, 28, 28] images and labels from raw and gzip files") {
  tg::test::TempDir dir;
  dir.write("train-images-idx3-ubyte", images(3));
  dir.write("train-labels-idx1-ubyte", labels({5, 0, 9}));
  dir.write("t10k-images-idx3-ubyte.gz", gzip(images(2, 10)));
  dir.write("t10k-labels-idx1-ubyte.gz", gzip(labels({7, 2})));

  tg::data::ImageSet train = read_mnist(dir.path().string(), true);
  CHECK(train.shape() == tg::Shape{3, 1, 28, 28});
  CHECK(train.labels == std::vector<int64_t>{5, 0, 9});
  REQUIRE(train.pixels.size() == 3 * 784);
  for (int i = 0; i < 3; ++i)
    for (int y = 0; y < 28; y += 3)
      for (int x = 0; x < 28; x += 4)
        CHECK(train.pixels[size_t(i * 784 + y * 28 + x)] == pixel(i, y, x));
  CHECK(train.classes.size() == 10);
  CHECK(train.classes[7] == "7 - seven");

  tg::data::ImageSet test = read_fashion_mnist(dir.path().string(), false);
  CHECK(test.shape() == tg::Shape{2, 1, 28, 28});
  CHECK(test.labels == std::vector<int64_t>{7, 2});
  CHECK(test.image(1)[27 * 28 + 27] == pixel(11, 27, 27));
  CHECK(test.classes[0] == "T-shirt/top");
  CHECK(test.classes[9] == "Ankle boot");

  // Through ImageDataset: floats in [0, 1] (pixel / 255) and int64 labels.
  tg::data::ImageDataset set(test);
  tg::data::Batch b = set.get(1);
  CHECK(b.input.shape() == tg::Shape{1, 28, 28});
  CHECK(b.input.data()[3 * 28 + 4] == doctest::Approx(pixel(11, 3, 4) / 255.0));
  CHECK(b.target.dtype() == tg::kInt64);
  CHECK(b.target.item<int64_t>() == 2);
}

TEST_CASE("read_idx: damaged files are named with what is wrong") {
  tg::test::TempDir dir;
  auto error = [&](const std::string& name, const std::string& bytes) {
    std::string path = dir.write(name, bytes);
    return error_of([&] { read_idx(path); });
  };
  CHECK(error("a", "\x01\x02\x08\x01rest") ==
        "read_idx: " + dir / "a" +
            ": bad magic 01 02 08 01: an IDX file starts with 00 00, a type code and a dim count");
  CHECK(error("b", std::string("\0\0", 2)) ==
        "read_idx: " + dir / "b" + ": 2 bytes, too short for the 4-byte IDX magic");
  CHECK(error("c", header({1}, 0x07) + "x") ==
        "read_idx: " + dir / "c" + ": unknown type code 0x07 (IDX knows 08, 09, 0b..0e)");
  CHECK(error("d", header({1}, 0x0D) + "abcd") ==
        "read_idx: " + dir / "d" +
            ": type code 0x0d (float32) is not supported: only unsigned bytes (0x08)");
  CHECK(error("e", header({2, 3}).substr(0, 9)) ==
        "read_idx: " + dir / "e" + ": truncated inside the header: 2 dims need 8 bytes, 5 found");
  CHECK(error("f", header({2, 3}) + "12345") ==
        "read_idx: " + dir / "f" +
            ": truncated: dims [2, 3] declare 6 bytes of data, the file holds 5");
  CHECK(error("g.gz", gzip(header({2, 3}) + "1234")) ==
        "read_idx: " + dir / "g.gz" +
            ": truncated: dims [2, 3] declare 6 bytes of data, the file holds 4");
  CHECK(error("h", header({2, 3}) + "1234567") ==
        "read_idx: " + dir / "h" +
            ": more data than dims [2, 3] declare (6 bytes); a wrong header?");
  CHECK(error("i", header({65536, 65536, 65536}) + "x") ==
        "read_idx: " + dir / "i" + ": dims [65536, 65536, 65536]... declare more than 2^40 bytes");
  // A header declaring 2^39 bytes over a tiny file: refused without allocating them.
  CHECK(error("j", header({1 << 19, 1 << 20}) + "xy") ==
        "read_idx: " + dir / "j" +
            ": truncated: dims [524288, 1048576] declare 549755813888 bytes of data, the file "
            "holds 2");
  CHECK(error_of([&] { read_idx(dir / "missing"); }) ==
        "read_idx: cannot open " + dir / "missing" + ": No such file or directory");
  std::filesystem::create_directories(dir.path() / "folder");
  CHECK(error_of([&] { read_idx(dir / "folder"); }) ==
        "read_idx: cannot read " + dir / "folder" + ": Is a directory");
}

TEST_CASE("read_idx: a cut or corrupted gzip stream is named") {
  tg::test::TempDir dir;
  std::string stream = gzip(images(4));
  auto error = [&](const std::string& name, const std::string& bytes) {
    std::string path = dir.write(name, bytes);
    return error_of([&] { read_idx(path); });
  };
  CHECK(error("cut.gz", stream.substr(0, stream.size() / 2)) ==
        "read_idx: " + dir / "cut.gz" +
            ": corrupted gzip stream (unexpected end of file); truncated download?");
  std::string bad_crc = stream;
  bad_crc[bad_crc.size() - 6] ^= 0x55;  // the CRC-32 of the trailer
  CHECK(error("crc.gz", bad_crc) ==
        "read_idx: " + dir / "crc.gz" + ": corrupted gzip stream (incorrect data check)");
  std::string bad_block = stream;
  bad_block[10] = char(0x07);  // the first deflate block's header: block type 3 (reserved)
  CHECK(error("block.gz", bad_block) ==
        "read_idx: " + dir / "block.gz" + ": corrupted gzip stream (invalid block type)");
}

TEST_CASE("read_mnist: files that do not fit together are named") {
  tg::test::TempDir dir;
  std::string root = dir.path().string();
  auto error = [&](const std::string& image_bytes, const std::string& label_bytes) {
    dir.write("t10k-images-idx3-ubyte", image_bytes);
    dir.write("t10k-labels-idx1-ubyte", label_bytes);
    return error_of([&] { read_mnist(root, false); });
  };
  std::string images_path = dir / "t10k-images-idx3-ubyte",
              labels_path = dir / "t10k-labels-idx1-ubyte";
  CHECK(error(header({2, 28, 27}) + std::string(2 * 28 * 27, 'a'), labels({1, 2})) ==
        "read_mnist: " + images_path +
            ": dims [2, 28, 27] are not those of 28 x 28 images ([N, 28, 28])");
  CHECK(error(header({2, 784}) + std::string(2 * 784, 'a'), labels({1, 2})) ==
        "read_mnist: " + images_path +
            ": dims [2, 784] are not those of 28 x 28 images ([N, 28, 28])");
  CHECK(error(header({0, 28, 28}), labels({})) ==
        "read_mnist: " + images_path + ": holds no images (dims [0, 28, 28])");
  CHECK(error(images(2), header({2, 1}) + "\x01\x02") ==
        "read_mnist: " + labels_path + ": dims [2, 1] are not those of labels ([N])");
  CHECK(error(images(2), labels({1, 2, 3})) ==
        "read_mnist: " + labels_path + " holds 3 labels but " + images_path + " holds 2 images");
  CHECK(error(images(3), labels({1, 10, 2})) ==
        "read_mnist: " + labels_path + ": label 10 at index 1, expected 0..9");
  // The images file is read first: its errors come before those of the labels.
  CHECK(error(images(2).substr(0, 100), "junk").starts_with("read_idx: " + images_path +
                                                            ": truncated: "));
  CHECK(error(images(2), "junk") ==
        "read_idx: " + labels_path +
            ": bad magic 6a 75 6e 6b: an IDX file starts with 00 00, a type code and a dim count");
}

TEST_CASE("read_mnist: a missing file is named, with where to get the data") {
  tg::test::TempDir dir;
  std::string root = dir.path().string();
  CHECK(error_of([&] { read_fashion_mnist(root, true); }) ==
        "read_mnist: " + root +
            ": no train-images-idx3-ubyte or train-images-idx3-ubyte.gz there\nhint: on Debian, "
            "`apt-get install dataset-fashion-mnist` puts the files in "
            "/usr/share/datasets/fashion-mnist");
  CHECK(error_of([&] { read_mnist(root, false); })
            .find("hint: torchvision.datasets.MNIST(root, download=True) puts the files in "
                  "root/MNIST/raw") != std::string::npos);
  dir.write("t10k-images-idx3-ubyte.gz", gzip(images(1)));
  CHECK(error_of([&] { read_mnist(root, false); }) ==
        "read_mnist: " + root +
            ": no t10k-labels-idx1-ubyte or t10k-labels-idx1-ubyte.gz there\nhint: "
            "torchvision.datasets.MNIST(root, download=True) puts the files in root/MNIST/raw "
            "(gzip files may stay compressed)");
  CHECK(error_of([&] { read_fashion_mnist(dir / "missing", false); }) ==
        "read_mnist: " + dir / "missing" +
            ": no such directory; on Debian, `apt-get install dataset-fashion-mnist` puts the "
            "files in /usr/share/datasets/fashion-mnist");
  // torchvision's layout, root/FashionMNIST/raw/, given as its root.
  dir.write("tv/FashionMNIST/raw/train-images-idx3-ubyte", images(1));
  CHECK(error_of([&] { read_fashion_mnist(dir / "tv", true); })
            .ends_with("\nhint: did you mean the folder " + dir / "tv/FashionMNIST/raw" + "?"));
}

// The values below were read from the Debian files with Python's gzip module (struct.unpack of
// the headers, the label and pixel bytes), not with this reader.
TEST_CASE("read_fashion_mnist: the real files of Debian's dataset-fashion-mnist") {
  std::string root(tg::data::kFashionMnistDir);
  if (!std::filesystem::exists(root + "/t10k-labels-idx1-ubyte.gz")) {
    MESSAGE("skipped: ", root, " is absent (apt-get install dataset-fashion-mnist)");
    return;
  }
  tg::data::ImageSet train = read_fashion_mnist(root, true);
  CHECK(train.shape() == tg::Shape{60000, 1, 28, 28});
  CHECK(std::vector<int64_t>(train.labels.begin(), train.labels.begin() + 10) ==
        std::vector<int64_t>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5});
  CHECK(train.labels[12345] == 8);
  CHECK(train.labels[59999] == 5);
  std::vector<int64_t> per_class(10, 0);
  for (int64_t label : train.labels) ++per_class[size_t(label)];
  CHECK(per_class == std::vector<int64_t>(10, 6000));
  std::span<const uint8_t> first = train.image(0);
  int64_t sum = 0;
  for (uint8_t p : first) sum += p;
  CHECK(sum == 76247);
  CHECK(first[14 * 28 + 14] == 217);
  sum = 0;
  for (uint8_t p : train.image(59999)) sum += p;
  CHECK(sum == 16684);

  tg::data::ImageSet test = read_fashion_mnist(root, false);
  CHECK(test.shape() == tg::Shape{10000, 1, 28, 28});
  CHECK(std::vector<int64_t>(test.labels.begin(), test.labels.begin() + 10) ==
        std::vector<int64_t>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7});
  CHECK(test.labels[2345] == 3);
  CHECK(test.image(0)[14 * 28 + 14] == 110);
  sum = 0;
  for (uint8_t p : test.image(9999)) sum += p;
  CHECK(sum == 24390);
}
