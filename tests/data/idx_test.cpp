// The IDX reader: round trips of plain and gzip files, the real Fashion-MNIST test files, the
// real MNIST digits, and every kind of malformed input, each rejected with a DataError whose
// message names the file and the problem.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <new>
#include <numeric>
#include <string>
#include <vector>

#include "aesweep/core/error.hpp"
#include "aesweep/data/idx.hpp"
#include "support/test_support.hpp"

// Every operator new of this test program goes through here, so a test can see the largest
// single allocation a call makes (std::vector, hence IdxArray::values, allocates through it).
// The matching deletes use free(), so the sanitizers see one consistent allocator.
namespace {
std::atomic<bool> g_count_allocations{false};
std::atomic<std::size_t> g_largest_allocation{0};

void* counted_allocation(std::size_t size) {
  if (g_count_allocations.load(std::memory_order_relaxed)) {
    std::size_t seen = g_largest_allocation.load(std::memory_order_relaxed);
    while (size > seen && !g_largest_allocation.compare_exchange_weak(seen, size)) {
    }
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) { return counted_allocation(size); }
void* operator new[](std::size_t size) { return counted_allocation(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace aesweep {
namespace {

// The largest single operator-new allocation made while `body` runs (exceptions pass through).
template <typename F>
std::size_t largest_allocation_during(F&& body) {
  g_largest_allocation = 0;
  g_count_allocations = true;
  try {
    body();
  } catch (...) {
    g_count_allocations = false;
    throw;
  }
  g_count_allocations = false;
  return g_largest_allocation.load();
}

const std::string kFashionDir = "/usr/share/datasets/fashion-mnist";

std::vector<std::uint8_t> pattern(std::size_t n, unsigned mul = 37) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::uint8_t((i * mul + 11) % 256);
  return v;
}

// The bytes of an IDX file of unsigned bytes, built by hand (independent of write_idx).
std::vector<std::uint8_t> idx_bytes(const std::vector<std::uint32_t>& dims, const std::vector<std::uint8_t>& values,
                                    std::uint8_t type = 0x08) {
  std::vector<std::uint8_t> b{0, 0, type, std::uint8_t(dims.size())};
  for (auto d : dims) {
    b.push_back(std::uint8_t(d >> 24));
    b.push_back(std::uint8_t(d >> 16));
    b.push_back(std::uint8_t(d >> 8));
    b.push_back(std::uint8_t(d));
  }
  b.insert(b.end(), values.begin(), values.end());
  return b;
}

void write_gzip(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(f, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
  }
  ASSERT_EQ(gzclose(f), Z_OK);
}

// Runs `body`, expects a DataError whose message contains `path` and every word in `words`.
template <typename F>
void expect_data_error(F&& body, const std::string& path, std::initializer_list<const char*> words) {
  try {
    body();
    ADD_FAILURE() << "no DataError for " << path;
  } catch (const DataError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << "message does not name " << path << ": " << m;
    for (const char* w : words) EXPECT_NE(m.find(w), std::string::npos) << "message lacks '" << w << "': " << m;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type for " << path << ": " << e.what();
  }
}

// ---- Valid files ----

class IdxRoundTrip : public ::testing::TestWithParam<bool> {};

TEST_P(IdxRoundTrip, WriteThenReadGivesTheSameArray) {
  const bool gzip = GetParam();
  test::TempDir dir;
  const std::string images = dir.file("images"), labels = dir.file("labels");
  const auto pixels = pattern(7 * 5 * 3);
  const auto label_values = pattern(7, 3);
  write_idx(images, {7, 5, 3}, pixels, gzip);
  write_idx(labels, {7}, label_values, gzip);
  // gzip is detected from the content, whatever the name.
  const auto raw = test::read_bytes(images);
  ASSERT_GE(raw.size(), 2u);
  EXPECT_EQ(raw[0] == 0x1f && raw[1] == 0x8b, gzip);
  if (!gzip) {
    EXPECT_EQ(raw, idx_bytes({7, 5, 3}, pixels));
  }

  const IdxArray a = read_idx(images, 3);
  EXPECT_EQ(a.dims, (std::vector<std::uint32_t>{7, 5, 3}));
  EXPECT_EQ(a.values, pixels);
  const IdxArray l = read_idx(labels, 1);
  EXPECT_EQ(l.dims, (std::vector<std::uint32_t>{7}));
  EXPECT_EQ(l.values, label_values);
}

TEST_P(IdxRoundTrip, LargeFileAcrossReadChunks) {
  // 5 MB: more than one of the reader's 4 MiB growth steps.
  test::TempDir dir;
  const auto values = pattern(5000u * 1000u, 131);
  write_idx(dir.file("big"), {5000, 1000}, values, GetParam());
  const IdxArray a = read_idx(dir.file("big"), 2);
  EXPECT_EQ(a.dims, (std::vector<std::uint32_t>{5000, 1000}));
  EXPECT_TRUE(a.values == values);
}

INSTANTIATE_TEST_SUITE_P(PlainAndGzip, IdxRoundTrip, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "gzip" : "plain"; });

TEST(IdxDataset, LoadsAHandMadeDatasetScaledToTheUnitInterval) {
  test::TempDir dir;
  // 3 training images of 2 x 2 and 2 test images, plain and gzip mixed.
  write_idx(dir.file("train-images-idx3-ubyte"), {3, 2, 2}, {0, 255, 51, 102, 1, 2, 3, 4, 255, 255, 0, 0}, false);
  write_idx(dir.file("train-labels-idx1-ubyte.gz"), {3}, {9, 0, 4}, true);
  write_idx(dir.file("t10k-images-idx3-ubyte.gz"), {2, 2, 2}, {10, 20, 30, 40, 50, 60, 70, 80}, true);
  write_idx(dir.file("t10k-labels-idx1-ubyte"), {2}, {1, 2}, false);
  const Dataset d = load_idx_dataset(DataOptions{dir.path().string(), 0, 0});
  EXPECT_EQ(d.image_rows, 2);
  EXPECT_EQ(d.image_cols, 2);
  ASSERT_EQ(d.train_images.rows(), 4);
  ASSERT_EQ(d.train_images.cols(), 3);
  // One sample per column, pixels in row-major image order, scaled by 1/255.
  EXPECT_FLOAT_EQ(d.train_images(0, 0), 0.0f);
  EXPECT_FLOAT_EQ(d.train_images(1, 0), 1.0f);
  EXPECT_FLOAT_EQ(d.train_images(2, 0), 0.2f);
  EXPECT_FLOAT_EQ(d.train_images(3, 0), 0.4f);
  EXPECT_FLOAT_EQ(d.train_images(3, 1), 4.0f / 255.0f);
  EXPECT_EQ(d.train_labels, (std::vector<std::uint8_t>{9, 0, 4}));
  EXPECT_EQ(d.test_images.cols(), 2);
  EXPECT_FLOAT_EQ(d.test_images(2, 1), 70.0f / 255.0f);
  EXPECT_EQ(d.test_labels, (std::vector<std::uint8_t>{1, 2}));
  // Limits take the first samples.
  const Dataset limited = load_idx_dataset(DataOptions{dir.path().string(), 2, 1});
  EXPECT_EQ(limited.train_images.cols(), 2);
  EXPECT_EQ(limited.train_labels, (std::vector<std::uint8_t>{9, 0}));
  EXPECT_EQ(limited.test_images.cols(), 1);
  EXPECT_EQ(limited.test_images, d.test_images.leftCols(1));
}

TEST(IdxDataset, AcceptsTheOriginalDottedNames) {
  test::TempDir dir;
  write_idx(dir.file("train-images.idx3-ubyte"), {1, 2, 2}, {1, 2, 3, 4}, false);
  write_idx(dir.file("train-labels.idx1-ubyte"), {1}, {3}, false);
  write_idx(dir.file("t10k-images.idx3-ubyte"), {1, 2, 2}, {5, 6, 7, 8}, false);
  write_idx(dir.file("t10k-labels.idx1-ubyte"), {1}, {5}, false);
  const Dataset d = load_idx_dataset(DataOptions{dir.path().string(), 0, 0});
  EXPECT_EQ(d.train_labels, (std::vector<std::uint8_t>{3}));
  EXPECT_EQ(d.test_labels, (std::vector<std::uint8_t>{5}));
}

// A plain file beside its .gz (gunzip -k) is the same data: loaded. Two that differ are refused
// naming both, never one picked silently.
TEST(IdxDataset, PlainAndGzipOfOneFileMustAgree) {
  test::TempDir dir;
  write_idx(dir.file("train-images-idx3-ubyte"), {1, 2, 2}, {1, 2, 3, 4}, false);
  write_idx(dir.file("train-images-idx3-ubyte.gz"), {1, 2, 2}, {1, 2, 3, 4}, true);
  write_idx(dir.file("train-labels-idx1-ubyte"), {1}, {3}, false);
  write_idx(dir.file("t10k-images-idx3-ubyte"), {1, 2, 2}, {5, 6, 7, 8}, false);
  write_idx(dir.file("t10k-labels-idx1-ubyte"), {1}, {5}, false);
  write_idx(dir.file("t10k-labels.idx1-ubyte"), {1}, {5}, false);
  const Dataset d = load_idx_dataset(DataOptions{dir.path().string(), 0, 0});
  EXPECT_EQ(d.train_labels, (std::vector<std::uint8_t>{3}));
  write_idx(dir.file("t10k-labels.idx1-ubyte"), {1}, {6}, false);  // now another label
  try {
    (void)load_idx_dataset(DataOptions{dir.path().string(), 0, 0});
    FAIL() << "two different t10k-labels files were accepted";
  } catch (const DataError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("t10k-labels-idx1-ubyte"), std::string::npos) << what;
    EXPECT_NE(what.find("t10k-labels.idx1-ubyte"), std::string::npos) << what;
    EXPECT_NE(what.find("differ"), std::string::npos) << what;
  }
}

TEST(IdxReal, FashionMnistTestFiles) {
  const IdxArray images = read_idx(kFashionDir + "/t10k-images-idx3-ubyte.gz", 3);
  EXPECT_EQ(images.dims, (std::vector<std::uint32_t>{10000, 28, 28}));
  EXPECT_EQ(images.values.size(), 10000u * 28 * 28);
  EXPECT_EQ(*std::max_element(images.values.begin(), images.values.end()), 255);
  EXPECT_EQ(*std::min_element(images.values.begin(), images.values.end()), 0);
  const IdxArray labels = read_idx(kFashionDir + "/t10k-labels-idx1-ubyte.gz", 1);
  EXPECT_EQ(labels.dims, (std::vector<std::uint32_t>{10000}));
  // Fashion-MNIST's test set holds exactly 1,000 images of each of the 10 classes.
  std::vector<int> counts(256, 0);
  for (auto l : labels.values) ++counts[l];
  for (int c = 0; c < 10; ++c) EXPECT_EQ(counts[std::size_t(c)], 1000) << "class " << c;
  EXPECT_EQ(std::accumulate(counts.begin() + 10, counts.end(), 0), 0) << "labels outside 0..9";
}

// The data set's name (the archive's /dataset@name, which picks the report's class names) is the
// directory's own name however the directory is written: "." used to give ".".
TEST(IdxReal, DatasetNameIsTheDirectorysNameHoweverItIsWritten) {
  struct Back {  // to the test's directory however the test ends
    std::filesystem::path before = std::filesystem::current_path();
    ~Back() { std::filesystem::current_path(before); }
  } back;
  std::filesystem::current_path(kFashionDir);
  const std::string parent = std::filesystem::path(kFashionDir).parent_path().string();
  for (const std::string& dir : {std::string("."), std::string("./"), std::string("../fashion-mnist/."),
                                kFashionDir + "/", parent + "/fashion-mnist"}) {
    SCOPED_TRACE(dir);
    EXPECT_EQ(load_idx_dataset(DataOptions{dir, 50, 50}).name, "fashion-mnist");
  }
}

TEST(IdxReal, FashionMnistGunzippedEqualsGzip) {
  // The same file decompressed by zlib in the test and read as plain IDX.
  test::TempDir dir;
  const std::string gz = kFashionDir + "/t10k-labels-idx1-ubyte.gz";
  gzFile in = gzopen(gz.c_str(), "rb");
  ASSERT_NE(in, nullptr);
  std::vector<std::uint8_t> plain(10008);
  ASSERT_EQ(gzread(in, plain.data(), unsigned(plain.size())), 10008);
  gzclose(in);
  test::write_bytes(dir.file("labels"), plain);
  EXPECT_EQ(read_idx(dir.file("labels"), 1).values, read_idx(gz, 1).values);
}

TEST(IdxReal, MnistDigitsFromTheTestCache) {
  const Dataset& d = test::mnist(0, 0);
  EXPECT_EQ(d.input_size(), 784);
  EXPECT_EQ(d.image_rows, 28);
  EXPECT_EQ(d.train_images.cols(), 8000);
  EXPECT_EQ(d.test_images.cols(), 2000);
  EXPECT_EQ(d.train_labels.size(), 8000u);
  EXPECT_EQ(d.test_labels.size(), 2000u);
  EXPECT_GE(d.train_images.minCoeff(), 0.0f);
  EXPECT_LE(d.train_images.maxCoeff(), 1.0f);
  // Digits: mostly background, ~19% ink.
  const double ink = double((d.train_images.array() > 0.0f).count()) / double(d.train_images.size());
  EXPECT_GT(ink, 0.1);
  EXPECT_LT(ink, 0.3);
  std::vector<int> counts(10, 0);
  for (auto l : d.train_labels) {
    ASSERT_LE(l, 9);
    ++counts[l];
  }
  for (int c : counts) EXPECT_GT(c, 500);  // every digit is present
}

// The VmFlags of every mapping in /proc/self/smaps that lies wholly inside
// [address, address + bytes), one string per mapping (the advice splits a buffer's mapping at
// the huge-page boundaries, so the advised part is a mapping of its own).
std::vector<std::string> vm_flags_inside(const void* address, std::size_t bytes) {
  const auto begin = reinterpret_cast<std::uintptr_t>(address), end = begin + bytes;
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool inside = false;
  std::vector<std::string> flags;
  while (std::getline(in, line)) {
    unsigned long long low = 0, high = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx ", &low, &high) == 2 && line.find(':') > line.find('-')) {
      inside = low >= begin && high <= end;
      continue;
    }
    if (inside && line.rfind("VmFlags:", 0) == 0) flags.push_back(line.substr(8) + " ");
  }
  return flags;
}

// The training set's storage is asked for huge pages (advise_huge_pages), so that the batches'
// random column gathers do not miss the TLB column after column. The kernel marks advised memory
// "hg" in its VmFlags (whether it then finds huge pages is up to it); the values are those of
// the files.
TEST(IdxReal, TrainingImagesAreAdvisedOntoHugePages) {
  if (!std::filesystem::exists("/sys/kernel/mm/transparent_hugepage"))
    GTEST_SKIP() << "this kernel has no transparent huge pages";
  const Dataset d = load_idx_dataset(DataOptions{test::mnist_dir(), 0, 0});
  const std::size_t bytes = sizeof(float) * std::size_t(d.train_images.size());
  ASSERT_GE(bytes, std::size_t(8) << 20) << "the test needs a training set of several huge pages";
  const auto flags = vm_flags_inside(d.train_images.data(), bytes);
  ASSERT_FALSE(flags.empty()) << "no mapping lies inside the training images' " << bytes << " bytes";
  for (const auto& f : flags) EXPECT_NE(f.find(" hg "), std::string::npos) << "VmFlags:" << f;
  // The values: each pixel byte of the file over 255, as without the advice.
  const IdxArray raw = read_idx(test::mnist_dir() + "/train-images-idx3-ubyte.gz", 3);
  ASSERT_EQ(raw.values.size(), std::size_t(d.train_images.size()));
  for (std::size_t i = 0; i < raw.values.size(); ++i)
    ASSERT_EQ(d.train_images.data()[i], float(raw.values[i]) / 255.0f) << "pixel " << i;
}

// ---- Malformed files ----

class IdxMalformed : public ::testing::TestWithParam<bool> {
 protected:
  // Writes `bytes` plain or gzip-compressed (the parameter) and returns the path.
  std::string write(const std::string& name, const std::vector<std::uint8_t>& bytes) {
    const std::string path = dir_.file(name);
    if (GetParam()) write_gzip(path, bytes);
    else test::write_bytes(path, bytes);
    return path;
  }
  test::TempDir dir_;
};

TEST_P(IdxMalformed, BadMagic) {
  auto bytes = idx_bytes({2, 2, 2}, pattern(8));
  bytes[0] = 0x12;
  const auto path = write("bad-magic", bytes);
  expect_data_error([&] { read_idx(path, 3); }, path, {"magic"});
}

TEST_P(IdxMalformed, WrongTypeCode) {
  const auto path = write("float-type", idx_bytes({2, 2, 2}, pattern(8), 0x0D));
  expect_data_error([&] { read_idx(path, 3); }, path, {"type", "0xd"});
}

TEST_P(IdxMalformed, WrongRank) {
  const auto path = write("rank2", idx_bytes({4, 2}, pattern(8)));
  expect_data_error([&] { read_idx(path, 3); }, path, {"2 dimensions", "expected 3"});
  const auto labels = write("rank3", idx_bytes({1, 2, 2}, pattern(4)));
  expect_data_error([&] { read_idx(labels, 1); }, labels, {"3 dimensions", "expected 1"});
}

TEST_P(IdxMalformed, TruncatedHeader) {
  auto bytes = idx_bytes({2, 2, 2}, {});
  bytes.resize(9);  // magic + one and a bit dimensions
  const auto path = write("short-header", bytes);
  expect_data_error([&] { read_idx(path, 3); }, path, {"truncated header"});
  const auto tiny = write("three-bytes", {0, 0, 8});
  expect_data_error([&] { read_idx(tiny, 3); }, tiny, {"too short"});
}

TEST_P(IdxMalformed, TruncatedData) {
  auto bytes = idx_bytes({3, 4, 4}, pattern(48));
  bytes.resize(bytes.size() - 5);
  const auto path = write("short-data", bytes);
  // Plain files are caught by their length, gzip ones while reading.
  expect_data_error([&] { read_idx(path, 3); }, path, {GetParam() ? "truncated" : "does not match its header"});
}

TEST_P(IdxMalformed, TrailingBytes) {
  auto bytes = idx_bytes({3, 4, 4}, pattern(48));
  bytes.push_back(1);
  bytes.push_back(2);
  const auto path = write("trailing", bytes);
  expect_data_error([&] { read_idx(path, 3); }, path, {GetParam() ? "trailing" : "does not match its header"});
}

TEST_P(IdxMalformed, ZeroDimension) {
  const auto path = write("zero-dim", idx_bytes({5, 0, 28}, {}));
  expect_data_error([&] { read_idx(path, 3); }, path, {"dimension 1 is zero"});
}

TEST_P(IdxMalformed, HugeDeclaredDimensionsOnATinyFile) {
  // 4e9 x 28 x 28 = 3.1e12 bytes declared, 100 present: rejected without allocating 3 TB
  // (the test would die with bad_alloc or run out of memory otherwise).
  const auto path = write("huge", idx_bytes({4000000000u, 28, 28}, pattern(100)));
  expect_data_error([&] { read_idx(path, 3); }, path, {"3136000000000"});
  // The largest representable header.
  const auto max = write("max", idx_bytes({0xffffffffu, 0xffffffffu, 0xffffffffu}, pattern(10)));
  expect_data_error([&] { read_idx(max, 3); }, max, {});
}

TEST_P(IdxMalformed, EmptyFile) {
  const auto path = dir_.file("empty");
  test::write_bytes(path, {});  // zero bytes (a gzip of nothing is tested by the gzip variant)
  expect_data_error([&] { read_idx(path, 1); }, path, {"too short"});
  if (GetParam()) {
    const auto gz = write("empty-gz", {});
    expect_data_error([&] { read_idx(gz, 1); }, gz, {"too short"});
  }
}

INSTANTIATE_TEST_SUITE_P(PlainAndGzip, IdxMalformed, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "gzip" : "plain"; });

TEST(IdxMalformedGzip, CorruptStream) {
  test::TempDir dir;
  const auto path = dir.file("corrupt.gz");
  write_gzip(path, idx_bytes({50, 28, 28}, pattern(50 * 784, 7)));
  auto bytes = test::read_bytes(path);
  ASSERT_GT(bytes.size(), 200u);
  // Scramble the deflate data after the 10-byte gzip header.
  for (std::size_t i = 40; i < 120; ++i) bytes[i] ^= 0xA5;
  test::write_bytes(path, bytes);
  expect_data_error([&] { read_idx(path, 3); }, path, {});
  try {
    read_idx(path, 3);
  } catch (const DataError& e) {
    const std::string m = e.what();
    EXPECT_TRUE(m.find("corrupt") != std::string::npos || m.find("truncated") != std::string::npos ||
                m.find("magic") != std::string::npos)
        << m;
  }
}

TEST(IdxMalformedGzip, TruncatedCompressedStream) {
  test::TempDir dir;
  const auto path = dir.file("cut.gz");
  write_gzip(path, idx_bytes({50, 28, 28}, pattern(50 * 784, 7)));
  auto bytes = test::read_bytes(path);
  bytes.resize(bytes.size() / 2);
  test::write_bytes(path, bytes);
  expect_data_error([&] { read_idx(path, 3); }, path, {});
}

// A gzip file whose header declares 2^31 images of 28 x 28 (1.7e12 bytes) but that inflates to
// only 64 MiB of zeros (a 64 KiB file): refused, with a message giving both counts, before
// anything of either size is allocated. The reader used to grow its buffer as data arrived and
// so held all 64 MiB (a 1 MB file of zeros inflates to 1 GB) before it noticed the truncation.
TEST(IdxMalformedGzip, LyingHeaderIsRefusedWithoutALargeAllocation) {
  test::TempDir dir;
  const auto path = dir.file("bomb.gz");
  constexpr std::size_t present = std::size_t(64) << 20;
  {
    gzFile f = gzopen(path.c_str(), "wb9");
    ASSERT_NE(f, nullptr);
    const auto header = idx_bytes({0x80000000u, 28, 28}, {});
    ASSERT_EQ(gzwrite(f, header.data(), unsigned(header.size())), int(header.size()));
    const std::vector<std::uint8_t> zeros(std::size_t(1) << 20, 0);
    for (std::size_t written = 0; written < present; written += zeros.size())
      ASSERT_EQ(gzwrite(f, zeros.data(), unsigned(zeros.size())), int(zeros.size()));
    ASSERT_EQ(gzclose(f), Z_OK);
  }
  ASSERT_LT(std::filesystem::file_size(path), present / 256) << "the test file should be a small gzip";
  expect_data_error([&] { largest_allocation_during([&] { read_idx(path, 3); }); }, path,
                    {"truncated", "declares 1683627180032 values", "only 67108864 are present"});
  // The exception ended the counting; read what it saw.
  const std::size_t largest = g_largest_allocation.load();
  EXPECT_LT(largest, std::size_t(1) << 20) << "read_idx allocated " << largest << " bytes at once for a file it refused";

  // The same stream with one value fewer declared: one byte left over, refused just as cheaply.
  const auto one_over = dir.file("one-over.gz");
  write_gzip(one_over, idx_bytes({5, 7}, pattern(36)));
  expect_data_error([&] { read_idx(one_over, 2); }, one_over,
                    {"trailing", "35 declared values"});
}

// An honest gzip file gets exactly its declared size, not a grown buffer's capacity.
TEST(IdxMalformedGzip, HonestGzipIsReadIntoExactlyItsDeclaredSize) {
  test::TempDir dir;
  const auto path = dir.file("honest.gz");
  const auto values = pattern(5000u * 1000u + 3, 131);
  write_idx(path, {5000003}, values, true);
  IdxArray a;
  const std::size_t largest = largest_allocation_during([&] { a = read_idx(path, 1); });
  EXPECT_EQ(a.values, values);
  EXPECT_EQ(largest, values.size()) << "the values should be one allocation of exactly the declared size";
}

TEST(IdxMissing, MissingFileAndDirectory) {
  test::TempDir dir;
  const auto path = dir.file("no-such-file");
  expect_data_error([&] { read_idx(path, 3); }, path, {"does not exist"});
  expect_data_error([&] { read_idx(dir.path().string(), 3); }, dir.path().string(), {"not a regular file"});
  const auto missing_dir = dir.file("no-such-dir");
  expect_data_error([&] { load_idx_dataset(DataOptions{missing_dir, 0, 0}); }, missing_dir, {"does not exist"});
}

// ---- Whole datasets that disagree ----

class IdxDatasetError : public ::testing::Test {
 protected:
  void SetUp() override {
    write_idx(dir_.file("train-images-idx3-ubyte"), {3, 2, 2}, pattern(12), false);
    write_idx(dir_.file("train-labels-idx1-ubyte"), {3}, {1, 2, 3}, false);
    write_idx(dir_.file("t10k-images-idx3-ubyte"), {2, 2, 2}, pattern(8), false);
    write_idx(dir_.file("t10k-labels-idx1-ubyte"), {2}, {4, 5}, false);
    ASSERT_NO_THROW(load_idx_dataset(DataOptions{dir_.path().string(), 0, 0}));
  }
  Dataset load() { return load_idx_dataset(DataOptions{dir_.path().string(), 0, 0}); }
  test::TempDir dir_;
};

TEST_F(IdxDatasetError, DirectoryMissingAFile) {
  std::filesystem::remove(dir_.file("t10k-labels-idx1-ubyte"));
  expect_data_error([&] { load(); }, dir_.path().string(), {"missing", "t10k-labels-idx1-ubyte"});
}

TEST_F(IdxDatasetError, LabelCountDiffersFromImageCount) {
  const auto labels = dir_.file("train-labels-idx1-ubyte");
  write_idx(labels, {4}, {1, 2, 3, 4}, false);
  expect_data_error([&] { load(); }, labels, {"4 labels", "3 images"});
}

TEST_F(IdxDatasetError, LabelOutOfRange) {
  const auto labels = dir_.file("t10k-labels-idx1-ubyte");
  write_idx(labels, {2}, {4, 10}, false);
  expect_data_error([&] { load(); }, labels, {"label 10", "index 1", "0..9"});
}

TEST_F(IdxDatasetError, TestImagesOfAnotherSize) {
  const auto images = dir_.file("t10k-images-idx3-ubyte");
  write_idx(images, {2, 3, 3}, pattern(18), false);
  expect_data_error([&] { load(); }, images, {"3x3", "2x2"});
}

TEST_F(IdxDatasetError, MalformedMemberFileIsNamed) {
  const auto images = dir_.file("train-images-idx3-ubyte");
  auto bytes = test::read_bytes(images);
  bytes.pop_back();
  test::write_bytes(images, bytes);
  expect_data_error([&] { load(); }, images, {"does not match its header"});
}

}  // namespace
}  // namespace aesweep
