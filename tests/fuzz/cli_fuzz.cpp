// Fuzz harness: the command-line parser of train/plan/sweep (parse_command_line with the study,
// plan and fuse options, threads_option, study_from_command_line, fuse_settings) and the plan of
// the resulting study (StudyPlan with a limit of kMaxFuzzedRuns runs, fuse_group_numbers,
// fuse_groups). Input: the arguments, separated by NUL bytes. A config file named on the
// command line is not read (the config harness covers files): the study is built from the
// command-line settings alone. Allowed outcome: success, or a Boost.Program_options error or a
// ConfigError, as aesweep's main() reports them.
#include <Eigen/Core>
#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "aesweep/cli/common.hpp"
#include "aesweep/config/grid.hpp"
#include "aesweep/core/error.hpp"
#include "fuzz_support.hpp"

namespace po = boost::program_options;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args;
  std::string current;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(current);
      current.clear();
    } else {
      current.push_back(char(data[i]));
    }
  }
  if (!current.empty()) args.push_back(current);
  // --help prints the usage: keep it out of the fuzzer's output.
  std::ostringstream sink;
  auto* saved = std::cout.rdbuf(sink.rdbuf());
  try {
    po::options_description visible = aesweep::cli::study_options();
    visible.add_options()("all", "print every option of every run");
    aesweep::cli::add_fuse_options(visible);
    po::variables_map vm;
    if (aesweep::cli::parse_command_line(args, visible, "usage", vm)) {
      aesweep::cli::set_threads(aesweep::cli::threads_option(vm));
      const std::string config_path = vm.count("config") ? vm["config"].as<std::string>() : "";
      (void)config_path;  // not read: see above
      const aesweep::StudyConfig config = aesweep::cli::study_from_command_line(vm, "");
      const auto fuse = aesweep::cli::fuse_settings(vm);
      const aesweep::StudyPlan plan(config, aesweep::fuzz::kMaxFuzzedRuns);
      aesweep::fuzz::walk_plan(config, plan);
      std::size_t groups = 0;
      const auto numbers = aesweep::cli::fuse_group_numbers(plan, fuse, groups);
      if (numbers.size() != plan.size()) {
        std::fprintf(stderr, "fuse_group_numbers gives %zu numbers for %zu runs\n", numbers.size(), plan.size());
        std::abort();
      }
      (void)aesweep::cli::fuse_groups(aesweep::expand_study(config), fuse);
    }
  } catch (const po::error& e) {
    aesweep::fuzz::note(e);
  } catch (const aesweep::ConfigError& e) {
    aesweep::fuzz::note(e);
  } catch (const std::filesystem::filesystem_error& e) {
    aesweep::fuzz::note(e);  // main() reports these as bad input too (a path it cannot read)
  }
  std::cout.rdbuf(saved);
  Eigen::setNbThreads(1);
  return 0;
}
