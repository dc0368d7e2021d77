// A build made for one CPU, started on a CPU that lacks some of the instruction-set extensions it
// was compiled for (qemu-user emulating the x86-64 baseline, as a cluster's older nodes would be):
// each program stops at once with exit status 2 and a message naming exactly what is missing,
// instead of dying of an illegal instruction (SIGILL, status 132, before src/core/cpu_check.cpp).
// A build for the baseline (-DAESWEEP_NATIVE=OFF) runs there.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

extern "C" const char* const aesweep_built_for[];  // this build's extensions (src/core/built_for.cpp)

namespace {

struct Outcome {
  int status = -1;
  std::string output;
};

Outcome run(const std::string& command) {
  Outcome o;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return o;
  char buffer[4096];
  while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) o.output.append(buffer, n);
  const int status = ::pclose(pipe);
  o.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return o;
}

TEST(CpuCheck, OnACpuWithoutWhatTheBuildUsesEachProgramNamesWhatIsMissing) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "SKIPPED: the start-up CPU check is for x86-64 builds";
#endif
  ASSERT_EQ(run("command -v qemu-x86_64").status, 0) << "qemu-x86_64 is missing: scripts/install_deps.sh installs qemu-user";
  // QEMU's qemu64 model has, of the extensions built_for.cpp lists, only SSE3.
  std::string missing;
  for (const char* const* f = aesweep_built_for; *f != nullptr; ++f)
    if (std::string(*f) != "sse3") missing += (missing.empty() ? "" : ", ") + std::string(*f);
  if (missing.empty()) {
    const Outcome o = run(std::string("qemu-x86_64 -cpu qemu64 ") + AESWEEP_BINARY + " --help");
    EXPECT_EQ(o.status, 0) << o.output;
    EXPECT_NE(o.output.find("Usage: aesweep"), std::string::npos) << o.output;
    return;
  }
  const std::vector<std::pair<std::string, std::string>> programs = {{AESWEEP_BINARY, "aesweep"},
                                                                     {AESWEEP_ANALYZE, "aesweep-analyze"}};
  for (const auto& [path, name] : programs) {
    const Outcome o = run("qemu-x86_64 -cpu qemu64 " + path + " --help");
    EXPECT_EQ(o.status, 2) << o.output;
    EXPECT_NE(o.output.find(name + ": this build cannot run on this CPU ("), std::string::npos) << o.output;
    EXPECT_NE(o.output.find(") and uses " + missing + ", which this CPU lacks. Build it on a node of this kind"),
              std::string::npos)
        << o.output;
    EXPECT_EQ(o.output.find("Usage:"), std::string::npos) << o.output;
  }
  // QEMU's Haswell-v4 model: AVX2, FMA, BMI2 and the rest of x86-64-v3, no AVX-512. Only what it
  // lacks is named.
  const std::vector<std::string> haswell = {"sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "lzcnt", "movbe", "f16c",
                                            "avx",  "avx2",  "fma",    "bmi",    "bmi2",   "aes",   "pclmul"};
  std::string beyond_haswell;
  for (const char* const* f = aesweep_built_for; *f != nullptr; ++f)
    if (std::find(haswell.begin(), haswell.end(), *f) == haswell.end())
      beyond_haswell += (beyond_haswell.empty() ? "" : ", ") + std::string(*f);
  const Outcome on_haswell = run(std::string("qemu-x86_64 -cpu Haswell-v4 ") + AESWEEP_BINARY + " --help");
  if (beyond_haswell.empty()) {
    EXPECT_EQ(on_haswell.status, 0) << on_haswell.output;
  } else {
    EXPECT_EQ(on_haswell.status, 2) << on_haswell.output;
    EXPECT_NE(on_haswell.output.find(") and uses " + beyond_haswell + ", which this CPU lacks."), std::string::npos)
        << on_haswell.output;
  }
  // The CPU it was built on runs it, and --version names what it needs.
  const Outcome here = run(std::string(AESWEEP_BINARY) + " --version");
  EXPECT_EQ(here.status, 0) << here.output;
  EXPECT_NE(here.output.find("built for: the baseline + "), std::string::npos) << here.output;
  EXPECT_NE(here.output.find(missing + "\ncpu: "), std::string::npos) << here.output;
}

}  // namespace
