#pragma once
// Where aesweep-analyze keeps its results: /analysis/<options hash>/runs/<index> inside the
// sweep archive (or another file with --out), so analyses with different options sit side by
// side and a re-run with the same options skips what is there. Layout in docs/archive.md.
// One process only (rank 0), through the archive module's HDF5 layer.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "aesweep/archive/h5.hpp"
#include "aesweep/archive/writer_lock.hpp"
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

// Disk blocks held for the results, past the end of the HDF5 file they are appended to. HDF5
// appends new objects at the end of the file; a write that fails for lack of space in the middle
// of a metadata update can leave the whole file unreadable, the sweep's results with it (seen:
// an archive analysed on a full disk could no longer be opened). With the blocks held before the
// first write, the appends cannot run out of space. fallocate(FALLOC_FL_KEEP_SIZE): the file's
// size and contents do not change; on a file system without fallocate the free space is checked
// instead. The blocks not used are given back (ftruncate to the file's size) by release() or the
// destructor, after HDF5 has closed the file.
class SpaceReservation {
 public:
  // Holds `bytes` past the end of the existing file `path`, or, when `path` does not exist yet,
  // checks that its directory has that much free. ConfigError naming both sizes and what to do
  // when the disk has not the room: nothing is written then.
  SpaceReservation(const std::string& path, double bytes);
  ~SpaceReservation();
  SpaceReservation(const SpaceReservation&) = delete;
  SpaceReservation& operator=(const SpaceReservation&) = delete;
  // After HDF5 flushed the file: holds again what a flush that shrank the file to its end of
  // allocation gave back (best effort).
  void renew() const;
  void release();
  [[nodiscard]] bool holds_blocks() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  off_t end_ = 0;  // the file's size when reserved plus the bytes held
};

// What analysing `runs` runs of `n_test` test codes with `options` may append to the file, with a
// margin: the t-SNE embedding, the histograms and k-means entries, and the object headers and
// attributes (about 10 KB a run, measured), all doubled, plus 1 MiB.
double analysis_bytes(std::size_t runs, std::int64_t n_test, const AnalysisOptions& options);

// The archive's writer lock (writer_lock.hpp), held while the results are stored in the archive at
// `path` itself. Refuses (ConfigError) while a sweep has it open or another analysis stores its
// results in it (writing it then left the whole archive unreadable), and, after waiting up to two
// seconds, while another program has it open with HDF5's lock (HDF5 would refuse to write it).
// --out is the way to analyse a running sweep.
WriterLock lock_for_results(const std::string& path);

// How many of `runs` already have complete results for these options in `file` (read only).
std::size_t analysed_runs(const h5::File& file, const AnalysisOptions& options, const std::vector<std::int64_t>& runs);

// True when both paths name the same existing file.
bool same_file(const std::string& a, const std::string& b);

// Hex FNV-1a of a text.
std::string text_hash(const std::string& text);

}  // namespace aesweep::analysis
