// Reader for a folder of images sorted into one sub-folder per class, torchvision's
// ImageFolder convention: root/<class>/<image>.{png,jpg,jpeg,bmp}. Images are decoded with
// stb_image in parallel (OpenMP: tg::set_num_threads sets how many threads), converted to RGB
// and stored channel-major in an ImageSet.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <tapegrad/data/image_set.h>

namespace tg::data {

/// What read_image_folder does with an image whose size is not the target size.
enum class SizeMismatch {
  reject,  ///< throw, naming the file and both sizes
  resize,  ///< resample it to the target size (stb_image_resize: Mitchell down, Catmull-Rom up)
};

/// Options for read_image_folder: `read_image_folder(root, {.height = 32, .width = 32})`.
struct ImageFolderOptions {
  int64_t height = 0;  ///< target size; 0 and 0: the size of the first image (in sorted order)
  int64_t width = 0;
  /// Default: resize when a target size is given, reject otherwise. Resizing needs a target size.
  std::optional<SizeMismatch> on_size_mismatch{};
};

/// Reads root/<class>/<file>: classes are the sub-folders sorted by name (label = index),
/// images are the .png/.jpg/.jpeg/.bmp files (any case) directly inside each, sorted by name;
/// other files are skipped. Grey images become RGB (grey copied to R, G and B); alpha is
/// dropped. The result is [N, 3, height, width] uint8, class by class. Files are checked
/// before stb_image decodes them: content must be PNG, JPEG or BMP (whatever the extension),
/// a header may declare at most 2^26 pixels (8192 x 8192), and structures that crash the
/// stb_image 2.27 of Debian 12 are refused; each problem is a tg::Error naming the file.
ImageSet read_image_folder(const std::string& root, const ImageFolderOptions& options = {});

}  // namespace tg::data
