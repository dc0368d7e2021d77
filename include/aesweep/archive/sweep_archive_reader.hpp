#pragma once
// Read side of the sweep archive (layout in docs/archive.md), for the analysis binary and
// tests. Usually one process with the default (sec2) driver; an MPI-IO open is available for
// parallel readers. Do not read an archive with open() while a sweep is still writing it:
// pending runs hold undefined data and /runs_state may change under you. open_to_watch() and
// read_done_summary() are made for exactly that (aesweep status).
#include <Eigen/Core>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aesweep/archive/h5.hpp"
#include "aesweep/archive/sweep_archive.hpp"
#include "aesweep/archive/writer_lock.hpp"
#include "aesweep/config/run_spec.hpp"
#include "aesweep/core/run_result.hpp"

namespace aesweep {

// Every RunStatus value that has a name (to_string), in byte order: the states /runs_state may hold.
// Generated from the enum's names, so a status added to RunStatus is read and counted everywhere
// without another list to update.
[[nodiscard]] const std::vector<RunStatus>& run_status_values();
// The status a /runs_state byte stands for; nothing for a byte that names none (a damaged file).
[[nodiscard]] std::optional<RunStatus> run_status_of_byte(std::uint8_t byte);
// The statuses of /runs_state's bytes; throws ArchiveError naming `path` for a byte that names none.
[[nodiscard]] std::vector<RunStatus> run_states_of_bytes(const std::vector<std::uint8_t>& bytes, const std::string& path);

// One run as listed in the archive (attributes of /runs/<index>).
struct ArchivedRun {
  std::size_t index = 0;
  std::string section;
  std::vector<std::string> sections;  // every section listing it (version 1 archives: {section})
  std::vector<Setting> settings;  // registry order, canonical text, numeric where it was numeric
  RunStatus state = RunStatus::pending;
  RunShape shape;
};

// The scalar outcome of a run (/runs/<index>/metrics).
struct RunOutcome : RunScalars {  // metrics, epochs_run, wall_seconds, samples_per_second
  RunStatus state = RunStatus::pending;
  int rank = -1;
  std::string host;
  std::string error;
};

// A done run's /summary row, read while a sweep may still be writing the archive.
struct SummaryRow {
  std::size_t index = 0;
  std::string section;
  RunOutcome outcome;  // its state is the run's /runs_state byte
  // The summary's Pareto columns (docs/archive.md); absent in archives before format 3.
  std::optional<bool> pareto_front, pareto_front_section;
  // What computed the run (backend, version, ISA; CPU); absent before format 3.
  std::optional<std::string> compute;
  // The values of the numeric columns asked for by name, in the order asked (NaN where the archive
  // has no such column: an older layout).
  std::vector<double> extra;
};

// What read_done_summary returns: the run states as read, and the rows of the runs done then.
struct SummarySnapshot {
  std::vector<RunStatus> states;  // every run, as /runs_state said at the moment of reading
  std::vector<SummaryRow> done;   // the rows of the runs done in `states`, by index
  std::vector<bool> extra_present;  // per extra column asked for: does the archive have it
};

class SweepArchiveReader {
 public:
  SweepArchiveReader(SweepArchiveReader&&) noexcept = default;
  // Deleted: memberwise it would let go of a visit's lock before closing the file it replaces.
  SweepArchiveReader& operator=(SweepArchiveReader&&) = delete;

  // One process, sec2 driver. read_write only to add groups such as /analysis via file().
  [[nodiscard]] static SweepArchiveReader open(const std::string& path,
                                               h5::Access access = h5::Access::read_only);
  // For watching an archive a sweep is still writing (aesweep status): one process, read-only,
  // without HDF5's file lock (so neither this reader nor the writer or another reader ever waits
  // for or refuses the other: HDF5 1.10 locks with flock, which NFS turns into byte-range locks
  // that the sweep's MPI-IO writer waits for there), reading only the study-wide header and
  // checking the archive's shape, not every run's group: run_count() is the number of runs,
  // runs() is empty. Use read_done_summary().
  // The file is never written (a read-only open).
  [[nodiscard]] static SweepArchiveReader open_to_watch(const std::string& path);
  // For reading an archive a sweep may still write in short visits, one per read (aesweep-analyze
  // --out): read-only, without HDF5's file lock, but holding an ArchiveReadLock until close() or
  // destruction, which keeps out a program writing the file with HDF5's lock for the visit, and an
  // aesweep-analyze storing its results in it (waiting up to `patience` for one to let go, then
  // ArchiveBusy). Read-write opens (open()) wait up to 2 s for visits. Reads the study-wide header,
  // and every run's group only with `every_run` (else runs() is empty, as with open_to_watch).
  // Close it soon: on NFS its lock holds up the sweep's writes while it is open.
  [[nodiscard]] static SweepArchiveReader open_to_visit(const std::string& path, std::chrono::milliseconds patience,
                                                        bool every_run = false);
  // COLLECTIVE over comm (an MpiCommunicator): MPI-IO driver.
  [[nodiscard]] static SweepArchiveReader open(const std::string& path, const Communicator& comm,
                                               h5::Access access = h5::Access::read_only);

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::int64_t format_version() const { return format_version_; }
  // Everything open_for_sweep wrote from the ArchiveHeader (test labels and reconstruction
  // originals included).
  [[nodiscard]] const ArchiveHeader& header() const { return header_; }
  [[nodiscard]] std::size_t run_count() const { return run_count_; }
  [[nodiscard]] const std::vector<ArchivedRun>& runs() const { return runs_; }
  [[nodiscard]] const ArchivedRun& run(std::size_t run_index) const;
  // Re-reads /runs_state (the source of truth for which runs are done).
  [[nodiscard]] std::vector<RunStatus> read_states() const;

  // Everything a run produced, in RunResult form: status from its state (a pending run throws),
  // epochs trimmed to epochs_run (EpochRecord::seconds from epoch_seconds).
  [[nodiscard]] RunResult read_result(std::size_t run_index) const;
  [[nodiscard]] RunOutcome read_outcome(std::size_t run_index) const;
  // Reads /runs_state, then /summary, and returns the rows of the runs that were done in that
  // /runs_state. Safe while a sweep writes the file: a run's row is whole on disk before its
  // state byte says done, and rows of done runs are never rewritten (except the Pareto bytes at
  // the end of a sweep, which are single bytes). `extra_numeric`: further summary columns to
  // return as numbers (e.g. a schedule's "rung"), NaN where the archive lacks them.
  [[nodiscard]] SummarySnapshot read_done_summary(const std::vector<std::string>& extra_numeric = {}) const;
  // hidden x n_test, like RunResult::test_latent (also when only the header was read).
  [[nodiscard]] Eigen::MatrixXf read_latent(std::size_t run_index) const;
  // input_size x n_recon, like RunRecordInfo::reconstructions.
  [[nodiscard]] Eigen::MatrixXf read_reconstructions(std::size_t run_index) const;

  // The open file, for adding groups (e.g. /analysis) when opened read_write. COLLECTIVE rules
  // of h5.hpp apply when it was opened with MPI-IO.
  [[nodiscard]] h5::File& file() { return file_; }
  [[nodiscard]] const h5::File& file() const { return file_; }
  // Opened by open_to_visit where the file system refused the visit's lock: why ("flock: ...").
  [[nodiscard]] const std::string& unguarded() const { return visit_lock_.unguarded(); }
  // COLLECTIVE with MPI-IO.
  void close() {
    file_.close();
    visit_lock_.release();
  }

 private:
  SweepArchiveReader() = default;
  void load(bool every_run = true);
  // "archive PATH has no run I (it holds COUNT)".
  [[nodiscard]] ArchiveError no_run(std::size_t run_index, std::size_t count) const;
  [[nodiscard]] h5::Group run_group(std::size_t run_index) const;

  std::string path_;
  ArchiveReadLock visit_lock_;  // before file_: let go only after the file is closed
  h5::File file_;
  std::int64_t format_version_ = 0;
  ArchiveHeader header_;
  std::vector<ArchivedRun> runs_;
  std::size_t run_count_ = 0;
};

}  // namespace aesweep
