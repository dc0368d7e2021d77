#include "aesweep/config/study_config.hpp"

#include <boost/program_options.hpp>
#include <fstream>
#include <map>
#include <sstream>

#include "aesweep/config/grid.hpp"
#include "aesweep/config/option_registry.hpp"
#include "aesweep/core/error.hpp"

namespace po = boost::program_options;

namespace aesweep {
namespace {

// Where each "section.key" of the file is, and the syntax checks Boost reports without lines.
struct LineIndex {
  std::map<std::string, int> line_of;         // full key ("sweep.x.reg.l1_activity") -> line
  std::map<std::string, int> section_line_of;  // "sweep.x" -> line
};

LineIndex index_lines(const std::string& text, const std::string& path) {
  LineIndex index;
  std::istringstream in(text);
  std::string raw, section;
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    std::string s = trim_whitespace(raw);
    if (const auto hash = s.find('#'); hash != std::string::npos) s = trim_whitespace(s.substr(0, hash));
    if (s.empty() || s[0] == ';') continue;
    const std::string where = "config " + path + " line " + std::to_string(line);
    if (s.front() == '[') {
      if (s.back() != ']') throw ConfigError(where + ": section header '" + s + "' lacks its closing ]");
      section = trim_whitespace(s.substr(1, s.size() - 2));
      if (section.empty()) throw ConfigError(where + ": empty section name");
      if (index.section_line_of.count(section))
        throw ConfigError(where + ": section [" + section + "] appears twice (first on line " +
                          std::to_string(index.section_line_of[section]) + ")");
      index.section_line_of[section] = line;
      continue;
    }
    const auto eq = s.find('=');
    if (eq == std::string::npos) throw ConfigError(where + ": expected 'key = value' or '[section]', got '" + s + "'");
    const std::string key = trim_whitespace(s.substr(0, eq));
    if (key.empty()) throw ConfigError(where + ": missing key before '='");
    if (trim_whitespace(s.substr(eq + 1)).empty()) throw ConfigError(where + ": key '" + key + "' has no value");
    const std::string full = section.empty() ? key : section + "." + key;
    if (index.line_of.count(full))
      throw ConfigError(where + ": key '" + key + "' given twice in this section (first on line " +
                        std::to_string(index.line_of[full]) + ")");
    index.line_of[full] = line;
  }
  return index;
}

void set_data(DataSettings& data, const std::string& key, const std::string& text) {
  const auto count = [&](const std::string& t) {
    const double v = parse_number(t);
    if (v < 0 || v != double(std::size_t(v))) throw ConfigError("expected a count >= 0, got '" + t + "'");
    return std::size_t(v);
  };
  if (key == "data.dir") data.dir = trim_whitespace(text);
  else if (key == "data.train_samples") data.train_samples = count(text);
  else if (key == "data.test_samples") data.test_samples = count(text);
  else throw ConfigError("unknown option '" + key + "' (data.dir, data.train_samples, data.test_samples)");
}

// A value outside its own option's range (e.g. reg.dropout = 1.5) is reported here, where its
// line is known; rules that relate several options are left to validation of the whole run.
void check_own_range(const std::string& key, const std::string& text) {
  TrainOptions probe;
  set_option(probe, key, text);
  try {
    probe.validate();
  } catch (const ConfigError& e) {
    if (std::string(e.what()).rfind(key + " must be ", 0) == 0) throw;
  }
}

// Applies one single-valued setting to the defaults or the data settings.
void apply_default(StudyConfig& config, const std::string& key, const std::string& text, const std::string& origin) {
  try {
    if (is_multi_valued(text))
      throw ConfigError("a list or range belongs in a [sweep.NAME] section (or a --set on a sweep); defaults take "
                        "one value, got '" + text + "'");
    if (is_data_key(key)) set_data(config.data, key, text);
    else {
      set_option(config.defaults, key, text);
      check_own_range(key, text);
    }
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    // set_option already prefixes its key.
    throw ConfigError(origin + ": " + (message.rfind(key, 0) == 0 ? message : key + ": " + message));
  }
}

std::string unknown_key_message(const std::string& key) {
  return "unknown option '" + key + "' (aesweep train --help lists every option)";
}

}  // namespace

bool is_data_key(const std::string& key) { return key.rfind("data.", 0) == 0; }

StudyConfig parse_study_config(const std::string& text, const std::string& path,
                               const std::vector<std::string>& overrides) {
  StudyConfig config;
  config.path = path;
  config.text = text;
  const LineIndex index = index_lines(text, path);

  std::istringstream stream(text);
  po::parsed_options parsed(nullptr);
  try {
    po::options_description none;
    parsed = po::parse_config_file(stream, none, /*allow_unregistered=*/true);
  } catch (const po::error& e) {
    throw ConfigError("config " + path + ": " + e.what());
  }

  std::map<std::string, std::size_t> sweep_position;
  for (const auto& option : parsed.options) {
    const std::string& full = option.string_key;
    const std::string value = option.value.empty() ? std::string() : trim_whitespace(option.value.front());
    const auto line_it = index.line_of.find(full);
    const std::string origin = "config " + path + (line_it != index.line_of.end() ? " line " + std::to_string(line_it->second) : "");
    if (full.rfind("sweep.", 0) == 0) {
      // "sweep.NAME.section.key": the registry key is the longest known suffix.
      std::string key, name;
      for (const auto& spec : option_registry()) {
        const std::string suffix = "." + spec.key;
        if (full.size() > suffix.size() + 6 && full.compare(full.size() - suffix.size(), suffix.size(), suffix) == 0) {
          key = spec.key;
          name = full.substr(6, full.size() - suffix.size() - 6);
          break;
        }
      }
      if (key.empty()) {
        const auto dot = full.find('.', 6);
        const std::string shown = dot == std::string::npos ? full : full.substr(dot + 1);
        throw ConfigError(origin + ": " + (is_data_key(shown) ? "data options cannot be swept: '" + shown + "'"
                                                                : unknown_key_message(shown)));
      }
      auto [pos, inserted] = sweep_position.try_emplace(name, config.sweeps.size());
      if (inserted) {
        const auto sec = index.section_line_of.find("sweep." + name);
        config.sweeps.push_back({name, "config " + path + (sec != index.section_line_of.end()
                                                               ? " line " + std::to_string(sec->second) : ""), {}});
      }
      config.sweeps[pos->second].axes.push_back({key, value, origin});
      continue;
    }
    if (!is_data_key(full) && !find_option(full)) throw ConfigError(origin + ": " + unknown_key_message(full));
    apply_default(config, full, value, origin);
  }
  // A [sweep.NAME] header with no keys is an empty grid.
  for (const auto& [section, line] : index.section_line_of) {
    if (section.rfind("sweep.", 0) == 0 && !sweep_position.count(section.substr(6)))
      throw ConfigError("config " + path + " line " + std::to_string(line) + ": section [" + section +
                        "] has no keys, so its grid is empty");
    if (section.rfind("sweep", 0) == 0 && section.size() <= 6)
      throw ConfigError("config " + path + " line " + std::to_string(line) + ": sweep sections are named [sweep.NAME]");
  }

  for (const std::string& assignment : overrides) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError("--set " + assignment + ": expected KEY=VALUE");
    const std::string key = trim_whitespace(assignment.substr(0, eq));
    const std::string value = trim_whitespace(assignment.substr(eq + 1));
    const std::string origin = "--set " + assignment;
    if (!is_data_key(key) && !find_option(key)) throw ConfigError(origin + ": " + unknown_key_message(key));
    for (auto& sweep : config.sweeps)
      std::erase_if(sweep.axes, [&](const ConfigEntry& e) { return e.key == key; });
    if (is_multi_valued(value) && !is_data_key(key)) {
      if (config.sweeps.empty()) config.sweeps.push_back({"cli", origin, {}});
      for (auto& sweep : config.sweeps) sweep.axes.push_back({key, value, origin});
    } else {
      apply_default(config, key, value, origin);
    }
    config.overrides.push_back(assignment);
  }
  // An override may have removed a section's last axis: it is then a single run of the defaults.
  return config;
}

StudyConfig load_study_config(const std::string& path, const std::vector<std::string>& overrides) {
  if (path.empty()) return parse_study_config("", "", overrides);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("config " + path + ": cannot be opened for reading");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_study_config(text.str(), path, overrides);
}

}  // namespace aesweep
