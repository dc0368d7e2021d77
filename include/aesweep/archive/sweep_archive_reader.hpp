#pragma once
// Read side of the sweep archive (layout in docs/archive.md), for the analysis binary and
// tests. Usually one process with the default (sec2) driver; an MPI-IO open is available for
// parallel readers. Do not read an archive while a sweep is still writing it: pending runs
// hold undefined data and /runs_state may change under you.
#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "aesweep/archive/h5.hpp"
#include "aesweep/archive/sweep_archive.hpp"
#include "aesweep/config/run_spec.hpp"
#include "aesweep/core/run_result.hpp"

namespace aesweep {

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

class SweepArchiveReader {
 public:
  // One process, sec2 driver. read_write only to add groups such as /analysis via file().
  [[nodiscard]] static SweepArchiveReader open(const std::string& path,
                                               h5::Access access = h5::Access::read_only);
  // COLLECTIVE over comm (an MpiCommunicator): MPI-IO driver.
  [[nodiscard]] static SweepArchiveReader open(const std::string& path, const Communicator& comm,
                                               h5::Access access = h5::Access::read_only);

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::int64_t format_version() const { return format_version_; }
  // Everything open_for_sweep wrote from the ArchiveHeader (test labels and reconstruction
  // originals included).
  [[nodiscard]] const ArchiveHeader& header() const { return header_; }
  [[nodiscard]] std::size_t run_count() const { return runs_.size(); }
  [[nodiscard]] const std::vector<ArchivedRun>& runs() const { return runs_; }
  [[nodiscard]] const ArchivedRun& run(std::size_t run_index) const;
  // Re-reads /runs_state (the source of truth for which runs are done).
  [[nodiscard]] std::vector<RunStatus> read_states() const;

  // Everything a run produced, in RunResult form: status from its state (a pending run throws),
  // epochs trimmed to epochs_run (EpochRecord::seconds from epoch_seconds).
  [[nodiscard]] RunResult read_result(std::size_t run_index) const;
  [[nodiscard]] RunOutcome read_outcome(std::size_t run_index) const;
  // hidden x n_test, like RunResult::test_latent.
  [[nodiscard]] Eigen::MatrixXf read_latent(std::size_t run_index) const;
  // input_size x n_recon, like RunRecordInfo::reconstructions.
  [[nodiscard]] Eigen::MatrixXf read_reconstructions(std::size_t run_index) const;

  // The open file, for adding groups (e.g. /analysis) when opened read_write. COLLECTIVE rules
  // of h5.hpp apply when it was opened with MPI-IO.
  [[nodiscard]] h5::File& file() { return file_; }
  [[nodiscard]] const h5::File& file() const { return file_; }
  // COLLECTIVE with MPI-IO.
  void close() { file_.close(); }

 private:
  SweepArchiveReader() = default;
  void load();
  [[nodiscard]] h5::Group run_group(std::size_t run_index) const;

  std::string path_;
  h5::File file_;
  std::int64_t format_version_ = 0;
  ArchiveHeader header_;
  std::vector<ArchivedRun> runs_;
};

}  // namespace aesweep
