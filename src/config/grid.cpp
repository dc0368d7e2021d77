#include "aesweep/config/grid.hpp"

#include <cmath>
#include <cstdint>
#include <set>
#include <sstream>

#include "aesweep/config/option_registry.hpp"
#include "aesweep/core/error.hpp"

namespace aesweep {
namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, ',')) parts.push_back(trim_whitespace(part));
  if (!text.empty() && text.back() == ',') parts.emplace_back();
  return parts;
}

// "linspace(a, b, n)" -> {a, b, n} when text has that function form.
bool parse_range(const std::string& text, const std::string& function, std::vector<std::string>& args) {
  if (text.rfind(function + "(", 0) != 0) return false;
  if (text.back() != ')') throw ConfigError("'" + text + "' lacks its closing )");
  args = split_commas(text.substr(function.size() + 1, text.size() - function.size() - 2));
  if (args.size() != 3) throw ConfigError(function + " takes (start, stop, count), got '" + text + "'");
  return true;
}

std::uint64_t fnv1a(std::uint64_t hash, const std::string& text) {
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace

bool is_multi_valued(const std::string& raw) {
  const std::string text = trim_whitespace(raw);
  return text.find(',') != std::string::npos || text.rfind("linspace(", 0) == 0 || text.rfind("logspace(", 0) == 0;
}

std::vector<std::string> expand_values(const std::string& raw) {
  const std::string text = trim_whitespace(raw);
  std::vector<std::string> args;
  const bool lin = parse_range(text, "linspace", args);
  const bool log = !lin && parse_range(text, "logspace", args);
  if (lin || log) {
    const double start = parse_number(args[0]), stop = parse_number(args[1]), count_value = parse_number(args[2]);
    if (count_value < 1 || count_value != std::floor(count_value) || count_value > 100000)
      throw ConfigError("the count of '" + text + "' must be an integer in [1, 100000]; a count of 0 makes the grid empty");
    const auto count = long(count_value);
    std::vector<std::string> values;
    // numpy's formula: start + i * step, with the end point exact.
    const double step = count > 1 ? (stop - start) / double(count - 1) : 0.0;
    for (long i = 0; i < count; ++i) {
      const double x = (i == count - 1 && count > 1) ? stop : start + double(i) * step;
      values.push_back(format_number(log ? std::pow(10.0, x) : x));
    }
    return values;
  }
  if (text.empty()) throw ConfigError("empty value");
  auto values = split_commas(text);
  for (std::size_t i = 0; i < values.size(); ++i)
    if (values[i].empty()) throw ConfigError("item " + std::to_string(i + 1) + " of the list '" + text + "' is empty");
  return values;
}

std::vector<RunSpec> expand_study(const StudyConfig& config) {
  std::vector<RunSpec> runs;
  std::set<std::vector<std::string>> seen;
  auto add_run = [&](const TrainOptions& options, const std::string& section, const std::string& where) {
    try {
      options.validate();
    } catch (const ConfigError& e) {
      throw ConfigError(where + ": " + e.what());
    }
    RunSpec spec;
    spec.section = section;
    spec.options = options;
    spec.settings = describe(options);
    std::vector<std::string> identity;
    for (const auto& s : spec.settings) identity.push_back(s.value);
    if (!seen.insert(identity).second) return;  // the same run from an earlier section
    spec.index = runs.size();
    runs.push_back(std::move(spec));
  };

  if (config.sweeps.empty()) {
    add_run(config.defaults, "", config.path.empty() ? "defaults" : "config " + config.path);
    return runs;
  }
  for (const auto& sweep : config.sweeps) {
    // Each axis's values, each already checked by parsing it into the options.
    std::vector<std::vector<std::string>> axis_values;
    for (const auto& axis : sweep.axes) {
      std::vector<std::string> values;
      try {
        values = expand_values(axis.text);
        const OptionSpec* spec = find_option(axis.key);
        if (!spec->numeric && (axis.text.find("linspace") != std::string::npos ||
                               axis.text.find("logspace") != std::string::npos))
          throw ConfigError("linspace/logspace need a numeric option");
        TrainOptions probe = config.defaults;
        for (const auto& v : values) set_option(probe, axis.key, v);
      } catch (const ConfigError& e) {
        const std::string message = e.what();
        throw ConfigError(axis.origin + ": " + (message.rfind(axis.key, 0) == 0 ? message : axis.key + ": " + message));
      }
      axis_values.push_back(std::move(values));
    }
    // Odometer over the axes; the last axis varies fastest.
    std::vector<std::size_t> position(sweep.axes.size(), 0);
    while (true) {
      TrainOptions options = config.defaults;
      std::string where = sweep.origin + " [sweep." + sweep.name + "]";
      for (std::size_t a = 0; a < sweep.axes.size(); ++a) {
        set_option(options, sweep.axes[a].key, axis_values[a][position[a]]);
        where += " " + sweep.axes[a].key + "=" + axis_values[a][position[a]];
      }
      try {
        add_run(options, sweep.name, where);
      } catch (const ConfigError& e) {
        // Name the line of the axis whose key the message starts with, if any.
        const std::string message = e.what();
        for (const auto& axis : sweep.axes)
          if (message.find(": " + axis.key + " ") != std::string::npos) throw ConfigError(axis.origin + ": " + message);
        throw;
      }
      std::size_t a = sweep.axes.size();
      while (a > 0 && ++position[a - 1] == axis_values[a - 1].size()) position[--a] = 0;
      if (a == 0) break;
    }
  }
  return runs;
}

std::string study_hash(const StudyConfig& config, const std::vector<RunSpec>& runs) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  hash = fnv1a(hash, "train_samples=" + std::to_string(config.data.train_samples) + "\n");
  hash = fnv1a(hash, "test_samples=" + std::to_string(config.data.test_samples) + "\n");
  for (const auto& run : runs) {
    hash = fnv1a(hash, "run " + run.section + "\n");
    for (const auto& s : run.settings) hash = fnv1a(hash, s.key + "=" + s.value + "\n");
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

}  // namespace aesweep
