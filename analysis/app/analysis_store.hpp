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
  // Opens (creating if needed) the analysis group for these options in `file`. `source_identity`
  // is archive_identity() of the analysed archive: /analysis records it when created, and a
  // file whose /analysis came from another archive is refused (ArchiveError), so results only
  // ever sit next to the archive they were computed from.
  AnalysisStore(const h5::File& file, const AnalysisOptions& options, const std::string& source_archive,
                const std::string& source_identity);

  [[nodiscard]] bool has_run(std::int64_t run) const;
  // Writes one run's results; its "complete" attribute last.
  void write(const RunAnalysis& a) const;

  [[nodiscard]] const std::string& options_hash() const { return hash_; }

 private:
  h5::Group runs_;
  std::string hash_;
};

// Checks, before any work, that results for the archive at `source_path` (identity
// `source_identity`) may be written to `target_path`: the archive itself (in place, it must be
// writable) or a separate file that is missing (its directory must exist and be writable) or an
// HDF5 file holding only analyses of this same archive. Throws ConfigError naming the problem;
// never modifies anything.
void check_analysis_target(const std::string& source_path, const std::string& source_identity,
                           const std::string& target_path);

// True when both paths name the same existing file.
bool same_file(const std::string& a, const std::string& b);

// Hex FNV-1a of a text.
std::string text_hash(const std::string& text);

}  // namespace aesweep::analysis
