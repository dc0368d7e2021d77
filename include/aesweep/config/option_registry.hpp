#pragma once
// The single annotated source of truth for every training option: its key, its description
// (from which --help is generated), how its text is parsed, and its canonical text.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "aesweep/config/run_spec.hpp"
#include "aesweep/core/text.hpp"  // trim_whitespace, shown_value: part of this header's vocabulary
#include "aesweep/core/train_options.hpp"

namespace aesweep {

struct OptionSpec {
  std::string key;          // "section.name", e.g. "reg.l1_activity"
  std::string description;  // one line for --help and the README
  bool numeric = false;     // numeric or boolean: may take linspace/logspace, gets a numeric summary column
  // Parses `text` into the field; throws ConfigError (without the key; callers add context).
  std::function<void(TrainOptions&, std::string_view text)> set;
  // The field's canonical text (shortest round-trip form for numbers).
  std::function<std::string(const TrainOptions&)> get;
  // The values it accepts, for --help and messages: "a number in [0, 0.9]", "one of relu, ...".
  std::string range;
};

// Every option, grouped by section, in a stable order.
const std::vector<OptionSpec>& option_registry();

// The option with this key, or nullptr.
const OptionSpec* find_option(std::string_view key);

// Sets one option by key; throws ConfigError "KEY: problem" for unknown keys or bad values.
void set_option(TrainOptions& options, std::string_view key, std::string_view text);

// Every option's canonical setting, registry order.
std::vector<Setting> describe(const TrainOptions& options);

// Shortest text that reads back to the same double ("5e-05", "0.1", "196").
std::string format_number(double value);

// The comma-separated parts of `text`, each trimmed; empty parts stay ("a,,b" and "a," hold an
// empty one), "" has none.
std::vector<std::string> split_commas(std::string_view text);

// Parses a whole string as a finite double; throws ConfigError.
double parse_number(std::string_view text);

// Parses a number and checks it against `range`; throws ConfigError "expected an integer in
// [1, 100000], got '8.5'".
double parse_in_range(std::string_view text, const OptionRange& range);

}  // namespace aesweep
