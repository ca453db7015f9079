// Reads CIFAR-10 batch files record by record into one ImageSet. Messages name the file by
// its base name (the six names are fixed) and the record index, so a damaged download is
// easy to spot; a missing file comes with the command that fetches it.
#include <tapegrad/data/cifar10.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include <tapegrad/core/error.h>
#include <tapegrad/data/image_folder.h>

namespace tg::data {
namespace fs = std::filesystem;
namespace {

ImageSet empty_set() {
  ImageSet set{.channels = 3, .height = 32, .width = 32};
  set.classes.assign(kCifar10Classes.begin(), kCifar10Classes.end());
  return set;
}

// Appends the records of one batch file to `set`.
void append_batch(const fs::path& path, ImageSet& set) {
  std::string name = path.filename().string();
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file) {
    int error = errno;
    fs::path nested = path.parent_path() / "cifar-10-batches-bin" / path.filename();
    if (std::error_code ec; fs::exists(nested, ec))
      fail("cifar10: cannot open {}: {}\nhint: did you mean the folder {}?", path.string(),
           std::strerror(error), nested.parent_path().string());
    fail("cifar10: cannot open {}: {}\nhint: scripts/fetch-data.sh cifar10 puts the data set in {}",
         path.string(), std::strerror(error), "datasets/cifar-10-batches-bin");
  }
  std::error_code ec;
  auto bytes = int64_t(fs::file_size(path, ec));
  check(!ec, "cifar10: cannot get the size of {}: {}", path.string(), ec.message());
  check(bytes > 0, "cifar10: {} is empty (0 bytes)", name);
  check(bytes % kCifar10RecordBytes == 0, "cifar10: {} is {} bytes, expected a multiple of {}",
        name, bytes, kCifar10RecordBytes);

  int64_t records = bytes / kCifar10RecordBytes, image_bytes = kCifar10RecordBytes - 1;
  set.pixels.resize(size_t((set.count + records) * image_bytes));
  set.labels.reserve(size_t(set.count + records));
  for (int64_t i = 0; i < records; ++i) {
    uint8_t label = 0;
    uint8_t* image = set.pixels.data() + (set.count + i) * image_bytes;
    bool read = std::fread(&label, 1, 1, file.get()) == 1 &&
                std::fread(image, 1, size_t(image_bytes), file.get()) == size_t(image_bytes);
    check(read, "cifar10: {} ends inside record {} (file changed while reading?)", name, i);
    check(label <= 9, "cifar10: {} record {} has label {}, expected 0..9", name, i, label);
    set.labels.push_back(label);
  }
  set.count += records;
}

}  // namespace

ImageSet read_cifar10_batch(const std::string& path) {
  ImageSet set = empty_set();
  append_batch(path, set);
  return set;
}

ImageSet read_cifar10(const std::string& dir, bool train) {
  ImageSet set = empty_set();
  if (train) {
    set.pixels.reserve(size_t(50000 * (kCifar10RecordBytes - 1)));
    for (int batch = 1; batch <= 5; ++batch)
      append_batch(fs::path(dir) / fmt::format("data_batch_{}.bin", batch), set);
  } else {
    append_batch(fs::path(dir) / "test_batch.bin", set);
  }
  return set;
}

ImageSet load_cifar10(const std::string& root, bool train) {
  check(fs::is_directory(root),
        "load_cifar10: {}: no such directory; fetch CIFAR-10 with `scripts/fetch-data.sh cifar10` "
        "(it unpacks to datasets/)",
        root);
  for (const fs::path& dir :
       {fs::path(root) / "cifar-10-batches-bin", fs::path(root) / "cifar10-jpg", fs::path(root)}) {
    if (fs::is_regular_file(dir / "test_batch.bin") ||
        fs::is_regular_file(dir / "data_batch_1.bin"))
      return read_cifar10(dir.string(), train);
    if (fs::is_directory(dir / "train") && fs::is_directory(dir / "test"))
      return read_image_folder((dir / (train ? "train" : "test")).string(),
                               {.height = 32, .width = 32});
  }
  fail("load_cifar10: {}: no CIFAR-10 there: expected {}/cifar-10-batches-bin/ (binary batches), "
       "{}/cifar10-jpg/{{train,test}}/ (image folders), or the folder itself being either",
       root, root, root);
}

}  // namespace tg::data
