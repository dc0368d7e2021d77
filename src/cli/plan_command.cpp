// aesweep plan: the runs of a study, without training.
#include <boost/program_options.hpp>
#include <cstdint>
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
  po::options_description visible = study_options(/*run_options=*/false);
  visible.add_options()("all", "print every option of every run, not only the swept ones");
  add_fuse_options(visible);
  po::variables_map vm;
  if (!parse_command_line(args, visible,
                          "Usage: aesweep plan CONFIG.ini [options]\n\n"
                          "Prints the number of runs of the study and each run's settings (those that differ from the\n"
                          "config's defaults, or all with --all) without training anything. Runs that 'aesweep sweep'\n"
                          "with the same --fuse settings trains together are marked [group G]. A study may have up to\n"
                          "1,000,000 runs.\n",
                          vm))
    return 0;
  if (!vm.count("config")) throw ConfigError("missing CONFIG.ini (see 'aesweep plan --help')");
  const StudyConfig config = study_from_command_line(vm, vm["config"].as<std::string>());
  const FuseSettings fuse = fuse_settings(vm);
  // The runs are computed one at a time from their index, never held all at once.
  const StudyPlan plan(config);
  const auto defaults = describe(config.defaults);
  std::size_t groups = 0;
  const std::vector<std::uint32_t> group_of = fuse_group_numbers(plan, fuse, groups);
  std::printf("study %s: %zu runs in %zu sweep sections, hash %s\n", config.path.c_str(), plan.size(),
              config.sweeps.size(), study_hash(config, plan).c_str());
  if (groups > 0)
    std::printf("%zu groups of runs train together (--fuse %d --fuse-max-hidden %d)\n", groups, fuse.max_group,
                fuse.max_hidden);
  const bool all = vm.count("all") > 0;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const RunSpec run = plan.run(i);
    std::printf("%6zu  %-16s", run.index, run.section.empty() ? "-" : run.section.c_str());
    if (group_of[i] > 0) std::printf(" [group %-3u]", unsigned(group_of[i]));
    else if (groups > 0) std::printf("%12s", "");
    for (std::size_t k = 0; k < run.settings.size(); ++k)
      if (all || run.settings[k].value != defaults[k].value)
        std::printf(" %s=%s", run.settings[k].key.c_str(), run.settings[k].value.c_str());
    std::printf("\n");
  }
  return 0;
}

}  // namespace aesweep::cli
