#pragma once
// One writer per archive. Every program that writes an archive holds its writer lock until it has
// closed the file: a sweep (its rank 0, from before it inspects the path until every rank has
// closed the file) and aesweep-analyze storing its results in place. A second one is refused
// before it changes anything: two sweeps resuming one archive at once (a job script submitted
// twice, a requeued job whose first copy still runs) would both write it, and an analysis written
// into a running sweep's archive left the whole file unreadable once the sweep closed it.
//
// The writer lock is an flock on a small file beside the archive, ARCHIVE.lock, never on the
// archive itself (only a reader's ArchiveReadLock, below, is, for a moment): NFS emulates flock
// with byte-range locks on the whole file, and OpenMPI's MPI-IO locks the whole archive around
// every write there, so a lock held on the archive would make every write of the sweep wait
// forever. The lock file says who holds it; the holder removes it when it
// lets go, and one left by a killed program is harmless (the kernel has dropped its lock).
//
// flock is advisory and across nodes as coherent as the file system makes it (NFS through its
// lock manager, Lustre mounted with -o flock). Where the lock file cannot be made (a read-only
// directory, a full quota) or the file system has no flock, acquire holds nothing and says why:
// no guard there, and the sweep or analysis warns.
#include <chrono>
#include <string>
#include <string_view>
#include <utility>

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

// Whether another program holds an exclusive flock on the file at `path` (HDF5 takes one for a
// file it opens for writing: an HDF5 tool, h5py in write mode). False where the file cannot be
// opened or flock is not supported. Takes no lock beyond a shared probe, let go at once.
[[nodiscard]] bool flock_held_exclusively(const std::string& path);

// Waits up to `patience` until no other program holds an flock on the file at `path` (HDF5's
// lock of a program that has the file open: shared for a reader, exclusive for a writer), trying
// an exclusive one and letting go at once. False when one still does; true also where the file
// system has no flock or the file cannot be opened (the open that follows says why).
[[nodiscard]] bool wait_for_no_flock(const std::string& path, std::chrono::milliseconds patience);

// The refusal for an archive that another program has open with HDF5's lock (h5py, an HDF5
// tool, an aesweep-analyze), which keeps this one from opening it for writing.
[[nodiscard]] ArchiveBusy opened_elsewhere(const std::string& archive_path);

// What `aesweep status` sees of an archive's writer lock.
struct LockState {
  enum class Kind {
    absent,  // no lock file: no program holds the lock (where the file system has flock)
    free,    // a lock file no one holds: its writer ended or was killed (text: what it recorded)
    held,    // text: who holds it
    unknown  // text: why it cannot be told
  };
  Kind kind = Kind::absent;
  std::string text;
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
  // process's pid, host and the time. Waits up to about a second for a holder letting go. Throws
  // ArchiveBusy when another program holds it, and ArchiveError when ARCHIVE.lock is a file that
  // is not a lock file (left untouched). Where no lock can be had (a read-only directory, a full
  // quota, a file system without flock) it returns a lock that holds nothing; unguarded() says
  // why, for a warning.
  [[nodiscard]] static WriterLock acquire(const std::string& archive_path, std::string_view holder);

  // ARCHIVE.lock.
  [[nodiscard]] static std::string lock_path(const std::string& archive_path);

  // The lock of the archive at `archive_path` as seen from here, without taking it: a shared
  // probe, let go at once; writes nothing.
  [[nodiscard]] static LockState probe(const std::string& archive_path);

  // Whether a lock is held.
  [[nodiscard]] bool held() const noexcept { return fd_ >= 0; }
  // Why acquire got no lock ("" when it got one, and for a default-constructed lock).
  [[nodiscard]] const std::string& unguarded() const noexcept { return unguarded_; }

  // Removes the lock file, then lets go. Idempotent.
  void release() noexcept;
  // For a holder that leaves the archive open (a job being torn down): the lock stays held until
  // this process exits, and its file stays.
  void keep_until_exit() noexcept;

 private:
  int fd_ = -1;
  std::string path_;
  std::string unguarded_;
};

// A shared flock on the archive itself, for a reader that reads a sweep's archive in short visits
// with HDF5's own lock off (aesweep-analyze --out: one visit per run it reads). It keeps out, for
// the visit, a program that has the archive open for writing with HDF5's exclusive lock (an
// aesweep-analyze storing its results in it, an HDF5 tool in write mode), and such a program
// cannot start meanwhile. Hold it only for the visit: on NFS it is a byte-range lock on the whole
// file, which every write of a sweep's MPI-IO waits for (and whose own lock around a write makes
// acquire wait a moment). It also keeps a visit from an archive an aesweep-analyze stores its
// results in (its writer lock), since with HDF5_USE_FILE_LOCKING=FALSE that one holds no lock on
// the file. Where the file system refuses the flock (no flock at all, or NFS's ENOLCK when its lock
// service does not answer) it holds nothing, and unguarded() says why.
class ArchiveReadLock {
 public:
  ArchiveReadLock() = default;
  ArchiveReadLock(ArchiveReadLock&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)), unguarded_(std::move(other.unguarded_)) {}
  ArchiveReadLock& operator=(ArchiveReadLock&& other) noexcept;
  ArchiveReadLock(const ArchiveReadLock&) = delete;
  ArchiveReadLock& operator=(const ArchiveReadLock&) = delete;
  ~ArchiveReadLock() { release(); }

  // Waits up to `patience` for a program holding the archive exclusively to let go; then throws
  // ArchiveBusy naming it (what ARCHIVE.lock records, when its writer lock is held too). Throws
  // ArchiveError when the archive cannot be opened for reading.
  [[nodiscard]] static ArchiveReadLock acquire(const std::string& archive_path, std::chrono::milliseconds patience);

  // Whether a lock is held (false where the file system refused the flock).
  [[nodiscard]] bool held() const noexcept { return fd_ >= 0; }
  // Empty, or why the file system gave no lock ("flock: No locks available").
  [[nodiscard]] const std::string& unguarded() const noexcept { return unguarded_; }
  // Whether `path` (links followed) names the file this lock is on.
  [[nodiscard]] bool locks(const std::string& path) const;
  void release() noexcept;

 private:
  int fd_ = -1;
  std::string unguarded_;
};

}  // namespace aesweep
