// Reader for the CIFAR-10 binary release (Krizhevsky 2009): data_batch_1..5.bin (50000 train
// images) and test_batch.bin (10000), each a run of 3073-byte records: 1 label byte, then
// 1024 R, 1024 G and 1024 B bytes of a 32x32 image. That is already channel-major, so records
// are copied straight into an ImageSet. Fetch the files with `scripts/fetch-data.sh cifar10`.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <tapegrad/data/image_set.h>

namespace tg::data {

/// Class names by label. They are in alphabetical order, so an image folder of CIFAR-10
/// (one folder per class, see image_folder.h) gets the same labels.
inline constexpr std::array<std::string_view, 10> kCifar10Classes = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

/// Bytes per record: the label, then 3 x 32 x 32 pixels.
inline constexpr int64_t kCifar10RecordBytes = 1 + 3 * 32 * 32;

/// Reads one batch file: [N, 3, 32, 32] pixels, N = file size / 3073.
ImageSet read_cifar10_batch(const std::string& path);

/// Reads the 5 training batches (50000 images, in file order) or test_batch.bin (10000) from
/// `dir`, the folder cifar-10-batches-bin that the fetch script extracts.
ImageSet read_cifar10(const std::string& dir, bool train);

/// The training or test split of CIFAR-10 found under `root`, like torchvision's CIFAR10(root):
/// root/cifar-10-batches-bin/ (the binary batches, read_cifar10), root/cifar10-jpg/{train,test}/
/// (an image folder per split, read_image_folder at 32 x 32), or root itself being either.
ImageSet load_cifar10(const std::string& root, bool train);

}  // namespace tg::data
