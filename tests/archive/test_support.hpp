#pragma once
// Hand-built runs, results and helpers shared by the archive tests (no trainer involved).
// Every value a result holds is a function of the run index, so a reader can check the bytes.
#include <cstddef>
#include <string>
#include <vector>

#include "aesweep/archive/sweep_archive.hpp"
#include "aesweep/archive/sweep_archive_reader.hpp"
#include "aesweep/dist/communicator.hpp"

namespace aesweep::testing {

// The communicators archives are opened on in these tests (test_main.cpp initialises MPI):
// this process alone (MPI_COMM_SELF) and every rank of the job (MPI_COMM_WORLD).
Communicator& self_communicator();
Communicator& world_communicator();

struct StudySize {
  std::size_t runs = 9;
  int n_test = 12;
  int input = 6;
  int n_recon = 3;
  int epochs = 4;
  int hidden_base = 3;  // run i has hidden_base + i % 3 units
};

inline StudySize small_study() { return {}; }
// Big enough that one write_run takes a noticeable time (crash test).
inline StudySize large_study() { return {40, 300, 784, 10, 20, 48}; }

ArchiveHeader make_header(const StudySize& size, const std::string& config_hash = "hash-A");
std::vector<RunSpec> make_runs(const StudySize& size);
// Outcome kind by index: i % 7 == 5 failed (no weights), i % 5 == 3 diverged, else complete.
RunStatus expected_state(std::size_t index);
RunResult make_result(const RunSpec& spec, const RunShape& shape);
RunRecordInfo make_info(const RunShape& shape, std::size_t index, int rank);

// Checks everything the reader returns for run `index` against what make_* produced.
void expect_run_matches(const SweepArchiveReader& reader, const std::vector<RunSpec>& runs,
                        const ArchiveHeader& header, std::size_t index, int writer_rank);
void expect_header_matches(const SweepArchiveReader& reader, const ArchiveHeader& header);

// A fresh directory under $TMPDIR (or /tmp).
std::string make_temp_dir(const std::string& tag);
std::string read_bytes(const std::string& path);
void write_text(const std::string& path, const std::string& text);
// Runs a shell command, returns its exit status; stdout+stderr go to *output if given.
int run_command(const std::string& command, std::string* output = nullptr);

}  // namespace aesweep::testing
