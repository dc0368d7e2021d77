#pragma once
// One writer per archive. Every program that writes an archive holds its writer lock until it has
// closed the file: a sweep (its rank 0, from before it inspects the path until every rank has
// closed the file) and aesweep-analyze storing its results in place. A second one is refused
// before it changes anything: two sweeps resuming one archive at once (a job script submitted
// twice, a requeued job whose first copy still runs) would both write it, and an analysis written
// into a running sweep's archive left the whole file unreadable once the sweep closed it.
//
// The lock is an flock on a small file beside the archive, ARCHIVE.lock, never on the archive
// itself: NFS emulates flock with byte-range locks on the whole file, and OpenMPI's MPI-IO locks
// the whole archive around every write there, so a lock held on the archive would make every
// write of the sweep wait forever. The lock file says who holds it; the holder removes it when it
// lets go, and one left by a killed program is harmless (the kernel has dropped its lock).
//
// flock is advisory and across nodes as coherent as the file system makes it (NFS through its
// lock manager, Lustre mounted with -o flock). Where the lock file cannot be made (a read-only
// directory) or the file system has no flock, acquire holds nothing: no guard there.
#include <optional>
#include <string>
#include <string_view>

#include "aesweep/core/error.hpp"

namespace aesweep {

// Another program holds the archive's writer lock. holder(): what its lock file says ("aesweep
// sweep, pid 4711 on node07, since 2026-11-30 19:01:02 UTC"), or "" when it says nothing.
class ArchiveBusy : public ArchiveError {
 public:
  ArchiveBusy(const std::string& message, std::string holder) : ArchiveError(message), holder_(std::move(holder)) {}
  [[nodiscard]] const std::string& holder() const noexcept { return holder_; }

 private:
  std::string holder_;
};

class WriterLock {
 public:
  WriterLock() = default;
  WriterLock(WriterLock&& other) noexcept;
  WriterLock& operator=(WriterLock&& other) noexcept;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  ~WriterLock();

  // Takes the writer lock of the archive at `archive_path` (its links resolved: the lock lies
  // beside the file itself) for `holder` ("aesweep sweep"), which the lock file records with this
  // process's pid, host and the time. Throws ArchiveBusy when another program holds it, and
  // ArchiveError when ARCHIVE.lock is a file that is not a lock file (left untouched).
  [[nodiscard]] static WriterLock acquire(const std::string& archive_path, std::string_view holder);

  // ARCHIVE.lock.
  [[nodiscard]] static std::string lock_path(const std::string& archive_path);

  // Who holds the writer lock of the archive at `archive_path` now (what its lock file records,
  // or "another program"), or nothing when no one does, there is no lock file, or the file system
  // has no flock. Takes no lock beyond a shared probe, let go at once; writes nothing.
  [[nodiscard]] static std::optional<std::string> holder(const std::string& archive_path);

  // Whether a lock is held (false where the file system or directory gives no guard).
  [[nodiscard]] bool held() const noexcept { return fd_ >= 0; }

  // Removes the lock file, then lets go. Idempotent.
  void release() noexcept;

 private:
  WriterLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace aesweep
