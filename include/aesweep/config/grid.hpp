#pragma once
// Expansion of a study config into its runs: each sweep section is the Cartesian product of its
// keys' values, the study is the union of its sections (duplicates dropped, first kept).
#include <string>
#include <vector>

#include "aesweep/config/run_spec.hpp"
#include "aesweep/config/study_config.hpp"

namespace aesweep {

// "0, 1e-5" -> {"0", "1e-5"}; "linspace(a, b, n)" -> n evenly spaced numbers from a to b;
// "logspace(a, b, n)" -> 10^linspace(a, b, n). Throws ConfigError (no context; callers add it).
std::vector<std::string> expand_values(const std::string& text);

// True when the text is more than one value (a list or a range).
bool is_multi_valued(const std::string& text);

// Every run of the study, validated. Throws ConfigError naming where the bad value came from.
std::vector<RunSpec> expand_study(const StudyConfig& config);

// Hash of what determines the results: the canonical settings of every run and the data
// selection. Whitespace or comment edits in the file do not change it.
std::string study_hash(const StudyConfig& config, const std::vector<RunSpec>& runs);

}  // namespace aesweep
