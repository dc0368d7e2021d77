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
  add_fuse_options(visible);
  po::variables_map vm;
  if (!parse_command_line(args, visible,
                          "Usage: aesweep plan CONFIG.ini [options]\n\n"
                          "Prints the number of runs of the study and each run's settings (those that differ from the\n"
                          "config's defaults, or all with --all) without training anything. Runs that 'aesweep sweep'\n"
                          "with the same --fuse settings trains together are marked [group G].\n",
                          vm))
    return 0;
  if (!vm.count("config")) throw ConfigError("missing CONFIG.ini (see 'aesweep plan --help')");
  const StudyConfig config = study_from_command_line(vm, vm["config"].as<std::string>());
  const auto runs = expand_study(config);
  const auto defaults = describe(config.defaults);
  const FuseSettings fuse = fuse_settings(vm);
  std::vector<std::size_t> group_of(runs.size(), 0);
  std::size_t groups = 0;
  for (const auto& item : fuse_groups(runs, fuse)) {
    if (item.size() < 2) continue;
    ++groups;
    for (std::size_t run : item) group_of[run] = groups;
  }
  std::printf("study %s: %zu runs in %zu sweep sections, hash %s\n", config.path.c_str(), runs.size(),
              config.sweeps.size(), study_hash(config, runs).c_str());
  if (groups > 0)
    std::printf("%zu groups of runs train together (--fuse %d --fuse-max-hidden %d)\n", groups, fuse.max_group,
                fuse.max_hidden);
  for (const auto& run : runs) {
    std::printf("%6zu  %-16s", run.index, run.section.empty() ? "-" : run.section.c_str());
    if (group_of[run.index] > 0) std::printf(" [group %-3zu]", group_of[run.index]);
    else if (groups > 0) std::printf("%12s", "");
    for (std::size_t i = 0; i < run.settings.size(); ++i)
      if (vm.count("all") || run.settings[i].value != defaults[i].value)
        std::printf(" %s=%s", run.settings[i].key.c_str(), run.settings[i].value.c_str());
    std::printf("\n");
  }
  return 0;
}

}  // namespace aesweep::cli
