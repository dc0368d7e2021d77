// LD_PRELOAD'ed by analyze_e2e_test: a file system without flock (Lustre mounted with -o noflock
// answers ENOSYS), where a sweep and an analysis can hold no writer lock and must say so.
#include <sys/file.h>

#include <cerrno>

extern "C" int flock(int, int) {
  errno = ENOSYS;
  return -1;
}
