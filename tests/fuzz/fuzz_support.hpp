#pragma once
// Shared by the fuzz harnesses (tests/fuzz/*_fuzz.cpp). Each harness defines
// LLVMFuzzerTestOneInput; it is linked either with libFuzzer (-DAESWEEP_FUZZ=ON, clang) or with
// replay_main.cpp, which runs it over the stored corpus as an ordinary test (label "fuzz").
//
// Contract of every harness: a malformed input ends in the one exception type the production
// code promises for it (caught here and ignored); anything else (another exception type, a
// crash, a sanitizer report, an allocation far beyond the input's size) is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include "aesweep/config/grid.hpp"
#include "aesweep/config/study_config.hpp"

namespace aesweep::fuzz {

// A per-process scratch file that holds the current input (the readers under test take paths).
// /dev/shm when there is one: no disk traffic at thousands of inputs per second.
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& name) {
    const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
    path_ = std::string(dir) + "/aesweep-fuzz-" + std::to_string(getpid()) + "-" + name;
  }
  ~ScratchFile() { std::remove(path_.c_str()); }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  const std::string& write(const std::uint8_t* data, std::size_t size) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
    out.close();
    if (!out) {
      std::fprintf(stderr, "fuzz harness: cannot write %s\n", path_.c_str());
      std::abort();
    }
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// With AESWEEP_FUZZ_VERBOSE set, the harnesses print each refusal's message (to see what a
// corpus input exercises); silent otherwise (the fuzzer runs thousands of inputs a second).
inline bool verbose() {
  static const bool on = std::getenv("AESWEEP_FUZZ_VERBOSE") != nullptr;
  return on;
}
inline void note(const std::exception& e) {
  if (verbose()) std::fprintf(stderr, "  refused: %s\n", e.what());
}

// The harnesses plan a study with this run limit instead of the production one (kMaxStudyRuns,
// 10^6): a study over it is refused by StudyPlan with ConfigError, as a bigger one would be in
// production, and an input costs milliseconds instead of seconds.
constexpr std::size_t kMaxFuzzedRuns = 4096;

// Walks every run of a plan the way plan and sweep do (run specs, sections, the hash) and checks
// that the plan and the materialised grid (expand_study) agree.
inline void walk_plan(const StudyConfig& config, const StudyPlan& plan) {
  if (plan.size() == 0) {
    std::fprintf(stderr, "StudyPlan has no runs and no error\n");
    std::abort();
  }
  for (std::size_t s = 0; s < plan.section_count(); ++s) {
    (void)plan.swept_keys(s);
    for (std::size_t run : plan.section_runs(s))
      if (run >= plan.size()) {
        std::fprintf(stderr, "section %zu lists run %zu of %zu\n", s, run, plan.size());
        std::abort();
      }
  }
  const auto runs = expand_study(config);
  if (runs.size() != plan.size()) {
    std::fprintf(stderr, "expand_study gives %zu runs, StudyPlan %zu\n", runs.size(), plan.size());
    std::abort();
  }
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const RunSpec run = plan.run(i);
    (void)plan.sections_of(i);
    if (run.index != i || run.section != plan.section_of(i) || run.section != runs[i].section) {
      std::fprintf(stderr, "run %zu: plan and expand_study disagree\n", i);
      std::abort();
    }
  }
  if (study_hash(config, plan) != study_hash(config, runs)) {
    std::fprintf(stderr, "study_hash of the plan and of the expanded runs differ\n");
    std::abort();
  }
}

}  // namespace aesweep::fuzz
