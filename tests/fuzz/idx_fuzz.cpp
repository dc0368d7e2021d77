// Fuzz harness: the IDX reader (read_idx), plain and gzip.
// Input: byte 0 chooses how the rest reaches the reader. Even: written as is (plain IDX, or gzip
// bytes as found in a .gz file). Odd: gzip-compressed here first, so the fuzzer explores the IDX
// structure behind a valid gzip stream. Both ranks are tried (labels idx1, images idx3).
// Allowed outcome: success with dims and values consistent, or DataError.
#include <zlib.h>

#include <cstdlib>

#include "aesweep/core/error.hpp"
#include "aesweep/data/idx.hpp"
#include "fuzz_support.hpp"

namespace {

std::vector<std::uint8_t> gzip(const std::uint8_t* data, std::size_t size) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::vector<std::uint8_t> out(deflateBound(&z, uLong(size)) + 32);
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = uInt(size);
  z.next_out = out.data();
  z.avail_out = uInt(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

void check(const aesweep::IdxArray& a, int rank) {
  std::uint64_t count = 1;
  for (auto d : a.dims) count *= d;
  if (a.dims.size() != std::size_t(rank) || a.values.size() != count) {
    std::fprintf(stderr, "read_idx returned %zu dims and %zu values for a rank-%d file\n", a.dims.size(),
                 a.values.size(), rank);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static aesweep::fuzz::ScratchFile file("idx");
  if (data[0] % 2 == 0) {
    file.write(data + 1, size - 1);
  } else {
    const auto packed = gzip(data + 1, size - 1);
    file.write(packed.data(), packed.size());
  }
  for (int rank : {1, 3}) {
    try {
      check(aesweep::read_idx(file.path(), rank), rank);
    } catch (const aesweep::DataError& e) {
      aesweep::fuzz::note(e);
    }
  }
  return 0;
}
