// The archive's writer lock (writer_lock.hpp): one writer at a time, who holds it, a lock left by a
// killed program taken over, and someone else's file at ARCHIVE.lock left untouched.
#include "aesweep/archive/writer_lock.hpp"

#include <gtest/gtest.h>
#include <sys/file.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/wait.h>
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

TEST_F(WriterLockTest, NoLockPossibleIsNoErrorButSaysWhy) {
  const WriterLock lock = WriterLock::acquire((dir_ / "missing" / "study.h5").string(), "aesweep sweep");
  EXPECT_FALSE(lock.held());
  EXPECT_NE(lock.unguarded().find("no writer lock " + (dir_ / "missing" / "study.h5.lock").string() + " ("),
            std::string::npos)
      << lock.unguarded();
  EXPECT_EQ(WriterLock::acquire(archive_, "aesweep sweep").unguarded(), "");
}

// Another user's lock file (a group's shared directory), not writable to this user: locked
// through a read-only descriptor when no one holds it, refused while its owner holds it; one this
// user cannot even read is refused as unknown, never run unguarded. Needs root to be two users.
TEST_F(WriterLockTest, AnotherUsersLockFileIsLockedWhenFreeAndRefusedWhenHeldOrUnreadable) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root, to act as a second user";
  fs::permissions(dir_, fs::perms::all);
  const auto as_nobody = [&]() -> int {  // exit status of acquire in a child running as nobody
    const pid_t child = ::fork();
    if (child == 0) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
      try {
        const WriterLock lock = WriterLock::acquire(archive_, "aesweep sweep");
        ::_exit(lock.held() ? 0 : 11);
      } catch (const ArchiveBusy&) {
        ::_exit(20);
      } catch (const ArchiveError&) {
        ::_exit(21);
      } catch (...) {
        ::_exit(22);
      }
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  const auto read_only_to_others = fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                   fs::perms::others_read;
  {
    const WriterLock mine = WriterLock::acquire(archive_, "aesweep sweep");
    ASSERT_TRUE(mine.held());
    fs::permissions(lock_, read_only_to_others);
    EXPECT_EQ(as_nobody(), 20);  // held: refused
  }
  { std::ofstream(lock_) << "aesweep writer lock\naesweep sweep, pid 1 on gone, since 2026-01-01 00:00:00 UTC\n"; }
  fs::permissions(lock_, read_only_to_others);
  EXPECT_EQ(as_nobody(), 0);  // free: locked
  EXPECT_NE(text_of(lock_).find("pid 1 on gone"), std::string::npos);  // another user's record, not rewritten
  fs::permissions(lock_, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(as_nobody(), 21);  // unreadable: whether it is held cannot be told
  EXPECT_TRUE(fs::exists(lock_));
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
