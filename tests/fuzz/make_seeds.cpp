// Writes the seed corpus of the fuzz targets: a few small valid inputs per target, made with
// the project's own encoder (safetensors) and stb_image_write (PNG, BMP, JPEG, TGA), so the
// fuzzer starts from inputs that reach deep into each reader.
//   make_seeds <dir>   -> <dir>/{safetensors,airfoil,cifar10,image_folder,mnist}/seed-*
#include <stb/stb_image_write.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <tapegrad/core/safetensors.h>
#include <tapegrad/autograd/tensor.h>

namespace {

std::filesystem::path out_dir;

void seed(const std::string& target, const std::string& name, const std::string& bytes) {
  std::filesystem::create_directories(out_dir / target);
  std::ofstream(out_dir / target / ("seed-" + name), std::ios::binary) << bytes;
}

void append_to(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), size_t(size));
}

// A w x h image with `channels` channels and a simple gradient, encoded as `format`.
std::string image(const char* format, int w, int h, int channels) {
  std::vector<uint8_t> pixels(size_t(w * h * channels));
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = uint8_t(i * 37 + 11);
  std::string out;
  std::string f = format;
  if (f == "png") stbi_write_png_to_func(append_to, &out, w, h, channels, pixels.data(), 0);
  if (f == "bmp") stbi_write_bmp_to_func(append_to, &out, w, h, channels, pixels.data());
  if (f == "tga") stbi_write_tga_to_func(append_to, &out, w, h, channels, pixels.data());
  if (f == "jpg") stbi_write_jpg_to_func(append_to, &out, w, h, channels, pixels.data(), 80);
  if (out.empty()) std::abort();
  return out;
}

// A gzip stream of `raw` (deflate with the gzip wrapper), as the MNIST downloads are.
std::string gzip(const std::string& raw) {
  z_stream s{};
  if (deflateInit2(&s, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out(deflateBound(&s, uLong(raw.size())), '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  s.avail_in = uInt(raw.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = uInt(out.size());
  if (deflate(&s, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

// An IDX file of unsigned bytes: 00 00 08, the dim count, big-endian dims, then the data.
std::string idx(const std::vector<uint32_t>& dims, uint8_t first) {
  std::string b = {0, 0, 8, char(dims.size())};
  size_t n = 1;
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) b += char((d >> shift) & 0xff);
    n *= d;
  }
  for (size_t i = 0; i < n; ++i) b += char(first + i * 7);
  return b;
}

// The two-image modes split the bytes after the mode byte in half: equal encodings split well.
std::string two(const std::string& a) { return a + a; }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds <dir>\n");
    return 2;
  }
  out_dir = argv[1];

  // safetensors: F32 tensors with metadata, a scalar, an empty tensor, no tensors at all, and
  // the other dtypes written by hand (the encoder only writes F32).
  seed("safetensors", "f32",
       tg::encode_safetensors({.tensors = {{"w", tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3})},
                                           {"b", tg::tensor({-1, 0, 1}, {3})},
                                           {"s", tg::tensor({0.5f})},
                                           {"e", tg::empty({0, 4})}},
                               .metadata = {{"format", "pt"}}}));
  seed("safetensors", "empty", tg::encode_safetensors({}));
  for (auto [dtype, bytes] : {std::pair{"F16", 2}, {"BF16", 2}, {"F64", 8}, {"I64", 8},
                              {"I32", 4}, {"U8", 1}}) {
    std::string header = std::string("{\"x\":{\"dtype\":\"") + dtype +
                         "\",\"shape\":[2],\"data_offsets\":[0," + std::to_string(2 * bytes) +
                         "]}}";
    std::string file;
    for (int i = 0; i < 8; ++i) file.push_back(char((header.size() >> (8 * i)) & 0xff));
    file += header;
    for (int i = 0; i < 2 * bytes; ++i) file.push_back(char(0x3c + i));
    seed("safetensors", dtype, file);
  }

  // airfoil: tab-separated rows as in the UCI file, a CRLF copy with a BOM, spaces and signs.
  std::string rows =
      "800\t0\t0.3048\t71.3\t0.00266337\t126.201\n"
      "1000\t0\t0.3048\t71.3\t0.00266337\t125.201\n"
      "1250\t1.5\t0.2286\t39.6\t0.00310138\t127.591\n";
  seed("airfoil", "tabs", rows);
  seed("airfoil", "crlf", "\xEF\xBB\xBF" "800\t0\t0.3048\t71.3\t0.00266337\t126.201\r\n"
                          "1000\t2\t0.3048\t71.3\t0.00266337\t125.201\r\n\r\n");
  seed("airfoil", "spaces", "  +8e2 -0.5 3.048e-1 71.3 .00266 126.2\n1e3 1 0.3 70 0.002 1e2\n");

  // cifar10: one and two 3073-byte records.
  std::string record(3073, '\0');
  for (size_t i = 1; i < record.size(); ++i) record[i] = char(i * 7);
  record[0] = 3;
  seed("cifar10", "one", record);
  std::string second = record;
  second[0] = 9;
  seed("cifar10", "two", record + second);

  // image_folder: the mode byte (see fuzz_image_folder.cpp), then the image bytes.
  seed("image_folder", "png-rgb", std::string(1, '\0') + image("png", 4, 3, 3));
  seed("image_folder", "png-grey-alpha", std::string(1, '\1') + image("png", 5, 7, 2));
  seed("image_folder", "bmp", std::string(1, '\0') + image("bmp", 3, 2, 3));
  seed("image_folder", "jpg", std::string(1, '\1') + image("jpg", 8, 8, 3));
  seed("image_folder", "tga", std::string(1, '\0') + image("tga", 2, 2, 4));
  seed("image_folder", "two-png", std::string(1, '\2') + two(image("png", 3, 3, 1)));
  seed("image_folder", "two-jpg", std::string(1, '\3') + two(image("jpg", 9, 6, 3)));

  // mnist: the mode byte (see feed_mnist in targets.h); even: one IDX file, raw or gzip;
  // odd: the labels file's length, the labels file, then the images file.
  seed("mnist", "idx-raw", std::string(1, '\0') + idx({2, 3}, 1));
  seed("mnist", "idx-gzip", std::string(1, '\2') + gzip(idx({3, 4, 5}, 9)));
  std::string labels = {0, 0, 8, 1, 0, 0, 0, 2, 7, 3};
  std::string images = idx({2, 28, 28}, 0);
  seed("mnist", "split-raw", std::string{1, char(labels.size())} + labels + images);
  seed("mnist", "split-gzip", std::string{3, char(labels.size())} + labels + gzip(images));
  return 0;
}
