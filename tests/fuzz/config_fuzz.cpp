// Fuzz harness: the INI study parser and the grid (parse_study_config, expand_values,
// StudyPlan, expand_study, study_hash). Input: the text of a config file. Allowed outcome:
// success (the plan and the expanded grid agreeing), or ConfigError. Studies are planned with a
// limit of kMaxFuzzedRuns runs (fuzz_support.hpp).
#include <string>

#include "aesweep/config/grid.hpp"
#include "aesweep/config/study_config.hpp"
#include "aesweep/core/error.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const aesweep::StudyConfig config = aesweep::parse_study_config(text, "fuzz.ini", {});
    const aesweep::StudyPlan plan(config, aesweep::fuzz::kMaxFuzzedRuns);
    aesweep::fuzz::walk_plan(config, plan);
  } catch (const aesweep::ConfigError& e) {
    aesweep::fuzz::note(e);
  }
  // The value syntax on its own (lists, linspace/logspace), for single-line inputs.
  if (size <= 256 && text.find('\n') == std::string::npos) {
    try {
      (void)aesweep::is_multi_valued(text);
      const auto values = aesweep::expand_values(text);
      if (values.empty()) {
        std::fprintf(stderr, "expand_values returned no values without an error\n");
        std::abort();
      }
    } catch (const aesweep::ConfigError& e) {
      aesweep::fuzz::note(e);
    }
  }
  return 0;
}
