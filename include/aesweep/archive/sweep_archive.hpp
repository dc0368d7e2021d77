#pragma once
// The sweep archive: one HDF5 file that every MPI rank writes its finished runs into.
// The on-disk layout is documented in docs/archive.md.
//
// Writing protocol (why the file survives a kill at any moment):
//   1. open_for_sweep (COLLECTIVE) creates every group, attribute and dataset of every run up
//      front, with contiguous storage allocated at creation, then flushes. From then on the
//      file's metadata never changes.
//   2. write_run (INDEPENDENT, by the rank that trained the run) only writes raw data into
//      that pre-allocated storage, the run's state byte in /runs_state last.
//   3. close (COLLECTIVE).
// A run whose /runs_state byte is not 0 (pending) is therefore whole on disk.
//
// This header keeps HDF5 and MPI out of its users: ranks take part through dist's Communicator.
#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aesweep/config/run_spec.hpp"
#include "aesweep/core/run_result.hpp"

namespace aesweep {

class Communicator;

// Version of the layout in docs/archive.md; bumped on any change. Version 2 added /sections and
// each run's `sections`; version 3 the summary's Pareto columns and `compute`. Version 1 and 2 archives are
// still read and resumed (without Pareto columns).
inline constexpr std::int64_t kArchiveFormatVersion = 3;

// The /summary columns (uint8, 0 or 1) that mark the Pareto front of test MSE against latent
// density (pareto.hpp) over all complete runs, and over the runs of each sweep section (1 where
// the run is on the front of at least one section listing it). Written by rank 0 in close() once
// every run of the study is done; 0 before.
inline constexpr const char* kParetoFrontColumn = "pareto_front";
inline constexpr const char* kParetoFrontSectionColumn = "pareto_front_section";
// Format 3 on: per run, what computed it (RunRecordInfo::compute), a fixed string of kComputeBytes.
inline constexpr const char* kComputeColumn = "compute";
inline constexpr std::size_t kComputeBytes = 160;
// Scheduled studies only: the /summary column (int32, last) with the rung each run reached (index
// into the schedule's rungs; -1 none). Archives without a schedule have no such column.
inline constexpr const char* kRungColumn = "rung";

// One [sweep.NAME] section of the study (/sections/<NNN>).
struct StudySection {
  std::string name;
  std::string origin;                   // where its header is, "config x.ini line 12"
  std::vector<std::string> swept_keys;  // its axes, file order
  std::vector<std::int64_t> runs;       // every run of its grid in grid order, shared runs included
  // A [search.NAME] section: its method ("random" or "sobol"), seed, number of points drawn and
  // distributions ("reg.dropout = uniform(0, 0.9)", file order). method is "" for a [sweep.NAME]
  // section, which stores none of these.
  std::string method;
  std::int64_t seed = 0;
  std::int64_t points = 0;
  std::vector<std::string> distributions;
};

// Study-wide metadata, written once when the archive is created.
struct ArchiveHeader {
  std::string config_text;      // the study config as given
  std::string config_hash;      // identifies the config; resume refuses a different one
  std::string dataset_name;     // e.g. "mnist"
  std::int64_t n_train = 0;
  std::int64_t n_test = 0;
  int input_size = 0;                        // pixels per sample
  std::vector<std::uint8_t> test_labels;     // n_test labels
  std::vector<std::int64_t> recon_indices;   // test-set positions of the digits in reconstruction figures
  Eigen::MatrixXf recon_originals;           // input_size x recon_indices.size(), pixels of those digits
  std::string command;                       // command line that created the archive
  std::string aesweep_version;
  std::string created;  // creation time, ISO 8601; empty: filled with the current UTC time
  // Which data the runs were trained on; resume refuses other data. data_fingerprint is
  // dataset_fingerprint() of the samples as loaded (after the sample limits).
  std::string data_fingerprint;
  std::vector<std::string> data_files;      // the IDX files read
  std::int64_t train_samples_option = 0;    // --train-samples as given (0 = all)
  std::int64_t test_samples_option = 0;     // --test-samples as given (0 = all)
  // Identifies this archive among all others (random, fixed at creation; read back only).
  // Analyses check it so their results land only next to the archive they came from.
  std::string archive_id;
  // The sweep's structure: every section with its swept keys and all its runs (a run listed by
  // several sections is trained once and belongs to each). Empty in version 1 archives.
  std::vector<StudySection> sections;
  // The study's schedule (successive halving, hyperband) as RungSchedule::description() writes
  // it; empty without one. A scheduled archive has /runs_rung, a checkpoint per run and the
  // summary's rung column; without a schedule the layout is exactly as before schedules existed.
  std::string schedule;
};

// The archive's identity: archive_id, or for archives written before it existed, the config
// hash and creation time.
std::string archive_identity(const ArchiveHeader& header);

// The file `path` names, symbolic links followed (a link to a file not there yet: that file's
// path), so an archive is built and renamed next to its real place, never over the link itself.
// Throws ArchiveError for a chain of more than 40 links (a loop).
std::string resolve_links(const std::string& path);

// A disk size as messages show it: "512 bytes", "88.4 KB", "10.9 MB" (decimal units).
[[nodiscard]] std::string bytes_text(double bytes);

// Where a file at `path` lies (links followed, made absolute), its directory, and the bytes free
// there for this user; nothing where the directory's file system cannot say (or is not there).
struct FreeSpace {
  std::filesystem::path file;
  std::filesystem::path dir;
  double available = 0;
};
[[nodiscard]] std::optional<FreeSpace> free_space_for(const std::string& path);

// Dataset shapes of one run.
struct RunShape {
  int hidden = 0;
  int n_test = 0;
  int epochs = 0;   // length of the loss curves: the configured maximum
  int n_recon = 0;
  int input_size = 0;
  std::int64_t checkpoint_bytes = 0;  // scheduled studies: the run's checkpoint capacity; else 0

  // hidden and epochs from spec.options (and with a schedule, the checkpoint's capacity), the rest
  // from the header.
  static RunShape for_run(const RunSpec& spec, const ArchiveHeader& header);
  bool operator==(const RunShape&) const = default;
};

enum class OpenMode {
  create_or_resume,  // create if missing; reopen if it was written by the same config
  overwrite,         // replace an existing archive (never a file that is not HDF5)
};

// What write_run records besides the RunResult.
struct RunRecordInfo {
  int rank = 0;                     // MPI rank that trained the run
  std::string host;                 // stored in 64 bytes, longer names are cut
  // The products' library, version and ISA, and the CPU ("onednn 2.6.3 (oneDNN isa ...); AMD EPYC, ...");
  // the summary's `compute` column (format 3 on), stored in kComputeBytes, longer text cut.
  std::string compute;
  Eigen::MatrixXf reconstructions;  // input_size x n_recon decoder outputs for header.recon_indices
  int rung = -1;  // scheduled archives: the summary's rung column (the rung the run reached)
};

class SweepArchive {
 public:
  // COLLECTIVE over comm, an MpiCommunicator (its MPI-IO file access needs one) that outlives the
  // archive: every rank passes the same arguments. Throws ArchiveError on every
  // rank (same message) when the archive cannot be created or may not be resumed:
  //   - missing file: create it with every run pending;
  //   - existing archive, create_or_resume: reopen if format version, config hash, run count
  //     and shapes match; otherwise refuse without modifying the file;
  //   - existing archive, overwrite: recreate;
  //   - an existing file that is not HDF5 is refused in both modes and left untouched.
  // runs[i].index must be i. Shapes come from RunShape::for_run unless given explicitly.
  [[nodiscard]] static SweepArchive open_for_sweep(const std::string& path, Communicator& comm,
                                                   const ArchiveHeader& header,
                                                   const std::vector<RunSpec>& runs, OpenMode mode);
  [[nodiscard]] static SweepArchive open_for_sweep(const std::string& path, Communicator& comm,
                                                   const ArchiveHeader& header,
                                                   const std::vector<RunSpec>& runs,
                                                   const std::vector<RunShape>& shapes, OpenMode mode);

  // The size of the archive open_for_sweep would create for these runs, in bytes: the raw data
  // of every run plus the measured HDF5 overhead per run (object headers, attributes, summary).
  [[nodiscard]] static double estimate_bytes(const ArchiveHeader& header, const std::vector<RunSpec>& runs);

  SweepArchive(SweepArchive&&) noexcept;
  SweepArchive& operator=(SweepArchive&&) noexcept;
  SweepArchive(const SweepArchive&) = delete;
  SweepArchive& operator=(const SweepArchive&) = delete;
  // Never throws. If close() was not called it only closes the file when comm has one rank;
  // with more ranks it makes no collective call (the other ranks may be unwinding or
  // aborting) and leaves the file to HDF5's cleanup when MPI finalizes. Runs already written are
  // whole on disk either way. Call close() explicitly.
  ~SweepArchive();

  // Rank 0: why this sweep holds no writer lock on the archive (writer_lock.hpp: a read-only
  // directory, a full quota, no flock), for a warning; "" when it holds one, and on other ranks.
  [[nodiscard]] const std::string& unguarded() const;
  [[nodiscard]] const std::string& path() const;
  [[nodiscard]] std::size_t run_count() const;
  // True when an existing archive was reopened rather than created.
  [[nodiscard]] bool resumed() const;
  // State of every run as read at open, updated by this rank's own write_run calls (not by
  // other ranks' writes).
  [[nodiscard]] const std::vector<RunStatus>& run_states() const;
  [[nodiscard]] RunStatus state(std::size_t run_index) const;
  [[nodiscard]] bool is_done(std::size_t run_index) const;
  [[nodiscard]] RunShape shape(std::size_t run_index) const;

  // INDEPENDENT: call from the one rank that trained the run; no other rank takes part.
  // Writes only raw data into the run's pre-allocated datasets, then its /summary row, then
  // its /runs_state byte (last). Empty matrices (a failed run) are stored as NaN; non-empty
  // ones must match shape(run_index). Refuses a run that is already done.
  void write_run(std::size_t run_index, const RunResult& result, const RunRecordInfo& info);

  // ------------------------------------------------------------ scheduled archives only
  // INDEPENDENT, like write_run, for a run paused at rung `info.rung` of its schedule: writes the
  // run as it stands there (weights, codes, curves, metrics; its summary row, with state stopped,
  // which holds if the rung stops it) and its checkpoint (at most the capacity; zero padded),
  // then fdatasync, then its /runs_rung byte, then fdatasync. The run stays pending in
  // /runs_state. Refuses a done run, a result that is not `stopped`, a rung not above the run's.
  void write_rung(std::size_t run_index, const RunResult& result, const RunRecordInfo& info,
                  std::span<const std::byte> checkpoint);
  // INDEPENDENT: a paused run that its rung stops: only its /runs_state byte (stopped), then
  // fdatasync; its data is what write_rung (of any rank) wrote. Refuses a run already done (as
  // this rank knows) and an archive without a schedule.
  void mark_stopped(std::size_t run_index);
  // The rung each run reached as read at open (its /runs_rung byte - 1, -1 for none), updated by
  // this rank's own write_rung calls; all -1 without a schedule.
  [[nodiscard]] std::vector<int> run_rungs() const;
  // INDEPENDENT reads of what write_rung (any rank's, synced) stored: the checkpoint bytes
  // (capacity, zero padded) and a curve (epochs values, NaN where not reached).
  [[nodiscard]] std::vector<std::byte> read_checkpoint(std::size_t run_index) const;
  [[nodiscard]] std::vector<double> read_curve(std::size_t run_index, std::string_view curve) const;

  // COLLECTIVE. When every run of the study is done (in the file, whichever rank or job wrote it),
  // rank 0 first marks the Pareto front in /summary (kParetoFrontColumn and
  // kParetoFrontSectionColumn) and syncs it; a job killed before that leaves them 0, and the next
  // close (a resume with nothing left to train) marks them. Then closes the file; further calls
  // throw. Safe to call twice.
  void close();

 private:
  struct Impl;
  explicit SweepArchive(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aesweep
