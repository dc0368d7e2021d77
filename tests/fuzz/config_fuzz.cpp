// Fuzz harness: the INI study parser and the grid (parse_study_config, expand_values,
// expand_study, study_hash). Input: the text of a config file. Allowed outcome: success, or
// ConfigError. Grids over kMaxFuzzedRuns runs are counted but not expanded (fuzz_support.hpp).
#include <string>

#include "aesweep/config/grid.hpp"
#include "aesweep/config/study_config.hpp"
#include "aesweep/core/error.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const aesweep::StudyConfig config = aesweep::parse_study_config(text, "fuzz.ini", {});
    if (aesweep::fuzz::bounded_run_count(config) > aesweep::fuzz::kMaxFuzzedRuns) return 0;
    const auto runs = aesweep::expand_study(config);
    if (runs.empty()) {
      std::fprintf(stderr, "expand_study returned no runs without an error\n");
      std::abort();
    }
    (void)aesweep::study_hash(config, runs);
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
