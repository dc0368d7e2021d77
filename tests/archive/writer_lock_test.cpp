// The archive's writer lock (writer_lock.hpp): one writer at a time, who holds it, a lock left by a
// killed program taken over, and someone else's file at ARCHIVE.lock left untouched.
#include "aesweep/archive/writer_lock.hpp"

#include <gtest/gtest.h>
#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace aesweep {
namespace {

class WriterLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("aesweep-writer-lock-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    archive_ = (dir_ / "study.h5").string();
    lock_ = archive_ + ".lock";
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::string text_of(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  fs::path dir_;
  std::string archive_;
  std::string lock_;
};

TEST_F(WriterLockTest, TheHolderIsRecordedAndReleaseRemovesTheFile) {
  EXPECT_EQ(WriterLock::lock_path(archive_), lock_);
  WriterLock lock = WriterLock::acquire(archive_, "aesweep sweep");
  ASSERT_TRUE(lock.held());
  const std::string text = text_of(lock_);
  EXPECT_EQ(text.rfind("aesweep writer lock\naesweep sweep, pid " + std::to_string(::getpid()) + " on ", 0), 0u) << text;
  EXPECT_NE(text.find(" UTC\n"), std::string::npos) << text;
  lock.release();
  EXPECT_FALSE(lock.held());
  EXPECT_FALSE(fs::exists(lock_));
  lock.release();  // idempotent
}

TEST_F(WriterLockTest, ASecondWriterIsRefusedAndToldWhoHoldsIt) {
  WriterLock first = WriterLock::acquire(archive_, "aesweep sweep");
  try {
    (void)WriterLock::acquire(archive_, "aesweep-analyze");
    FAIL() << "the second writer was not refused";
  } catch (const ArchiveBusy& e) {
    EXPECT_EQ(e.holder().rfind("aesweep sweep, pid " + std::to_string(::getpid()), 0), 0u) << e.holder();
    const std::string message = e.what();
    EXPECT_NE(message.find("archive " + archive_ + " is being written by aesweep sweep, pid"), std::string::npos)
        << message;
    EXPECT_NE(message.find(lock_), std::string::npos) << message;
  }
  // The refusal changed nothing: the first still holds it, its record intact.
  EXPECT_NE(text_of(lock_).find("aesweep sweep, pid"), std::string::npos);
  first.release();
  WriterLock second = WriterLock::acquire(archive_, "aesweep-analyze");
  EXPECT_TRUE(second.held());
  EXPECT_NE(text_of(lock_).find("aesweep-analyze, pid"), std::string::npos);
}

TEST_F(WriterLockTest, AnyFlockOnTheLockFileRefusesEvenWithoutARecord) {
  { std::ofstream(lock_) << ""; }
  const int fd = ::open(lock_.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  try {
    (void)WriterLock::acquire(archive_, "aesweep sweep");
    FAIL() << "not refused";
  } catch (const ArchiveBusy& e) {
    EXPECT_EQ(e.holder(), "");
    EXPECT_NE(std::string(e.what()).find("is being written by another program"), std::string::npos) << e.what();
  }
  ::close(fd);
  EXPECT_TRUE(WriterLock::acquire(archive_, "aesweep sweep").held());
}

TEST_F(WriterLockTest, ALockFileLeftByAKilledWriterIsTakenOver) {
  { std::ofstream(lock_) << "aesweep writer lock\naesweep sweep, pid 1 on gone, since 2026-01-01 00:00:00 UTC\n"; }
  WriterLock lock = WriterLock::acquire(archive_, "aesweep sweep");
  EXPECT_TRUE(lock.held());
  EXPECT_NE(text_of(lock_).find("pid " + std::to_string(::getpid())), std::string::npos);
}

TEST_F(WriterLockTest, SomeoneElsesFileThereIsLeftUntouched) {
  { std::ofstream(lock_) << "my notes\n"; }
  try {
    (void)WriterLock::acquire(archive_, "aesweep sweep");
    FAIL() << "not refused";
  } catch (const ArchiveBusy&) {
    FAIL() << "reported as busy";
  } catch (const ArchiveError& e) {
    EXPECT_NE(std::string(e.what()).find("is not the lock aesweep keeps"), std::string::npos) << e.what();
  }
  EXPECT_EQ(text_of(lock_), "my notes\n");

  fs::remove(lock_);
  fs::create_directory(lock_);
  EXPECT_THROW((void)WriterLock::acquire(archive_, "aesweep sweep"), ArchiveError);
  EXPECT_TRUE(fs::is_directory(lock_));

  fs::remove(lock_);
  { std::ofstream(dir_ / "target") << "keep\n"; }
  fs::create_symlink(dir_ / "target", lock_);
  EXPECT_THROW((void)WriterLock::acquire(archive_, "aesweep sweep"), ArchiveError);
  EXPECT_EQ(text_of((dir_ / "target").string()), "keep\n");
  EXPECT_TRUE(fs::is_symlink(lock_));
}

TEST_F(WriterLockTest, ADirectoryThatIsNotThereGivesNoGuardAndNoError) {
  const WriterLock lock = WriterLock::acquire((dir_ / "missing" / "study.h5").string(), "aesweep sweep");
  EXPECT_FALSE(lock.held());
}

TEST_F(WriterLockTest, MovingTheLockMovesWhoReleasesIt) {
  WriterLock a = WriterLock::acquire(archive_, "aesweep sweep");
  WriterLock b = std::move(a);
  EXPECT_FALSE(a.held());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_TRUE(b.held());
  a.release();
  EXPECT_TRUE(fs::exists(lock_));
  EXPECT_THROW((void)WriterLock::acquire(archive_, "x"), ArchiveBusy);
  b = WriterLock();
  EXPECT_FALSE(fs::exists(lock_));
}

// The holder removed its file and another writer made and took a new one: releasing the old
// descriptor must not remove the new writer's file.
TEST_F(WriterLockTest, ReleaseLeavesANewerLockFileAlone) {
  WriterLock old = WriterLock::acquire(archive_, "aesweep sweep");
  fs::remove(lock_);  // a user following the "remove ... and rerun" advice too early
  WriterLock newer = WriterLock::acquire(archive_, "aesweep-analyze");
  ASSERT_TRUE(newer.held());
  old.release();
  EXPECT_TRUE(fs::exists(lock_));
  EXPECT_THROW((void)WriterLock::acquire(archive_, "x"), ArchiveBusy);
}

}  // namespace
}  // namespace aesweep
