// aesweep plan: the runs of a study, without training.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "aesweep/cli/commands.hpp"
#include "aesweep/cli/common.hpp"
#include "aesweep/config/grid.hpp"
#include "aesweep/config/option_registry.hpp"
#include "aesweep/core/error.hpp"

namespace po = boost::program_options;

namespace aesweep::cli {

int plan_command(const std::vector<std::string>& args) {
  po::options_description visible = study_options();
  visible.add_options()("all", "print every option of every run, not only the swept ones");
  po::variables_map vm;
  if (!parse_command_line(args, visible,
                          "Usage: aesweep plan CONFIG.ini [options]\n\n"
                          "Prints the number of runs of the study and each run's settings (those that differ from the\n"
                          "config's defaults, or all with --all) without training anything.\n",
                          vm))
    return 0;
  if (!vm.count("config")) throw ConfigError("missing CONFIG.ini (see 'aesweep plan --help')");
  const StudyConfig config = study_from_command_line(vm, vm["config"].as<std::string>());
  const auto runs = expand_study(config);
  const auto defaults = describe(config.defaults);
  std::printf("study %s: %zu runs in %zu sweep sections, hash %s\n", config.path.c_str(), runs.size(),
              config.sweeps.size(), study_hash(config, runs).c_str());
  for (const auto& run : runs) {
    std::printf("%6zu  %-16s", run.index, run.section.empty() ? "-" : run.section.c_str());
    for (std::size_t i = 0; i < run.settings.size(); ++i)
      if (vm.count("all") || run.settings[i].value != defaults[i].value)
        std::printf(" %s=%s", run.settings[i].key.c_str(), run.settings[i].value.c_str());
    std::printf("\n");
  }
  return 0;
}

}  // namespace aesweep::cli
