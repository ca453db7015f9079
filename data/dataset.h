// Datasets: an indexable collection of (input, target) examples. The loader
// asks for whole batches, so a dataset held in memory (TensorDataset,
// ImageDataset) gathers a batch with one copy per example instead of making
// and stacking a tensor per example.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include <tapegrad/autograd/tensor.h>
#include <tapegrad/data/image_set.h>

namespace tg::data {

/// One batch (or one example): inputs and targets. `auto [x, y] = batch;` works.
struct Batch {
  Tensor input, target;
};

/// Something with a size and examples by index.
class Dataset {
 public:
  virtual ~Dataset() = default;
  /// Number of examples.
  virtual int64_t size() const = 0;
  /// The examples at `indices`, stacked along a new first dim.
  virtual Batch get_batch(std::span<const int64_t> indices) const = 0;
  /// One example, without the batch dim.
  Batch get(int64_t index) const;
};

/// Examples are the rows (first-dim slices) of two tensors: torch.utils.data.TensorDataset.
class TensorDataset : public Dataset {
 public:
  TensorDataset(Tensor inputs, Tensor targets);
  int64_t size() const override { return inputs_.size(0); }
  Batch get_batch(std::span<const int64_t> indices) const override;
  const Tensor& inputs() const { return inputs_; }
  const Tensor& targets() const { return targets_; }

 private:
  Tensor inputs_, targets_;  // contiguous
};

/// Images kept as uint8 [N, C, H, W] and converted per batch to floats in [0, 1]
/// (torchvision's ToTensor); targets are the class indices, int64 as in PyTorch.
class ImageDataset : public Dataset {
 public:
  explicit ImageDataset(ImageSet images);
  int64_t size() const override { return images_.count; }
  Batch get_batch(std::span<const int64_t> indices) const override;
  const ImageSet& images() const { return images_; }

 private:
  ImageSet images_;
};

/// Copies rows `indices` of a contiguous tensor into a new [indices.size(), ...] tensor.
Tensor gather_rows(const Tensor& source, std::span<const int64_t> indices);

}  // namespace tg::data
