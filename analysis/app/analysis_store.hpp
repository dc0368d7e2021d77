#pragma once
// Where aesweep-analyze keeps its results: /analysis/<options hash>/runs/<index> inside the
// sweep archive (or another file with --out), so analyses with different options sit side by
// side and a re-run with the same options skips what is there. Layout in docs/archive.md.
// One process only (rank 0), through the archive module's HDF5 layer.
#include <string>

#include "aesweep/archive/h5.hpp"
#include "run_analysis.hpp"

namespace aesweep::analysis {

class AnalysisStore {
 public:
  // Opens (creating if needed) the analysis group for these options in `file`.
  AnalysisStore(const h5::File& file, const AnalysisOptions& options, const std::string& source_archive);

  [[nodiscard]] bool has_run(std::int64_t run) const;
  // Writes one run's results; its "complete" attribute last.
  void write(const RunAnalysis& a) const;

  [[nodiscard]] const std::string& options_hash() const { return hash_; }

 private:
  h5::Group runs_;
  std::string hash_;
};

// Hex FNV-1a of a text.
std::string text_hash(const std::string& text);

}  // namespace aesweep::analysis
