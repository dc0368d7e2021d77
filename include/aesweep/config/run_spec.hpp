#pragma once
// One point of a sweep grid: the fully resolved options of a run plus the textual form of every
// setting, in registry order, so downstream modules (archive, reports) can record each
// hyperparameter without knowing the option registry.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aesweep/core/train_options.hpp"

namespace aesweep {

struct Setting {
  std::string key;                // "reg.l1_activity"
  std::string value;              // canonical text, "5e-05"
  std::optional<double> numeric;  // set for numeric and boolean options
};

struct RunSpec {
  std::size_t index = 0;      // position in the study, 0-based; stable for a given config
  std::string section;        // the sweep section this run came from ("" for a plain train)
  std::vector<std::string> sections;  // every section that lists it, config order (section first)
  std::vector<Setting> settings;  // every registry option, registry order
  TrainOptions options;       // the same values, typed; options.training.seed is the run's seed
};

}  // namespace aesweep
