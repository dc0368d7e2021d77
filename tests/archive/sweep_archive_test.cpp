// Single-process tests of the sweep archive (src/archive/sweep_archive.cpp and the reader):
// round trip, resume rules, bad paths, crash safety under SIGKILL, and h5py/h5dump readability.
#include "aesweep/archive/sweep_archive.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <hdf5.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "aesweep/archive/sweep_archive_reader.hpp"
#include "layout.hpp"
#include "aesweep/core/error.hpp"
#include "test_support.hpp"

extern char** environ;

namespace aesweep {
namespace {

using ::testing::HasSubstr;
using testing::StudySize;

class SweepArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("archive");
    size_ = testing::small_study();
    header_ = testing::make_header(size_);
    runs_ = testing::make_runs(size_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  SweepArchive open(const std::string& file, OpenMode mode = OpenMode::create_or_resume) const {
    return SweepArchive::open_for_sweep(file, testing::self_communicator(), header_, runs_, mode);
  }
  void write(SweepArchive& archive, std::size_t i) const {
    const RunShape shape = archive.shape(i);
    archive.write_run(i, testing::make_result(runs_[i], shape), testing::make_info(shape, i, 0));
  }

  std::string dir_;
  StudySize size_;
  ArchiveHeader header_;
  std::vector<RunSpec> runs_;
};

TEST_F(SweepArchiveTest, NewArchiveHasEveryRunPendingAndIsValidOnDiskBeforeClose) {
  const std::string file = path("new.h5");
  SweepArchive archive = open(file);
  EXPECT_FALSE(archive.resumed());
  EXPECT_EQ(archive.run_count(), runs_.size());
  EXPECT_EQ(archive.run_states(), std::vector<RunStatus>(runs_.size(), RunStatus::pending));
  EXPECT_EQ(archive.shape(4), RunShape::for_run(runs_[4], header_));
  // Flushed at creation: another process could read it now (the reader opens it separately).
  {
    const SweepArchiveReader reader = SweepArchiveReader::open(file);
    testing::expect_header_matches(reader, header_);
    EXPECT_EQ(reader.read_states(), archive.run_states());
    EXPECT_THROW((void)reader.read_result(0), ArchiveError) << "a pending run has no data";
  }
  archive.close();
  archive.close();  // twice is fine
  EXPECT_THROW(write(archive, 0), ArchiveError);
}

TEST_F(SweepArchiveTest, RoundTripsEveryRun) {
  const std::string file = path("round.h5");
  {
    SweepArchive archive = open(file);
    for (std::size_t i = 0; i < runs_.size(); ++i) write(archive, i);
    for (std::size_t i = 0; i < runs_.size(); ++i) EXPECT_EQ(archive.state(i), testing::expected_state(i));
    archive.close();
  }
  const SweepArchiveReader reader = SweepArchiveReader::open(file);
  testing::expect_header_matches(reader, header_);
  ASSERT_EQ(reader.run_count(), runs_.size());
  for (std::size_t i = 0; i < runs_.size(); ++i) testing::expect_run_matches(reader, runs_, header_, i, 0);

  // The raw layout, as an h5py user sees it: curves padded with NaN past the epochs run.
  const h5::Dataset curve = reader.file().open_dataset("runs/000001/train_loss");
  const auto values = curve.read<double>();
  ASSERT_EQ(values.size(), static_cast<std::size_t>(size_.epochs));
  EXPECT_FALSE(std::isnan(values[size_.epochs - 2]));
  EXPECT_TRUE(std::isnan(values[size_.epochs - 1])) << "run 1 stopped one epoch early";
  EXPECT_EQ(reader.file().open_dataset("runs/000002/encoder_kernel").dims(),
            (std::vector<hsize_t>{static_cast<hsize_t>(size_.input), 5}));
  EXPECT_EQ(reader.file().read_int_attribute("n_runs"), static_cast<std::int64_t>(runs_.size()));
  EXPECT_EQ(reader.file().open_group("runs/000002").read_double_attribute("reg.l1_activity"), 1e-4);
  EXPECT_EQ(reader.file().open_group("runs/000002").read_string_attribute("model.encoder_activation"), "relu");
}

TEST_F(SweepArchiveTest, WriteRunChecksShapesBeforeWritingAnything) {
  SweepArchive archive = open(path("shapes.h5"));
  const RunShape shape = archive.shape(0);
  RunResult result = testing::make_result(runs_[0], shape);
  result.w1.resize(shape.hidden + 1, shape.input_size);
  try {
    archive.write_run(0, result, testing::make_info(shape, 0, 0));
    ADD_FAILURE() << "must throw";
  } catch (const ArchiveError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("w1 is 4 x 6, expected 3 x 6"));
  }
  result = testing::make_result(runs_[0], shape);
  result.epochs.resize(static_cast<std::size_t>(shape.epochs) + 1);
  EXPECT_THROW(archive.write_run(0, result, testing::make_info(shape, 0, 0)), ArchiveError);
  EXPECT_EQ(archive.state(0), RunStatus::pending);
  EXPECT_THROW(write(archive, runs_.size()), ArchiveError);  // no such run
  write(archive, 0);
  EXPECT_THROW(write(archive, 0), ArchiveError) << "a done run is never rewritten";
  archive.close();
}

TEST_F(SweepArchiveTest, ResumeKeepsDoneRunsAndRedoesOnlyPendingOnes) {
  const std::string file = path("resume.h5");
  {
    SweepArchive archive = open(file);
    for (std::size_t i = 0; i < runs_.size(); i += 2) write(archive, i);
    archive.close();
  }
  {
    SweepArchive archive = open(file);
    EXPECT_TRUE(archive.resumed());
    for (std::size_t i = 0; i < runs_.size(); ++i) {
      EXPECT_EQ(archive.is_done(i), i % 2 == 0) << i;
      if (!archive.is_done(i)) write(archive, i);
    }
    archive.close();
  }
  const SweepArchiveReader reader = SweepArchiveReader::open(file);
  for (std::size_t i = 0; i < runs_.size(); ++i) testing::expect_run_matches(reader, runs_, header_, i, 0);
}

TEST_F(SweepArchiveTest, ResumingACompleteArchiveLeavesItByteIdentical) {
  const std::string file = path("complete.h5");
  {
    SweepArchive archive = open(file);
    for (std::size_t i = 0; i < runs_.size(); ++i) write(archive, i);
    archive.close();
  }
  const std::string before = testing::read_bytes(file);
  {
    SweepArchive archive = open(file);
    EXPECT_TRUE(archive.resumed());
    archive.close();
  }
  EXPECT_TRUE(testing::read_bytes(file) == before);
}

TEST_F(SweepArchiveTest, DifferentConfigHashIsRefusedAndTheFileIsUntouched) {
  const std::string file = path("study.h5");
  {
    SweepArchive archive = open(file);
    write(archive, 0);
    archive.close();
  }
  const std::string before = testing::read_bytes(file);
  const ArchiveHeader other = testing::make_header(size_, "hash-B");
  ::testing::internal::CaptureStderr();
  try {
    (void)SweepArchive::open_for_sweep(file, testing::self_communicator(), other, runs_, OpenMode::create_or_resume);
    ADD_FAILURE() << "must refuse";
  } catch (const ArchiveError& e) {
    EXPECT_EQ(std::string(e.what()), "archive " + file +
                                         " was written by a different config (hash hash-A, this config hash "
                                         "hash-B); use --overwrite to replace it or choose another --out");
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_TRUE(testing::read_bytes(file) == before);

  // A different number of runs or shapes is refused too, even with the same hash.
  std::vector<RunSpec> fewer(runs_.begin(), runs_.end() - 1);
  EXPECT_THROW((void)SweepArchive::open_for_sweep(file, testing::self_communicator(), header_, fewer, OpenMode::create_or_resume),
               ArchiveError);
  std::vector<RunSpec> wider = runs_;
  wider[3].options.model.hidden += 1;
  EXPECT_THROW((void)SweepArchive::open_for_sweep(file, testing::self_communicator(), header_, wider, OpenMode::create_or_resume),
               ArchiveError);
  EXPECT_TRUE(testing::read_bytes(file) == before);
}

// The archive is built as PATH.creating and renamed: one left by an interrupted creation (HDF5) is
// rebuilt, but a file of someone else's under that name is refused and left as it is.
TEST_F(SweepArchiveTest, ACreatingFileThatIsNotOursIsRefusedAndKept) {
  const std::string file = path("study.h5");
  testing::write_text(file + ".creating", "precious notes\n");
  try {
    (void)open(file);
    ADD_FAILURE() << "must refuse";
  } catch (const ArchiveError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr(file + ".creating"));
    EXPECT_THAT(std::string(e.what()), HasSubstr("left untouched"));
  }
  EXPECT_EQ(testing::read_bytes(file + ".creating"), "precious notes\n");
  EXPECT_FALSE(std::filesystem::exists(file));

  // A stray HDF5 PATH.creating (a creation killed half-way) is simply rebuilt.
  std::filesystem::remove(file + ".creating");
  {
    SweepArchive other = open(path("other.h5"));
    other.close();
  }
  std::filesystem::copy_file(path("other.h5"), file + ".creating");
  {
    SweepArchive archive = open(file);
    archive.close();
  }
  EXPECT_TRUE(std::filesystem::exists(file));
  EXPECT_FALSE(std::filesystem::exists(file + ".creating"));

  // Killed before HDF5 wrote its superblock: zeros where the signature goes, some raw data after
  // (every rerun, --overwrite too, used to be refused). Rebuilt as well.
  const std::string early = path("early.h5");
  testing::write_text(early + ".creating", std::string(4096, '\0') + "raw data of a dataset");
  {
    SweepArchive archive = open(early);
    archive.close();
  }
  EXPECT_TRUE(std::filesystem::exists(early));
  EXPECT_FALSE(std::filesystem::exists(early + ".creating"));
}

TEST_F(SweepArchiveTest, OverwriteRecreatesTheArchive) {
  const std::string file = path("over.h5");
  {
    SweepArchive archive = open(file);
    write(archive, 0);
    archive.close();
  }
  const ArchiveHeader other = testing::make_header(size_, "hash-B");
  {
    SweepArchive archive = SweepArchive::open_for_sweep(file, testing::self_communicator(), other, runs_, OpenMode::overwrite);
    EXPECT_FALSE(archive.resumed());
    EXPECT_EQ(archive.state(0), RunStatus::pending);
    archive.close();
  }
  EXPECT_EQ(SweepArchiveReader::open(file).header().config_hash, "hash-B");
}

TEST_F(SweepArchiveTest, UnwritablePathsAreReportedWithThePath) {
  for (const std::string& bad : {path("missing-dir/study.h5"), std::string("/proc/aesweep-no/study.h5")}) {
    try {
      (void)open(bad);
      ADD_FAILURE() << "must throw for " << bad;
    } catch (const ArchiveError& e) {
      EXPECT_THAT(std::string(e.what()), HasSubstr(bad));
    }
  }
  // A directory that exists but cannot be written (as root this only fails at create time).
  const std::string locked = path("locked");
  std::filesystem::create_directory(locked);
  ::chmod(locked.c_str(), 0500);
  try {
    SweepArchive archive = open(locked + "/study.h5");
    archive.close();
    EXPECT_EQ(::geteuid(), 0u) << "only root may write into a 0500 directory";
  } catch (const ArchiveError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr(locked + "/study.h5"));
  }
  // A regular file where a directory is expected.
  testing::write_text(path("plain"), "x");
  EXPECT_THROW((void)open(path("plain/study.h5")), ArchiveError);
}

TEST_F(SweepArchiveTest, NonHdf5FileIsRefusedInEveryModeAndLeftUntouched) {
  const std::string file = path("train-images.gz");
  const std::string content = "\x1f\x8b not an HDF5 file, just some bytes";
  testing::write_text(file, content);
  for (const OpenMode mode : {OpenMode::create_or_resume, OpenMode::overwrite}) {
    try {
      (void)open(file, mode);
      ADD_FAILURE() << "must refuse";
    } catch (const ArchiveError& e) {
      EXPECT_THAT(std::string(e.what()), HasSubstr(file + " exists and is not an HDF5 file"));
    }
    EXPECT_EQ(testing::read_bytes(file), content);
  }
  EXPECT_THROW((void)open(dir_), ArchiveError) << "a directory is not an archive";
  // An HDF5 file that is not an archive is refused on resume, untouched.
  const std::string other = path("other.h5");
  { (void)h5::File::create(other, h5::FileAccess::defaults()); }
  const std::string before = testing::read_bytes(other);
  try {
    (void)open(other);
    ADD_FAILURE() << "must refuse";
  } catch (const ArchiveError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("not an aesweep sweep archive"));
  }
  EXPECT_TRUE(testing::read_bytes(other) == before);
}

TEST_F(SweepArchiveTest, InvalidInputsAreRefusedBeforeTouchingTheDisk) {
  ArchiveHeader bad = header_;
  bad.test_labels.pop_back();
  EXPECT_THROW((void)SweepArchive::open_for_sweep(path("a.h5"), testing::self_communicator(), bad, runs_, OpenMode::overwrite),
               ArchiveError);
  std::vector<RunSpec> shuffled = runs_;
  std::swap(shuffled[0], shuffled[1]);
  EXPECT_THROW((void)SweepArchive::open_for_sweep(path("a.h5"), testing::self_communicator(), header_, shuffled, OpenMode::overwrite),
               ArchiveError);
  std::vector<RunSpec> clash = runs_;
  clash[0].settings.push_back({"test_mse", "1", 1.0});
  EXPECT_THROW((void)SweepArchive::open_for_sweep(path("a.h5"), testing::self_communicator(), header_, clash, OpenMode::overwrite),
               ArchiveError);
  EXPECT_FALSE(std::filesystem::exists(path("a.h5")));
}

TEST_F(SweepArchiveTest, DestructorWithoutCloseOnOneRankClosesTheFile) {
  const std::string file = path("dtor.h5");
  {
    SweepArchive archive = open(file);
    write(archive, 2);
  }
  const SweepArchiveReader reader = SweepArchiveReader::open(file, h5::Access::read_write);
  testing::expect_run_matches(reader, runs_, header_, 2, 0);
}

TEST_F(SweepArchiveTest, EmptyStudyIsAValidArchive) {
  const std::string file = path("empty.h5");
  runs_.clear();
  header_.sections.clear();  // no runs: no section can list any
  {
    SweepArchive archive = open(file);
    EXPECT_EQ(archive.run_count(), 0u);
    archive.close();
  }
  EXPECT_EQ(SweepArchiveReader::open(file).run_count(), 0u);
}

TEST_F(SweepArchiveTest, ReaderCanAddAnAnalysisGroup) {
  const std::string file = path("analysis.h5");
  {
    SweepArchive archive = open(file);
    write(archive, 0);
    archive.close();
  }
  {
    SweepArchiveReader reader = SweepArchiveReader::open(file, h5::Access::read_write);
    const h5::Group analysis = reader.file().create_group("analysis");
    analysis.write_attribute("note", std::string_view("added later"));
    reader.close();
  }
  const SweepArchiveReader reader = SweepArchiveReader::open(file);
  EXPECT_EQ(reader.file().open_group("analysis").read_string_attribute("note"), "added later");
  testing::expect_run_matches(reader, runs_, header_, 0, 0);
}

// New archives carry checksummed metadata (HDF5 1.8's format, superblock version 2): a byte flipped
// inside a run's dataset header, or inside a long config text (an attribute of the root group,
// kept in its checksummed header), is refused as damage. The unchecksummed format of the earlier
// archives let HDF5 decode such bytes, and crash on some (docs/fuzzing.md), or read a changed text
// silently. A file left by a killed writer still needs no h5clear (RunsMarkedDoneSurviveSigkillWhole).
TEST_F(SweepArchiveTest, ANewArchiveChecksumsItsMetadataAndADamagedHeaderIsRefused) {
  const std::string file = path("checksummed.h5");
  const std::string marker = "#end of a long comment";
  header_.config_text += "# " + std::string(30000, 'x') + "\n" + marker + "\n";
  {
    SweepArchive archive = open(file);
    for (std::size_t i = 0; i < 4; ++i) write(archive, i);
    archive.close();
  }
  const std::string intact = testing::read_bytes(file);
  ASSERT_GT(intact.size(), 9u);
  EXPECT_EQ(int(intact[8]), 2) << "superblock version";
  EXPECT_EQ(SweepArchiveReader::open(file).header().config_text, header_.config_text);
#if H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10
  const std::string latent = "/" + std::string(layout::kRunsGroup) + "/" + layout::run_name(3) + "/" +
                             layout::kLatentTest;
  H5O_info_t info{};
  {
    const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    ASSERT_GE(H5Oget_info_by_name2(f, latent.c_str(), &info, H5O_INFO_BASIC | H5O_INFO_HDR, H5P_DEFAULT), 0);
    H5Fclose(f);
  }
  ASSERT_EQ(intact.compare(info.addr, 4, "OHDR"), 0) << "a version 2 object header";
  ASSERT_EQ(info.hdr.nchunks, 1u);  // so the middle of its bytes is inside its one checksummed block
  ASSERT_LT(info.addr + info.hdr.space.total, intact.size());
  const std::size_t in_dataset_header = info.addr + info.hdr.space.total / 2;
#else
  const std::size_t in_dataset_header = std::string::npos;  // H5O_info_t lost its address in HDF5 1.12
#endif
  const std::size_t in_config_text = intact.find(marker);
  ASSERT_NE(in_config_text, std::string::npos);
  for (const std::size_t at : {in_dataset_header, in_config_text - 100}) {
    if (at == std::string::npos) continue;
    std::string bytes = intact;
    bytes[at] ^= 0x5a;
    std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
    try {
      const SweepArchiveReader reader = SweepArchiveReader::open(file);
      ADD_FAILURE() << "a damaged archive was read (byte " << at << "); its config text is "
                    << (reader.header().config_text == header_.config_text ? "intact" : "changed");
    } catch (const ArchiveError& e) {
      EXPECT_THAT(e.what(), HasSubstr("cannot be read: it is damaged"));
      EXPECT_THAT(std::string(e.what()) + e.detail(), HasSubstr("checksum"));
    }
  }
}

// ------------------------------------------------------------------------ external readers

bool have(const char* program) { return program && *program && std::filesystem::exists(program); }

TEST_F(SweepArchiveTest, SummaryLoadsInH5pyInOneLine) {
  if (!have(AESWEEP_PYTHON3) || testing::run_command(std::string(AESWEEP_PYTHON3) + " -c 'import h5py'") != 0)
    GTEST_SKIP() << "python3 with h5py is not available";
  const std::string file = path("py.h5");
  {
    SweepArchive archive = open(file);
    for (std::size_t i = 0; i < runs_.size(); ++i)
      if (i != 4) write(archive, i);  // run 4 stays pending
    archive.close();
  }
  const std::string script = path("check.py");
  testing::write_text(script, R"PY(
import sys
import h5py
import numpy as np

f = h5py.File(sys.argv[1], "r")
s = f["summary"][:]  # the one line: a numpy structured array (pandas.DataFrame(s) works too)
names = s.dtype.names
assert names[:3] == ("index", "section", "state"), names
for col in ["model.hidden", "reg.l1_activity", "training.seed", "model.encoder_activation",
            "optimizer.kind", "train_mse", "test_mse", "train_loss", "test_loss", "latent_density",
            "dead_units", "mean_activation", "w1_near_zero", "w2_near_zero", "epochs_run",
            "wall_seconds", "samples_per_second", "rank", "host", "error"]:
    assert col in names, col
assert s.dtype["reg.l1_activity"] == np.float64
assert s.dtype["model.encoder_activation"].kind == "S"
n = int(f.attrs["n_runs"])
assert len(s) == n == 9
assert (s["index"] == np.arange(n)).all()
state = f["runs_state"][:]
assert state.dtype == np.uint8
assert list(state) == list(s["state"]), (state, s["state"])
assert state[4] == 0 and state[0] == 1 and state[3] == 2 and state[5] == 3, state
assert abs(s["reg.l1_activity"][2] - 1e-4) < 1e-18
assert s["section"][0] == b"baseline" and s["section"][8] == b"sparse_l1"
assert s["model.encoder_activation"][1] == b"sigmoid"
assert s["error"][3] == b"loss became NaN in epoch 2"
assert np.isnan(s["test_mse"][4])  # pending
assert abs(s["test_mse"][2] - 0.04) < 1e-12
# Keras kernel layout: encoder_kernel is (input, hidden), row-major = Eigen's W1 memory.
k = f["runs/000002/encoder_kernel"][:]
assert k.shape == (6, 5) and k.dtype == np.float32, k.shape
flat = 2.0 + 0.125 + np.arange(30) / 1024.0
assert np.array_equal(k.ravel(), flat.astype(np.float32))
assert f["runs/000002/decoder_kernel"].shape == (5, 6)
assert f["runs/000002/latent_test"].shape == (12, 5)
assert f["runs/000002/reconstructions"].shape == (3, 6)
m = f["runs/000002/metrics"][()]
assert m["state"] == 1 and m["epochs_run"] == 4
assert f.attrs["config_hash"].decode() == "hash-A"
assert f.attrs["format_version"] == 3
assert names[-2:] == ("pareto_front", "pareto_front_section") and s.dtype["pareto_front"] == np.uint8
assert f["runs_state"].attrs["values"].decode() == "0 pending, 1 complete, 2 diverged, 3 failed"
assert f["runs/000002"].attrs["reg.l1_activity"] == 1e-4
assert f["runs/000002"].attrs["section"].decode() == "baseline"
# The sweep's structure: run 0 is listed by both sections.
assert f["sections"].attrs["names"].decode().split("\n") == ["baseline", "sparse_l1"]
assert f["sections/001"].attrs["name"].decode() == "sparse_l1"
assert f["sections/001"].attrs["swept_keys"].decode().split("\n") == ["reg.l1_activity", "model.encoder_activation"]
assert list(f["sections/001/runs"][:]) == [0, 4, 5, 6, 7, 8], f["sections/001/runs"][:]
assert list(f["sections/000/runs"][:]) == [0, 1, 2, 3]
assert f["runs/000000"].attrs["sections"].decode().split("\n") == ["baseline", "sparse_l1"]
assert f["runs/000005"].attrs["sections"].decode() == "sparse_l1"
assert list(f["dataset/test_labels"][:5]) == [0, 1, 2, 3, 4]
assert f["dataset/recon_originals"].shape == (3, 6)
print("h5py OK")
)PY");
  std::string output;
  const int status = testing::run_command(std::string(AESWEEP_PYTHON3) + " " + script + " " + file, &output);
  EXPECT_EQ(status, 0) << output;
  EXPECT_THAT(output, HasSubstr("h5py OK"));
}

// ------------------------------------------------------------------------ crash safety

// Starts the crash writer with an environment free of this process's MPI singleton settings,
// so it becomes a singleton of its own. Returns the wait status.
int run_crash_writer(const std::string& file, std::size_t first, long delay_us) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string var = *e;
    const bool mpi_internal = (var.rfind("OMPI_", 0) == 0 && var.rfind("OMPI_ALLOW_RUN_AS_ROOT", 0) != 0) ||
                              var.rfind("PMIX_", 0) == 0 || var.rfind("PMI_", 0) == 0 ||
                              var.rfind("OPAL_", 0) == 0 || var.rfind("ORTE_", 0) == 0;
    if (!mpi_internal) env.push_back(var);
  }
  std::vector<char*> envp;
  for (auto& v : env) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::string program = AESWEEP_CRASH_WRITER, first_text = std::to_string(first), delay_text = std::to_string(delay_us);
  std::string file_copy = file;
  char* argv[] = {program.data(), file_copy.data(), first_text.data(), delay_text.data(), nullptr};
  pid_t pid = 0;
  if (posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv, envp.data()) != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST_F(SweepArchiveTest, RunsMarkedDoneSurviveSigkillWhole) {
  const StudySize size = testing::large_study();
  const ArchiveHeader header = testing::make_header(size);
  const std::vector<RunSpec> runs = testing::make_runs(size);
  const long delays_us[] = {0, 700, 2500, 6000, 15000};
  std::size_t killed_mid_study = 0;
  for (const long delay : delays_us) {
    SCOPED_TRACE("kill after " + std::to_string(delay) + " us");
    const std::string file = path("crash-" + std::to_string(delay) + ".h5");
    const int status = run_crash_writer(file, 3, delay);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "writer status " << status;

    // The file opens as it is (no h5clear), and every run marked done is whole.
    std::vector<RunStatus> states;
    {
      const SweepArchiveReader reader = SweepArchiveReader::open(file);
      testing::expect_header_matches(reader, header);
      states = reader.read_states();
      std::size_t done = 0;
      for (std::size_t i = 0; i < states.size(); ++i) {
        if (states[i] == RunStatus::pending) continue;
        ++done;
        testing::expect_run_matches(reader, runs, header, i, 0);
      }
      EXPECT_GE(done, 3u);
      if (done < runs.size()) ++killed_mid_study;
      // Done runs form a prefix: the writer went in order.
      for (std::size_t i = 1; i < states.size(); ++i) {
        if (is_done(states[i])) {
          EXPECT_TRUE(is_done(states[i - 1])) << i;
        }
      }
      std::printf("  kill after %ld us: %zu of %zu runs were done\n", delay, done, runs.size());
    }
    if (have(AESWEEP_H5DUMP)) {
      std::string output;
      EXPECT_EQ(testing::run_command(std::string(AESWEEP_H5DUMP) + " -H " + file + " > /dev/null", &output), 0)
          << output;
    }

    // Resume: the killed job's done runs are kept; the rest are written now.
    {
      SweepArchive archive = SweepArchive::open_for_sweep(file, testing::self_communicator(), header, runs, OpenMode::create_or_resume);
      EXPECT_TRUE(archive.resumed());
      EXPECT_EQ(archive.run_states(), states);
      for (std::size_t i = 0; i < runs.size(); ++i) {
        if (archive.is_done(i)) continue;
        const RunShape shape = archive.shape(i);
        archive.write_run(i, testing::make_result(runs[i], shape), testing::make_info(shape, i, 0));
      }
      archive.close();
    }
    const SweepArchiveReader reader = SweepArchiveReader::open(file);
    for (std::size_t i = 0; i < runs.size(); ++i) testing::expect_run_matches(reader, runs, header, i, 0);
    std::filesystem::remove(file);
  }
  EXPECT_GT(killed_mid_study, 0u) << "no kill landed before the study finished; the test proved little";
}

// Durable against node loss: each run's data reaches the disk (fdatasync) before its state
// byte is written, and the state byte before write_run returns. Checked on the real system
// calls of a writer process, traced by strace.
TEST_F(SweepArchiveTest, RunDataIsSyncedBeforeItsStateByteAndTheStateByteAfter) {
  const int probe = std::system("strace -V > /dev/null 2>&1");
  if (!WIFEXITED(probe) || WEXITSTATUS(probe) != 0)
    GTEST_SKIP() << "strace is not installed (scripts/install_deps.sh installs it)";
  const std::string file = path("durable.h5");
  const std::string trace = path("trace.txt");
  std::string output;
  const int status = testing::run_command("strace -f -y -e trace=fdatasync,fsync,pwrite64,pwritev,pwritev2,write -o " +
                                              trace + " " + AESWEEP_CRASH_WRITER + " " + file + " 0 -1",
                                          &output);
  if (status != 0 && output.find("ptrace") != std::string::npos)
    GTEST_SKIP() << "this machine does not allow ptrace: " << output;
  ASSERT_EQ(status, 0) << output;

  // The file's events in order: F a sync, S a one-byte write (a state byte), W any other write.
  std::ifstream in(trace);
  std::string events, line;
  const std::string tag = "<" + std::filesystem::canonical(file).string() + ">";
  while (std::getline(in, line)) {
    if (line.find(tag) == std::string::npos) continue;
    if (line.find("fdatasync(") != std::string::npos || line.find("fsync(") != std::string::npos) events += 'F';
    else if (line.size() > 3 && line.compare(line.size() - 3, 3, "= 1") == 0) events += 'S';
    else if (line.find("write") != std::string::npos) events += 'W';
  }
  const auto size = testing::large_study();
  ASSERT_EQ(std::count(events.begin(), events.end(), 'S'), static_cast<long>(size.runs)) << events;
  std::size_t previous_state = 0;
  for (std::size_t k = events.find('S'); k != std::string::npos; k = events.find('S', k + 1)) {
    SCOPED_TRACE("state byte at event " + std::to_string(k) + " of " + events);
    ASSERT_GE(k, 2u);
    EXPECT_EQ(events[k - 1], 'F') << "the run's data must be synced before its state byte";
    ASSERT_LT(k + 1, events.size());
    EXPECT_EQ(events[k + 1], 'F') << "the state byte must be synced before write_run returns";
    EXPECT_NE(events.substr(previous_state, k - previous_state).find('W'), std::string::npos)
        << "the run's data writes come before its sync";
    previous_state = k;
  }
  const SweepArchiveReader reader = SweepArchiveReader::open(file);
  EXPECT_EQ(reader.read_states().size(), size.runs);
}

}  // namespace
}  // namespace aesweep
