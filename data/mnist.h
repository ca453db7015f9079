// Readers for MNIST and Fashion-MNIST (LeCun's IDX format): train-images-idx3-ubyte and
// train-labels-idx1-ubyte (60000 images), t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte
// (10000), each possibly gzip-compressed (name.gz, as the original downloads and Debian's
// dataset-fashion-mnist ship them; that package installs to kFashionMnistDir). A file's content
// decides whether it is gunzipped (zlib), not its name. Like torchvision.datasets.MNIST and
// FashionMNIST, without the download: the images come as [N, 1, 28, 28] uint8 (ImageDataset
// scales them to [0, 1]), the labels as class indices 0..9.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <tapegrad/data/image_set.h>

namespace tg::data {

/// Where Debian 12's dataset-fashion-mnist package puts the four gzip files.
inline constexpr std::string_view kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// Class names by label, as torchvision's FashionMNIST.classes.
inline constexpr std::array<std::string_view, 10> kFashionMnistClasses = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/// Class names by label, as torchvision's MNIST.classes.
inline constexpr std::array<std::string_view, 10> kMnistClasses = {
    "0 - zero", "1 - one", "2 - two",   "3 - three", "4 - four",
    "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"};

/// One IDX file: its dims and its elements in row-major order.
struct IdxArray {
  std::vector<int64_t> dims{};
  std::vector<uint8_t> data{};  // product of dims bytes
};

/// Reads one IDX file, raw or gzip-compressed: magic 00 00, type code, dim count, the dims as
/// big-endian uint32, then the data. Only unsigned bytes (type code 0x08, what MNIST uses) are
/// supported: other type codes are a tg::Error naming them. So are a bad magic, data shorter or
/// longer than the dims declare, and a damaged gzip stream; messages name the file.
IdxArray read_idx(const std::string& path);

/// Reads MNIST's training split (train-*, 60000 images) or test split (t10k-*, 10000) from
/// `dir`, each file raw or as name.gz: [N, 1, 28, 28] images and N labels in 0..9, with
/// kMnistClasses as class names. Throws tg::Error naming the file when one is missing, not an
/// IDX file of unsigned bytes, not [N, 28, 28] images or [N] labels, when the counts differ,
/// or when a label exceeds 9.
ImageSet read_mnist(const std::string& dir, bool train);

/// read_mnist with kFashionMnistClasses as class names (the files have the same format).
ImageSet read_fashion_mnist(const std::string& dir, bool train);

}  // namespace tg::data
