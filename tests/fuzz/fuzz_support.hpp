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

// The harnesses expand a study's grid only when it is small. Grid size is a separate, known
// problem (issue 9, item 1.8: grids are materialised whole, 4.5 KB per run); a fuzzer that
// writes `linspace(0, 1, 100000)` three times would otherwise spend its time (and its
// -malloc_limit_mb) on that one finding instead of the parser.
constexpr std::size_t kMaxFuzzedRuns = 4096;

// Runs the grid of `config` would have, counted from the value lists (saturating at
// kMaxFuzzedRuns + 1). Throws ConfigError where expand_values does.
inline std::size_t bounded_run_count(const StudyConfig& config) {
  std::size_t override_factor = 1;
  for (const auto& o : config.overrides) {
    const auto eq = o.find('=');
    if (eq == std::string::npos) continue;
    override_factor *= expand_values(o.substr(eq + 1)).size();
    if (override_factor > kMaxFuzzedRuns) return kMaxFuzzedRuns + 1;
  }
  std::size_t total = config.sweeps.empty() ? 1 : 0;
  for (const auto& section : config.sweeps) {
    std::size_t runs = 1;
    for (const auto& axis : section.axes) {
      runs *= expand_values(axis.text).size();
      if (runs > kMaxFuzzedRuns) return kMaxFuzzedRuns + 1;
    }
    total += runs;
    if (total > kMaxFuzzedRuns) return kMaxFuzzedRuns + 1;
  }
  total *= override_factor;
  return total > kMaxFuzzedRuns ? kMaxFuzzedRuns + 1 : total;
}

}  // namespace aesweep::fuzz
