// TensorDataset and ImageDataset: batch gathering by row copies.
#include <tapegrad/data/dataset.h>

#include <cstring>

namespace tg::data {

namespace {

void check_indices(std::span<const int64_t> indices, int64_t size, const char* who) {
  for (int64_t i : indices)
    check(i >= 0 && i < size, "{}: index {} out of range for {} examples", who, i, size);
}

}  // namespace

Batch Dataset::get(int64_t index) const {
  Batch b = get_batch(std::span<const int64_t>(&index, 1));
  return {b.input.squeeze(0), b.target.squeeze(0)};
}

Tensor gather_rows(const Tensor& source_in, std::span<const int64_t> indices) {
  check(source_in.dim() >= 1, "gather_rows: source of shape {} has no rows", source_in.shape());
  Tensor source = source_in.contiguous();  // rows are copied as whole runs of memory
  Shape shape = source.shape();
  int64_t rows = shape[0], row = rows > 0 ? source.numel() / rows : 0;
  for (int64_t i : indices)
    check(i >= 0 && i < rows, "gather_rows: index {} is out of range for {} rows", i, rows);
  shape[0] = int64_t(indices.size());
  Tensor out = empty(shape, {.dtype = source.dtype()});  // int64 labels stay int64
  const size_t bytes = element_size(source.dtype()) * size_t(row);
  auto* to = static_cast<char*>(out.raw_data());
  const auto* from = static_cast<const char*>(source.raw_data());
  for (size_t k = 0; k < indices.size(); ++k)
    std::memcpy(to + k * bytes, from + size_t(indices[k]) * bytes, bytes);
  return out;
}

TensorDataset::TensorDataset(Tensor inputs, Tensor targets)
    : inputs_(inputs.detach().contiguous()), targets_(targets.detach().contiguous()) {
  check(inputs_.dim() >= 1 && targets_.dim() >= 1,
        "TensorDataset: inputs {} and targets {} need a first (example) dim", inputs_.shape(),
        targets_.shape());
  check(inputs_.size(0) == targets_.size(0),
        "TensorDataset: {} inputs but {} targets (shapes {} and {})", inputs_.size(0),
        targets_.size(0), inputs_.shape(), targets_.shape());
}

Batch TensorDataset::get_batch(std::span<const int64_t> indices) const {
  check_indices(indices, size(), "TensorDataset");
  return {gather_rows(inputs_, indices), gather_rows(targets_, indices)};
}

ImageDataset::ImageDataset(ImageSet images) : images_(std::move(images)) {
  check(int64_t(images_.labels.size()) == images_.count &&
            int64_t(images_.pixels.size()) == images_.count * images_.channels * images_.height * images_.width,
        "ImageDataset: {} labels and {} bytes do not describe {} images of {}x{}x{}",
        images_.labels.size(), images_.pixels.size(), images_.count, images_.channels,
        images_.height, images_.width);
}

Batch ImageDataset::get_batch(std::span<const int64_t> indices) const {
  check_indices(indices, size(), "ImageDataset");
  int64_t n = int64_t(indices.size()), pixels = images_.channels * images_.height * images_.width;
  Tensor input = empty({n, images_.channels, images_.height, images_.width});
  Tensor target = empty({n}, {.dtype = kInt64});  // class indices, as torchvision's
  for (int64_t k = 0; k < n; ++k) {
    std::span<const uint8_t> image = images_.image(indices[size_t(k)]);
    float* out = input.data() + k * pixels;
    for (int64_t p = 0; p < pixels; ++p) out[p] = float(image[size_t(p)]) * (1.0f / 255);
    target.data_ptr<int64_t>()[k] = images_.labels[size_t(indices[size_t(k)])];
  }
  return {input, target};
}

}  // namespace tg::data
