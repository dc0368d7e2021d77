#include "aesweep/data/idx.hpp"

#include <zlib.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <vector>

#include "aesweep/core/error.hpp"

namespace aesweep {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw DataError("data file " + path + ": " + problem);
}

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzHandle = std::unique_ptr<gzFile_s, GzCloser>;

// Streams bytes from a plain or gzip file. gzread passes plain files through unchanged, so one
// reader serves both; `compressed` tells which it was, for the length check.
class ByteSource {
 public:
  explicit ByteSource(const std::string& path) : path_(path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) fail(path, "does not exist or is not a regular file");
    file_size_ = std::filesystem::file_size(path, ec);
    if (ec) fail(path, "cannot determine its size: " + ec.message());
    std::ifstream probe(path, std::ios::binary);
    if (!probe) fail(path, "cannot be opened for reading");
    std::array<unsigned char, 2> magic{};
    probe.read(reinterpret_cast<char*>(magic.data()), 2);
    compressed_ = probe.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    handle_.reset(gzopen(path.c_str(), "rb"));
    if (!handle_) fail(path, "cannot be opened for reading");
    gzbuffer(handle_.get(), 1 << 17);
  }

  bool compressed() const { return compressed_; }

  // Back to the first byte (of the decompressed stream).
  void rewind() {
    if (gzrewind(handle_.get()) != 0) fail(path_, "cannot rewind to re-read it");
  }
  std::uintmax_t file_size() const { return file_size_; }

  // Reads up to `count` bytes; returns how many were read.
  std::size_t read(std::uint8_t* out, std::size_t count) {
    std::size_t total = 0;
    while (total < count) {
      const auto chunk = unsigned(std::min<std::size_t>(count - total, std::size_t(1) << 30));
      const int got = gzread(handle_.get(), out + total, chunk);
      if (got < 0) {
        int code = 0;
        const char* text = gzerror(handle_.get(), &code);
        fail(path_, std::string("corrupt or unreadable compressed data (") + (text ? text : "unknown zlib error") + ")");
      }
      if (got == 0) break;
      total += std::size_t(got);
    }
    return total;
  }

 private:
  std::string path_;
  GzHandle handle_;
  std::uintmax_t file_size_ = 0;
  bool compressed_ = false;
};

std::uint32_t big_endian(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
}

// Whether two files hold the same bytes once decompressed (a plain copy beside its .gz).
bool same_content(const std::string& a, const std::string& b) {
  ByteSource x(a), y(b);
  std::vector<std::uint8_t> bx(std::size_t(1) << 16), by(bx.size());
  for (;;) {
    const std::size_t n = x.read(bx.data(), bx.size()), m = y.read(by.data(), by.size());
    if (n != m || std::memcmp(bx.data(), by.data(), n) != 0) return false;
    if (n == 0) return true;
  }
}

std::string find_file(const std::string& dir, const std::string& stem) {
  // The standard names; the original distribution also uses a '.' before "idx".
  std::string dotted = stem;
  dotted[dotted.rfind('-', dotted.find("idx"))] = '.';
  std::vector<std::string> found;
  for (const auto& name : {stem, stem + ".gz", dotted, dotted + ".gz"}) {
    const auto path = std::filesystem::path(dir) / name;
    if (std::filesystem::exists(path)) found.push_back(path.string());
  }
  if (found.empty())
    throw DataError("data directory " + dir + ": missing " + stem + " (or " + stem +
                    ".gz); it must hold the four standard MNIST IDX files");
  // Several names for one file (say gunzip -k kept the .gz): fine while they agree, never a silent pick.
  for (std::size_t i = 1; i < found.size(); ++i)
    if (!same_content(found.front(), found[i]))
      throw DataError("data directory " + dir + " holds both " + found.front() + " and " + found[i] +
                      ", which differ; keep the one you mean and remove the other");
  return found.front();
}

}  // namespace

IdxArray read_idx(const std::string& path, int expected_rank) {
  ByteSource source(path);
  std::array<std::uint8_t, 4> magic{};
  if (source.read(magic.data(), 4) != 4) fail(path, "too short for an IDX header (needs at least 4 bytes)");
  if (magic[0] != 0 || magic[1] != 0) {
    std::ostringstream msg;
    msg << "bad magic number (first two bytes must be 0, got " << int(magic[0]) << ' ' << int(magic[1])
        << "); not an IDX file";
    fail(path, msg.str());
  }
  if (magic[2] != 0x08)
    fail(path, "unsupported IDX element type 0x" + [&] {
      std::ostringstream hex;
      hex << std::hex << int(magic[2]);
      return hex.str();
    }() + " (only unsigned bytes, 0x08, are MNIST)");
  const int rank = magic[3];
  if (rank != expected_rank)
    fail(path, "has " + std::to_string(rank) + " dimensions, expected " + std::to_string(expected_rank) +
                   (expected_rank == 3 ? " (an idx3 image file)" : " (an idx1 label file)"));

  std::vector<std::uint8_t> header(std::size_t(4) * std::size_t(rank));
  if (source.read(header.data(), header.size()) != header.size()) fail(path, "truncated header");
  IdxArray array;
  std::uint64_t count = 1;
  for (int d = 0; d < rank; ++d) {
    const std::uint32_t dim = big_endian(&header[std::size_t(4 * d)]);
    if (dim == 0) fail(path, "dimension " + std::to_string(d) + " is zero");
    array.dims.push_back(dim);
    if (count > std::numeric_limits<std::uint64_t>::max() / dim) fail(path, "declared dimensions overflow");
    count *= dim;
  }
  const std::uint64_t header_bytes = 4 + header.size();
  // Plain files: the size on disk must match exactly, checked before allocating anything.
  if (!source.compressed() && source.file_size() != header_bytes + count) {
    std::ostringstream msg;
    msg << "length " << source.file_size() << " bytes does not match its header, which declares " << count
        << " values (expected " << header_bytes + count << " bytes)";
    fail(path, msg.str());
  }
  // Compressed files: a small file can inflate to gigabytes, so the header is checked against
  // the bytes really there before anything of its size is allocated. A first pass inflates into
  // a fixed scratch buffer, counting (and stopping one byte past the declared count); only when
  // the count matches is the array allocated, exactly, and the stream read again into it.
  if (source.compressed()) {
    if (count >= std::uint64_t(std::numeric_limits<std::ptrdiff_t>::max()))
      fail(path, "its header declares " + std::to_string(count) + " values, more than any file can hold");
    std::vector<std::uint8_t> scratch(std::size_t(1) << 16);
    std::uint64_t present = 0;
    while (present <= count) {
      const std::size_t want = std::size_t(std::min<std::uint64_t>(scratch.size(), count + 1 - present));
      const std::size_t got = source.read(scratch.data(), want);
      present += got;
      if (got < want) break;
    }
    if (present < count) {
      std::ostringstream msg;
      msg << "truncated: its header declares " << count << " values but only " << present
          << " are present after the header";
      fail(path, msg.str());
    }
    if (present > count)
      fail(path, "has trailing bytes after the " + std::to_string(count) + " declared values");
    source.rewind();
    if (source.read(scratch.data(), std::size_t(header_bytes)) != header_bytes)
      fail(path, "changed while being read (the header is gone on the second pass)");
  }
  // Plain files were checked by their size, compressed ones by the count above: `count` bytes are
  // there (unless the file changes under us, which the reads below still catch).
  array.values.resize(std::size_t(count));
  const std::size_t got = source.read(array.values.data(), array.values.size());
  if (got < count) {
    std::ostringstream msg;
    msg << "truncated: its header declares " << count << " values but only " << got
        << " are present after the header (the file changed while being read?)";
    fail(path, msg.str());
  }
  std::uint8_t extra = 0;
  if (source.read(&extra, 1) != 0) fail(path, "has trailing bytes after the " + std::to_string(count) + " declared values");
  return array;
}

void write_idx(const std::string& path, const std::vector<std::uint32_t>& dims,
               const std::vector<std::uint8_t>& values, bool gzip) {
  std::vector<std::uint8_t> bytes{0, 0, 0x08, std::uint8_t(dims.size())};
  for (auto d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(std::uint8_t(d >> shift));
  bytes.insert(bytes.end(), values.begin(), values.end());
  GzHandle out(gzopen(path.c_str(), gzip ? "wb6" : "wbT"));
  if (!out) throw DataError("cannot write " + path);
  if (gzwrite(out.get(), bytes.data(), unsigned(bytes.size())) != int(bytes.size()))
    throw DataError("write failed for " + path);
  if (gzclose(out.release()) != Z_OK) throw DataError("closing " + path + " failed");
}

Dataset load_idx_dataset(const DataOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(options.dir, ec))
    throw DataError("data directory " + options.dir + " does not exist or is not a directory");
  Dataset data;
  // The directory's own name, also when given as ".", ".." or with a trailing slash.
  const std::filesystem::path where = std::filesystem::absolute(options.dir, ec).lexically_normal();
  data.name = where.filename().string();
  if (data.name.empty()) data.name = where.parent_path().filename().string();

  struct Split {
    const char* images;
    const char* labels;
    std::size_t limit;
    Eigen::MatrixXf* pixels;
    std::vector<std::uint8_t>* label_values;
  };
  const Split splits[] = {
      {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", options.train_limit, &data.train_images, &data.train_labels},
      {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", options.test_limit, &data.test_images, &data.test_labels}};
  for (const auto& split : splits) {
    const std::string image_path = find_file(options.dir, split.images);
    const std::string label_path = find_file(options.dir, split.labels);
    data.files.push_back(image_path);
    data.files.push_back(label_path);
    const IdxArray images = read_idx(image_path, 3);
    const IdxArray labels = read_idx(label_path, 1);
    if (labels.dims[0] != images.dims[0])
      throw DataError("data file " + label_path + ": holds " + std::to_string(labels.dims[0]) + " labels but " +
                      image_path + " holds " + std::to_string(images.dims[0]) + " images");
    const int rows = int(images.dims[1]), cols = int(images.dims[2]);
    if (split.pixels == &data.test_images && (rows != data.image_rows || cols != data.image_cols))
      throw DataError("data file " + image_path + ": images are " + std::to_string(rows) + "x" + std::to_string(cols) +
                      " but the training images are " + std::to_string(data.image_rows) + "x" +
                      std::to_string(data.image_cols));
    data.image_rows = rows;
    data.image_cols = cols;
    for (std::size_t i = 0; i < labels.values.size(); ++i)
      if (labels.values[i] > options.max_label)
        throw DataError("data file " + label_path + ": label " + std::to_string(labels.values[i]) + " at index " +
                        std::to_string(i) + " is outside 0.." + std::to_string(options.max_label));
    std::size_t n = images.dims[0];
    if (split.limit > 0) n = std::min(n, split.limit);
    const std::size_t pixels = std::size_t(rows) * std::size_t(cols);
    split.pixels->resize(Eigen::Index(pixels), Eigen::Index(n));
    advise_huge_pages(*split.pixels);
    for (std::size_t s = 0; s < n; ++s)
      for (std::size_t p = 0; p < pixels; ++p)
        (*split.pixels)(Eigen::Index(p), Eigen::Index(s)) = float(images.values[s * pixels + p]) / 255.0f;
    split.label_values->assign(labels.values.begin(), labels.values.begin() + std::ptrdiff_t(n));
  }
  return data;
}

}  // namespace aesweep
