// LD_PRELOAD'ed by analyze_e2e_test: flock() as Linux NFS clients implement it, a byte-range lock
// on the whole file, so that flock and fcntl locks interact (flock(2), "NFS details"). Here it is
// an open-file-description lock, which conflicts with fcntl locks of the same process as the NFS
// server's locks do. Together with OMPI_MCA_fs_ufs_lock_algorithm=2 (what OpenMPI's MPI-IO does
// on NFS: a write lock on the whole file around every write), a sweep meets here what it meets on
// an NFS home directory.
#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>

extern "C" int flock(int fd, int operation) {
  struct flock lock {};
  const int kind = operation & ~LOCK_NB;
  lock.l_whence = SEEK_SET;
  lock.l_type = kind == LOCK_SH ? F_RDLCK : kind == LOCK_EX ? F_WRLCK : F_UNLCK;
  const bool wait = (operation & LOCK_NB) == 0 && kind != LOCK_UN;
  const int result = ::fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &lock);
  if (result != 0 && errno == EACCES) errno = EWOULDBLOCK;
  return result;
}
