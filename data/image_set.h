// ImageSet: decoded images as one contiguous uint8 block in [N, C, H, W] order plus a label
// each; what the CIFAR-10 and image-folder readers return. It does not depend on Tensor, so
// the readers stay byte-level; making a tensor of it is a single copy of `pixels`.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <tapegrad/core/shape.h>

namespace tg::data {

/// uint8 images in [count, channels, height, width] (channel-major) order, one label each.
struct ImageSet {
  std::vector<uint8_t> pixels{};  // count * channels * height * width bytes
  std::vector<int64_t> labels{};  // one class index per image, into `classes`
  int64_t count = 0, channels = 0, height = 0, width = 0;
  std::vector<std::string> classes{};  // label i is classes[i]

  /// The tensor shape of `pixels`: [count, channels, height, width].
  Shape shape() const { return {count, channels, height, width}; }
  /// The channels * height * width bytes of image i.
  std::span<const uint8_t> image(int64_t i) const {
    size_t n = size_t(channels * height * width);
    return {pixels.data() + size_t(i) * n, n};
  }
};

}  // namespace tg::data
