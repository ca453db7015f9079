// Reads IDX files through zlib's gz* functions, which inflate gzip data and pass any other
// bytes through unchanged (so one path reads raw and compressed files alike). The data is read
// in growing chunks rather than allocated at the size the header declares: a damaged header
// claiming terabytes fails as "truncated" after reading what the file really holds.
#include <tapegrad/data/mnist.h>

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include <tapegrad/core/error.h>

namespace tg::data {
namespace fs = std::filesystem;
namespace {

// IDX data type codes (the third magic byte) and their names, for the error messages.
std::string_view type_name(int code) {
  switch (code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "";
  }
}

// A data size no MNIST-like file comes near (MNIST's largest is 47 MB): a header declaring
// more is damaged, and products of its dims stay far from int64 overflow.
constexpr int64_t kMaxIdxBytes = int64_t(1) << 40;

using GzFile = std::unique_ptr<gzFile_s, int (*)(gzFile)>;

// Reads up to n bytes; fewer only at the end of the data. A damaged gzip stream throws.
size_t read_some(gzFile file, uint8_t* out, size_t n, const std::string& path) {
  size_t total = 0;
  while (total < n) {
    unsigned chunk = unsigned(std::min<size_t>(n - total, size_t(1) << 30));
    int got = gzread(file, out + total, chunk);
    if (got <= 0) break;
    total += size_t(got);
  }
  int code = Z_OK;
  std::string_view message = gzerror(file, &code);  // "<path>: <what>"
  if (message.starts_with(path + ": ")) message.remove_prefix(path.size() + 2);
  if (code == Z_ERRNO) fail("read_idx: cannot read {}: {}", path, std::strerror(errno));
  // Z_BUF_ERROR: the stream stops inside a block; Z_DATA_ERROR: bad codes or CRC.
  check(code == Z_OK, "read_idx: {}: corrupted gzip stream ({}){}", path, message,
        code == Z_BUF_ERROR ? "; truncated download?" : "");
  return total;
}

uint32_t big_endian(const uint8_t* b) {
  return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | uint32_t(b[3]);
}

std::string dims_text(const std::vector<int64_t>& dims) {
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

// dir/name or dir/name.gz, whichever exists (the raw file first).
std::string find_file(const fs::path& dir, const std::string& name, std::string_view hint) {
  std::error_code ec;
  for (const std::string& candidate : {name, name + ".gz"})
    if (fs::exists(dir / candidate, ec)) return (dir / candidate).string();
  for (const char* nested : {"FashionMNIST/raw", "MNIST/raw"})  // torchvision's layout
    for (const std::string& candidate : {name, name + ".gz"})
      if (fs::exists(dir / nested / candidate, ec))
        fail("read_mnist: {}: no {} or {}.gz there\nhint: did you mean the folder {}?",
             dir.string(), name, name, (dir / nested).string());
  fail("read_mnist: {}: no {} or {}.gz there\nhint: {}", dir.string(), name, name, hint);
}

ImageSet read_split(const std::string& dir, bool train, std::string_view hint,
                    const std::array<std::string_view, 10>& classes) {
  std::error_code ec;  // an unreadable parent is "no such directory" too, not an exception
  check(fs::is_directory(dir, ec), "read_mnist: {}: no such directory; {}", dir, hint);
  std::string prefix = train ? "train" : "t10k";
  std::string images_path = find_file(dir, prefix + "-images-idx3-ubyte", hint);
  std::string labels_path = find_file(dir, prefix + "-labels-idx1-ubyte", hint);
  IdxArray images = read_idx(images_path);
  const std::vector<int64_t>& d = images.dims;
  check(d.size() == 3 && d[1] == 28 && d[2] == 28,
        "read_mnist: {}: dims {} are not those of 28 x 28 images ([N, 28, 28])", images_path,
        dims_text(d));
  check(d[0] > 0, "read_mnist: {}: holds no images (dims {})", images_path, dims_text(d));
  IdxArray labels = read_idx(labels_path);
  check(labels.dims.size() == 1, "read_mnist: {}: dims {} are not those of labels ([N])",
        labels_path, dims_text(labels.dims));
  check(labels.dims[0] == d[0], "read_mnist: {} holds {} labels but {} holds {} images",
        labels_path, labels.dims[0], images_path, d[0]);

  ImageSet set{.count = d[0], .channels = 1, .height = 28, .width = 28};
  set.labels.reserve(labels.data.size());
  for (size_t i = 0; i < labels.data.size(); ++i) {
    check(labels.data[i] <= 9, "read_mnist: {}: label {} at index {}, expected 0..9", labels_path,
          labels.data[i], i);
    set.labels.push_back(labels.data[i]);
  }
  set.pixels = std::move(images.data);
  set.classes.assign(classes.begin(), classes.end());
  return set;
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  errno = 0;
  GzFile file(gzopen(path.c_str(), "rb"), gzclose);
  if (!file)
    fail("read_idx: cannot open {}: {}", path,
         errno ? std::strerror(errno) : "out of memory (zlib)");
  gzbuffer(file.get(), 1 << 18);  // fewer, larger reads: inflate runs faster

  uint8_t magic[4];
  size_t got = read_some(file.get(), magic, 4, path);
  check(got == 4, "read_idx: {}: {} bytes, too short for the 4-byte IDX magic", path, got);
  check(magic[0] == 0 && magic[1] == 0,
        "read_idx: {}: bad magic {:02x} {:02x} {:02x} {:02x}: an IDX file starts with 00 00, "
        "a type code and a dim count",
        path, magic[0], magic[1], magic[2], magic[3]);
  std::string_view type = type_name(magic[2]);
  check(!type.empty(), "read_idx: {}: unknown type code 0x{:02x} (IDX knows 08, 09, 0b..0e)",
        path, magic[2]);
  check(magic[2] == 0x08,
        "read_idx: {}: type code 0x{:02x} ({}) is not supported: only unsigned bytes (0x08)",
        path, magic[2], type);

  int ndim = magic[3];
  std::vector<uint8_t> header(size_t(4 * ndim));
  got = read_some(file.get(), header.data(), header.size(), path);
  check(got == header.size(),
        "read_idx: {}: truncated inside the header: {} dims need {} bytes, {} found", path, ndim,
        header.size(), got);
  IdxArray array;
  int64_t bytes = 1;  // stays <= kMaxIdxBytes, so the product cannot overflow
  for (int i = 0; i < ndim; ++i) {
    int64_t dim = big_endian(header.data() + 4 * i);
    array.dims.push_back(dim);
    check(dim == 0 || bytes <= kMaxIdxBytes / dim,
          "read_idx: {}: dims {}... declare more than 2^40 bytes", path, dims_text(array.dims));
    bytes *= dim;
  }

  // Grow the buffer as the data arrives (doubling, from 1 MB).
  size_t have = 0, want = size_t(bytes);
  array.data.resize(std::min<size_t>(want, size_t(1) << 20));
  while (have < want) {
    size_t read = read_some(file.get(), array.data.data() + have, array.data.size() - have, path);
    have += read;
    if (have < array.data.size()) break;  // the end of the data
    if (have < want) array.data.resize(std::min(want, 2 * array.data.size()));
  }
  check(have == want,
        "read_idx: {}: truncated: dims {} declare {} bytes of data, the file holds {}", path,
        dims_text(array.dims), want, have);
  uint8_t extra = 0;
  check(read_some(file.get(), &extra, 1, path) == 0,
        "read_idx: {}: more data than dims {} declare ({} bytes); a wrong header?", path,
        dims_text(array.dims), want);
  return array;
}

ImageSet read_mnist(const std::string& dir, bool train) {
  return read_split(dir, train,
                    "torchvision.datasets.MNIST(root, download=True) puts the files in "
                    "root/MNIST/raw (gzip files may stay compressed)",
                    kMnistClasses);
}

ImageSet read_fashion_mnist(const std::string& dir, bool train) {
  return read_split(dir, train,
                    fmt::format("on Debian, `apt-get install dataset-fashion-mnist` puts the "
                                "files in {}",
                                kFashionMnistDir),
                    kFashionMnistClasses);
}

}  // namespace tg::data
