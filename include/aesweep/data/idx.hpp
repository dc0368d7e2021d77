#pragma once
// Reader for the IDX format of the MNIST files (idx3 images, idx1 labels), plain or gzip.
// Every field is checked; a header that declares huge dimensions is caught by comparing with
// the bytes actually present before anything of that size is allocated.
#include <cstdint>
#include <string>
#include <vector>

#include "aesweep/core/dataset.hpp"

namespace aesweep {

struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> values;  // row-major, unsigned bytes (type code 0x08)
};

// Reads an IDX file of unsigned bytes with exactly `expected_rank` dimensions. Gzip is detected
// from the content, not the name. Throws DataError naming the file and the problem.
IdxArray read_idx(const std::string& path, int expected_rank);

// Writes an IDX file of unsigned bytes (gzip-compressed when `gzip`). Throws DataError.
void write_idx(const std::string& path, const std::vector<std::uint32_t>& dims,
               const std::vector<std::uint8_t>& values, bool gzip);

struct DataOptions {
  std::string dir;            // holds train-images-idx3-ubyte[.gz] and the three others
  std::size_t train_limit = 0;  // use at most this many training samples (0 = all)
  std::size_t test_limit = 0;   // use at most this many test samples (0 = all)
  int max_label = 9;            // labels must lie in [0, max_label]
};

// Loads the four standard MNIST files from `options.dir`, checking that images and labels
// agree. Pixels are scaled to [0, 1].
Dataset load_idx_dataset(const DataOptions& options);

}  // namespace aesweep
