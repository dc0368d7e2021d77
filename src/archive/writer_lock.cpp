#include "aesweep/archive/writer_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <utility>

#include "aesweep/archive/sweep_archive.hpp"  // resolve_links

namespace aesweep {
namespace {

// The first line of every lock file: a file at ARCHIVE.lock without it is someone else's.
constexpr std::string_view kFirstLine = "aesweep writer lock\n";

std::string read_text(int fd) {
  char buffer[1024];
  const ssize_t n = ::pread(fd, buffer, sizeof buffer, 0);
  return n > 0 ? std::string(buffer, std::size_t(n)) : std::string();
}

// The line after the first: who holds the lock.
std::string holder_of(const std::string& text) {
  if (text.rfind(kFirstLine, 0) != 0) return {};
  std::string rest = text.substr(kFirstLine.size());
  if (const auto end = rest.find('\n'); end != std::string::npos) rest.resize(end);
  return rest;
}

std::string holder_record(std::string_view holder) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "an unknown host");
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char since[32];
  std::strftime(since, sizeof since, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return std::string(kFirstLine) + std::string(holder) + ", pid " + std::to_string(::getpid()) + " on " + host +
         ", since " + since + "\n";
}

// Whether `path` names the file open at `fd` now (a link at `path` counts only when
// `follow_links`). Opening the name (not lstat) makes an NFS client look the name up again
// instead of answering from its cache.
bool same_file(int fd, const std::string& path, bool follow_links = false) {
  struct stat held {}, named {};
  const int other = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | (follow_links ? 0 : O_NOFOLLOW));
  if (other < 0) return false;
  const bool same = ::fstat(fd, &held) == 0 && ::fstat(other, &named) == 0 && held.st_dev == named.st_dev &&
                    held.st_ino == named.st_ino;
  ::close(other);
  return same;
}

std::string not_a_lock_file(const std::string& path, const std::string& archive_path) {
  return path + " (the lock that keeps two programs from writing archive " + archive_path +
         " at once) is not a regular file; it was left untouched: remove or rename it";
}

// Who holds a lock, as messages show it: what its file records, else "another program".
std::string shown_holder(const std::string& recorded) { return recorded.empty() ? "another program" : recorded; }

std::string busy_text(const std::string& archive_path, const std::string& path, const std::string& who) {
  return "archive " + archive_path + " is being written by " + shown_holder(who) + " (it holds " + path + ")";
}

// A shared flock tried on the file at `path` and let go at once: 0 when it was taken, EWOULDBLOCK
// when another program holds an exclusive one, another errno where the file system has no flock,
// -1 when the file cannot be opened.
int try_shared_flock(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return -1;
  const int result = ::flock(fd, LOCK_SH | LOCK_NB) == 0 ? 0 : errno;
  ::close(fd);  // lets go of the probe's lock, if it got one
  return result;
}

// flock(fd, operation) tried every 20 ms for up to `patience`, while another program holds a
// conflicting lock (a holder letting go, `aesweep status` probing, on NFS a sweep's MPI-IO write
// keep one for a moment). 0, or the errno of the last try.
int flock_within(int fd, int operation, std::chrono::milliseconds patience) {
  const auto until = std::chrono::steady_clock::now() + patience;
  for (;;) {
    if (::flock(fd, operation | LOCK_NB) == 0) return 0;
    const int err = errno;
    if (err == EINTR) continue;
    if (err != EWOULDBLOCK || std::chrono::steady_clock::now() >= until) return err;
    ::usleep(20000);
  }
}

}  // namespace

bool flock_held_exclusively(const std::string& path) { return try_shared_flock(path) == EWOULDBLOCK; }

ArchiveBusy opened_elsewhere(const std::string& archive_path) {
  return ArchiveBusy("archive " + archive_path +
                         " is open in another program that locks it (h5py, an HDF5 tool, an aesweep-analyze)",
                     "");
}

bool wait_for_no_flock(const std::string& path, std::chrono::milliseconds patience) {
  // Read-write where it can be: NFS grants an exclusive flock only on a descriptor open for writing.
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return true;
  const bool free = flock_within(fd, LOCK_EX, patience) != EWOULDBLOCK;
  ::close(fd);  // lets go of the probe's lock, if it got one
  return free;
}

std::string WriterLock::lock_path(const std::string& archive_path) { return archive_path + ".lock"; }

WriterLock WriterLock::acquire(const std::string& archive_path, std::string_view holder) {
  const std::string path = lock_path(archive_path);
  const auto unguarded = [&](const std::string& why) {
    WriterLock none;
    none.unguarded_ = "no writer lock " + path + " (" + why + ")";
    return none;
  };
  // A holder removes the file before it lets go, so one that waited for it may hold a file no
  // longer there: it tries again with the file the path names now.
  bool looked_again = false;
  for (int attempt = 0; attempt < 16; ++attempt) {
    // 0666 less the umask: a group that shares the archive shares its lock file too.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0666);
    bool read_only = false;
    if (fd < 0 && errno == EACCES) {  // another user's file, or a directory not writable to us
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
      read_only = fd >= 0;
      if (fd < 0 && errno == ENOENT) {
        if (!looked_again) {  // it may have been removed between the two opens
          looked_again = true;
          continue;
        }
        return unguarded("its directory is not writable");
      }
      if (fd < 0 && errno == EACCES)
        throw ArchiveError("cannot tell whether a program writes archive " + archive_path + ": its lock " + path +
                           " belongs to another user and cannot be read; if no program writes the archive, remove " +
                           path + " and rerun; nothing was changed");
    }
    if (fd < 0) {
      const int err = errno;
      if (err == ELOOP || err == EISDIR) throw ArchiveError(not_a_lock_file(path, archive_path));
      if (err == ESTALE) continue;  // removed by another node
      return unguarded(std::strerror(err));  // no directory, a read-only file system, a full quota, ...
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw ArchiveError(not_a_lock_file(path, archive_path));
    }
    if (const int err = flock_within(fd, LOCK_EX, std::chrono::seconds(1)); err != 0) {
      const std::string who = holder_of(read_text(fd));
      if (read_only && err == EBADF) {
        // Another user's file on NFS, which locks a read-only descriptor only shared: that still
        // tells a held lock from a free one, but cannot hold it.
        const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
        ::close(fd);
        if (held) throw ArchiveBusy(busy_text(archive_path, path, who), who);
        return unguarded("another user's file, which this file system lets this user lock only shared; remove it "
                         "if no program writes the archive");
      }
      if (!read_only && err != EWOULDBLOCK && err != ESTALE && ::fstat(fd, &st) == 0 && st.st_size == 0 &&
          same_file(fd, path))
        (void)::unlink(path.c_str());  // no flock here: the empty file made for it would only mislead
      ::close(fd);
      if (err == ESTALE) continue;
      if (err != EWOULDBLOCK) return unguarded(std::string("flock: ") + std::strerror(err));
      throw ArchiveBusy(busy_text(archive_path, path, who), who);
    }
    if (!same_file(fd, path)) {
      ::close(fd);
      continue;
    }
    const std::string text = read_text(fd);
    if (!text.empty() && text.rfind(kFirstLine, 0) != 0) {
      ::close(fd);
      throw ArchiveError(path + " exists and is not the lock aesweep keeps beside archive " + archive_path +
                         "; it was left untouched: remove or rename it");
    }
    const std::string record = holder_record(holder);
    // Best effort: the lock is the flock; the text only tells whoever is refused who holds it
    // (another user's file, open read-only, keeps its old text).
    if (!read_only && ::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, record.data(), record.size(), 0);
    WriterLock lock;
    lock.fd_ = fd;
    lock.path_ = path;
    return lock;
  }
  throw ArchiveBusy("archive " + archive_path + " is being written by other programs that keep taking its lock " + path,
                    "");
}

LockState WriterLock::probe(const std::string& archive_path) {
  const std::string path = lock_path(archive_path);
  LockState state;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno != ENOENT) {
      state.kind = LockState::Kind::unknown;
      state.text = "cannot read " + path + ": " + std::strerror(errno);
      return state;
    }
    // No lock file. Where the file system has no flock a writer holds none either: say so. The
    // probe is a shared flock on the archive, let go at once (on NFS a byte-range lock for that
    // moment, which a sweep's MPI-IO write would wait out).
    if (const int err = try_shared_flock(archive_path); err > 0 && err != EWOULDBLOCK) {
      state.kind = LockState::Kind::unknown;
      state.text = "this file system has no flock (" + std::string(std::strerror(err)) + "): writers hold no lock";
    }
    return state;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    state.kind = LockState::Kind::unknown;
    state.text = path + " is not a regular file";
    return state;
  }
  const std::string recorded = holder_of(read_text(fd));
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
    state.kind = LockState::Kind::free;
    state.text = recorded;
  } else if (errno == EWOULDBLOCK) {
    state.kind = LockState::Kind::held;
    state.text = shown_holder(recorded);
  } else {
    state.kind = LockState::Kind::unknown;
    state.text = "flock on " + path + ": " + std::strerror(errno);
  }
  ::close(fd);  // lets go of the probe's lock, if it got one
  return state;
}

WriterLock::WriterLock(WriterLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)), unguarded_(std::move(other.unguarded_)) {}

WriterLock& WriterLock::operator=(WriterLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    unguarded_ = std::move(other.unguarded_);
  }
  return *this;
}

void WriterLock::keep_until_exit() noexcept {
  fd_ = -1;  // the descriptor stays open on purpose: the kernel lets go of the lock at exit
}

WriterLock::~WriterLock() { release(); }

void WriterLock::release() noexcept {
  if (fd_ < 0) return;
  // Only while the path still names this lock: someone may have removed it and another program
  // made and took a new one since.
  if (same_file(fd_, path_)) (void)::unlink(path_.c_str());
  ::close(fd_);  // closing the descriptor lets go of its flock
  fd_ = -1;
}

// ---------------------------------------------------------------------------------- read lock

ArchiveReadLock& ArchiveReadLock::operator=(ArchiveReadLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
    unguarded_ = std::move(other.unguarded_);
  }
  return *this;
}

bool ArchiveReadLock::locks(const std::string& path) const {
  return fd_ >= 0 && same_file(fd_, path, /*follow_links=*/true);
}

void ArchiveReadLock::release() noexcept {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor lets go of its flock
  fd_ = -1;
}

namespace {
// Whether an aesweep-analyze storing its results in the archive holds its writer lock.
bool held_by_analysis(const LockState& writer) {
  return writer.kind == LockState::Kind::held && writer.text.rfind("aesweep-analyze,", 0) == 0;
}
}  // namespace

ArchiveReadLock ArchiveReadLock::acquire(const std::string& archive_path, std::chrono::milliseconds patience) {
  const int fd = ::open(archive_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    throw ArchiveError("archive " + archive_path + " cannot be opened for reading: " + std::strerror(errno));
  const auto until = std::chrono::steady_clock::now() + patience;
  const auto left = [&] {
    return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      until - std::chrono::steady_clock::now()));
  };
  const std::string real_path = resolve_links(archive_path);  // the writer lock lies beside the file itself
  LockState writer;
  for (;;) {
    const int err = flock_within(fd, LOCK_SH, left());
    if (err != 0 && err != EWOULDBLOCK) {  // the file system refused the flock: nothing to hold
      ::close(fd);
      ArchiveReadLock none;
      none.unguarded_ = std::string("flock: ") + std::strerror(err);
      return none;
    }
    // An analysis storing its results in the archive holds its writer lock from before it opens
    // the file until after it has closed it, and holds HDF5's exclusive lock between, unless
    // HDF5_USE_FILE_LOCKING=FALSE turned that off: its writer lock keeps a visit out either way.
    // A sweep also holds the writer lock, but a reader is welcome while it writes.
    writer = WriterLock::probe(real_path);
    if (err == 0 && !held_by_analysis(writer)) {
      ArchiveReadLock lock;
      lock.fd_ = fd;
      return lock;
    }
    if (err == 0) (void)::flock(fd, LOCK_UN);
    if (left().count() == 0) break;
    ::usleep(20000);
  }
  ::close(fd);
  std::string who = "another program (an aesweep-analyze storing its results in it, or an HDF5 tool with it open for "
                    "writing)";
  std::string holder;
  if (held_by_analysis(writer)) {
    who = holder = writer.text;
  } else if (writer.kind == LockState::Kind::held) {  // a sweep: on NFS its MPI-IO writes lock the whole file
    who += ", or, on NFS, the writes of " + writer.text;
  }
  char waited[32];
  std::snprintf(waited, sizeof waited, "%.3g", std::chrono::duration<double>(patience).count());
  throw ArchiveBusy("archive " + archive_path + " is locked for writing by " + who + "; waited " + waited +
                        " s for it to let go",
                    holder);
}

}  // namespace aesweep
