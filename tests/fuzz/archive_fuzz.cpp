// Fuzz harness: opening a sweep archive (SweepArchiveReader::open, the layout checks) and
// reading everything the analysis reads from it: the header, run states, every run's outcome,
// result, latent codes and reconstructions (the first 16 runs). Input: the bytes of an HDF5 file.
// Allowed outcome: success, or ArchiveError.
#include "aesweep/archive/sweep_archive_reader.hpp"
#include "aesweep/core/error.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static aesweep::fuzz::ScratchFile file("archive.h5");
  file.write(data, size);
  try {
    const auto reader = aesweep::SweepArchiveReader::open(file.path());
    (void)reader.header();
    const auto states = reader.read_states();
    const std::size_t n = std::min<std::size_t>(reader.run_count(), 16);
    if (aesweep::fuzz::verbose()) std::fprintf(stderr, "  opened: %zu runs\n", reader.run_count());
    for (std::size_t i = 0; i < n; ++i) {
      try {
        (void)reader.read_outcome(i);
        (void)reader.read_latent(i);
        (void)reader.read_reconstructions(i);
        if (i < states.size() && states[i] != aesweep::RunStatus::pending) (void)reader.read_result(i);
        if (aesweep::fuzz::verbose()) std::fprintf(stderr, "  run %zu read\n", i);
      } catch (const aesweep::ArchiveError& e) {
        aesweep::fuzz::note(e);
      }
    }
  } catch (const aesweep::ArchiveError& e) {
    aesweep::fuzz::note(e);
  }
  return 0;
}
