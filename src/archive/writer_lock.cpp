#include "aesweep/archive/writer_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <utility>

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

bool same_file(int fd, const std::string& path) {
  struct stat held {}, named {};
  return ::fstat(fd, &held) == 0 && ::lstat(path.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
         held.st_ino == named.st_ino;
}

}  // namespace

std::string WriterLock::lock_path(const std::string& archive_path) { return archive_path + ".lock"; }

WriterLock WriterLock::acquire(const std::string& archive_path, std::string_view holder) {
  const std::string path = lock_path(archive_path);
  // A holder removes the file before it lets go, so one that waited for it may hold a file no
  // longer there: it tries again with the file the path names now.
  for (int attempt = 0; attempt < 16; ++attempt) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    // Another user's lock file (a shared project directory): a read-only descriptor still locks;
    // only the record of who holds it is not written.
    if (fd < 0 && errno == EACCES) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      if (errno == ELOOP || errno == EISDIR)
        throw ArchiveError(path + " (the lock that keeps two programs from writing archive " + archive_path +
                           " at once) is not a regular file; it was left untouched: remove or rename it");
      return {};  // no lock file here (a read-only directory; a missing one is reported by the caller)
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw ArchiveError(path + " (the lock that keeps two programs from writing archive " + archive_path +
                         " at once) is not a regular file; it was left untouched: remove or rename it");
    }
    // A moment's wait: a holder letting go, or `aesweep status` probing, keeps it for microseconds.
    int locked = -1, err = 0;
    for (int tries = 0; tries < 5 && locked != 0; ++tries) {
      if (tries > 0) ::usleep(20000);
      locked = ::flock(fd, LOCK_EX | LOCK_NB);
      err = errno;
      if (locked != 0 && err != EWOULDBLOCK) break;
    }
    if (locked != 0) {
      const std::string text = read_text(fd);
      ::close(fd);
      if (err != EWOULDBLOCK) return {};  // a file system without flock (ENOLCK, EINVAL, ENOSYS): no guard
      const std::string who = holder_of(text);
      throw ArchiveBusy("archive " + archive_path + " is being written by " + (who.empty() ? "another program" : who) +
                            " (it holds " + path + ")",
                        who);
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
    // Best effort: the lock is the flock; the text only tells whoever is refused who holds it.
    if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, record.data(), record.size(), 0);
    return WriterLock(fd, path);
  }
  throw ArchiveBusy("archive " + archive_path + " is being written by other programs that keep taking its lock " + path,
                    "");
}

std::optional<std::string> WriterLock::holder(const std::string& archive_path) {
  const int fd = ::open(lock_path(archive_path).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return std::nullopt;
  std::optional<std::string> who;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    const std::string recorded = holder_of(read_text(fd));
    who = recorded.empty() ? "another program" : recorded;
  }
  ::close(fd);  // lets go of the probe's lock, if it got one
  return who;
}

WriterLock::WriterLock(WriterLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

WriterLock& WriterLock::operator=(WriterLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
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

}  // namespace aesweep
