// What each fuzz target does with one input, shared by the libFuzzer entry points
// (fuzz_*.cpp) and by the regression suite (test_fuzz_regressions.cpp), so a checked-in
// crashing input takes exactly the path the fuzzer found. A feed_* function throws tg::Error
// for bad bytes (the expected outcome) and aborts if a reader breaks its own promises (an
// entry whose size does not match its shape, a label out of range); anything else escaping
// it, or a sanitizer report inside it, is a finding. Readers that take a path get the bytes
// through a file in `dir`.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <tapegrad/core/error.h>
#include <tapegrad/data/airfoil.h>
#include <tapegrad/data/cifar10.h>
#include <tapegrad/data/image_folder.h>
#include <tapegrad/data/mnist.h>
#include <tapegrad/core/safetensors.h>

namespace tg::fuzz {

/// Writes `bytes` to `path` (creating folders).
inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  out.close();
  if (!out) std::abort();
}

/// The safetensors decoder; whatever decodes must encode and decode again, to the same bytes.
inline void feed_safetensors(std::string_view bytes) {
  Safetensors file = decode_safetensors(bytes, "fuzz-input");
  for (const auto& [name, t] : file.tensors)
    if (!t.defined() || !t.is_contiguous() || (t.numel() > 0 && !t.data())) std::abort();
  std::string again = encode_safetensors(file);
  Safetensors back = decode_safetensors(again, "re-encoded");
  if (back.tensors.size() != file.tensors.size() || back.metadata != file.metadata ||
      encode_safetensors(back) != again)
    std::abort();
}

/// The airfoil table reader (every row, or the first 2 when the size is a multiple of 3),
/// then column standardization of what parsed.
inline void feed_airfoil(std::string_view bytes, const std::filesystem::path& dir) {
  std::filesystem::path path = dir / "airfoil.dat";
  write_file(path, bytes);
  data::Table table = data::read_airfoil(path.string(), bytes.size() % 3 == 0 ? 2 : -1);
  if (table.values.size() != size_t(table.rows * table.cols)) std::abort();
  data::standardize_columns(table);
}

/// The CIFAR-10 batch reader.
inline void feed_cifar10(std::string_view bytes, const std::filesystem::path& dir) {
  std::filesystem::path path = dir / "data_batch_1.bin";
  write_file(path, bytes);
  data::ImageSet set = data::read_cifar10_batch(path.string());
  if (set.pixels.size() != size_t(set.count * 3 * 32 * 32) ||
      set.labels.size() != size_t(set.count))
    std::abort();
  for (int64_t label : set.labels)
    if (label < 0 || label > 9) std::abort();
}

/// A one-class image folder read by read_image_folder. stb_image decodes by content, whatever
/// the extension, so every format stb knows is reachable. The first byte picks the options:
///   0: one image, size taken from it;  1: one image, resized to 7x5;
///   2: two images (the rest split in half), size from the first, a mismatch rejected;
///   3: two images, resized to 16x16.
inline void feed_image_folder(std::string_view bytes, const std::filesystem::path& dir) {
  if (bytes.empty()) return;
  int mode = uint8_t(bytes[0]) % 4;
  std::string_view rest = bytes.substr(1);
  std::filesystem::path root = dir / "images";
  std::filesystem::remove_all(root);
  if (mode >= 2) {
    write_file(root / "c" / "a.png", rest.substr(0, rest.size() / 2));
    write_file(root / "c" / "b.jpg", rest.substr(rest.size() / 2));
  } else {
    write_file(root / "c" / "a.png", rest);
  }
  data::ImageFolderOptions options;
  if (mode == 1) options = {.height = 7, .width = 5};
  if (mode == 3) options = {.height = 16, .width = 16};
  data::ImageSet set = data::read_image_folder(root.string(), options);
  if (set.pixels.size() != size_t(set.count * 3 * set.height * set.width)) std::abort();
}

/// The IDX reader and the MNIST reader (raw or gzip files: the content decides). The first
/// byte picks the path:
///   even: the rest is one IDX file for read_idx;
///   odd: the second byte is the length L of the labels file; the rest is L bytes of it, then
///        the images file, read as the test split by read_mnist.
inline void feed_mnist(std::string_view bytes, const std::filesystem::path& dir) {
  if (bytes.empty()) return;
  std::filesystem::path root = dir / "mnist";
  std::filesystem::remove_all(root);
  if (uint8_t(bytes[0]) % 2 == 0) {
    write_file(root / "a.idx", bytes.substr(1));
    data::IdxArray array = data::read_idx((root / "a.idx").string());
    int64_t n = 1;  // read_idx refuses dims of more than 2^40 bytes: no overflow
    for (int64_t d : array.dims) n *= d;
    if (array.data.size() != size_t(n)) std::abort();
    return;
  }
  if (bytes.size() < 2) return;
  size_t labels = std::min<size_t>(uint8_t(bytes[1]), bytes.size() - 2);
  write_file(root / "t10k-labels-idx1-ubyte", bytes.substr(2, labels));
  write_file(root / "t10k-images-idx3-ubyte.gz", bytes.substr(2 + labels));
  data::ImageSet set = data::read_mnist(root.string(), false);
  if (set.shape() != Shape{set.count, 1, 28, 28} || set.count <= 0 ||
      set.pixels.size() != size_t(set.count * 784) || set.labels.size() != size_t(set.count))
    std::abort();
  for (int64_t label : set.labels)
    if (label < 0 || label > 9) std::abort();
}

}  // namespace tg::fuzz
