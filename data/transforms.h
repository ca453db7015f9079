// Transforms on batches of images [N, C, H, W]: per-channel normalisation and
// the usual augmentations (random crop with padding, random horizontal flip),
// drawn per image from the global generator so manual_seed makes them
// repeatable. Compose chains them; the DataLoader applies one to each batch.
#pragma once

#include <functional>
#include <vector>

#include <tapegrad/autograd/tensor.h>

namespace tg::data {

/// A batch-to-batch function.
using Transform = std::function<Tensor(const Tensor&)>;

/// (x - mean[c]) / std[c] for each channel c: torchvision's Normalize.
Transform normalize(std::vector<float> mean, std::vector<float> std);
/// Pads each image by `padding` zeros and crops a random size x size window.
Transform random_crop(int64_t size, int64_t padding = 0);
/// Mirrors each image left-right with probability p.
Transform random_horizontal_flip(float p = 0.5f);
/// Applies the transforms in order.
Transform compose(std::vector<Transform> transforms);

}  // namespace tg::data
