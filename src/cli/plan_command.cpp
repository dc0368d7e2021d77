// aesweep plan: the runs of a study, without training.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "aesweep/cli/commands.hpp"
#include "aesweep/cli/common.hpp"
#include "aesweep/config/grid.hpp"
#include "aesweep/config/option_registry.hpp"

namespace po = boost::program_options;

namespace aesweep::cli {

int plan_command(const std::vector<std::string>& args) {
  po::options_description visible = study_options();
  visible.add_options()("help,h", "show this help")("all", "print every option of every run, not only the swept ones");
  po::options_description all = visible;
  all.add_options()("config", po::value<std::string>(), "INI config file");
  po::positional_options_description positional;
  positional.add("config", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
  po::notify(vm);
  if (vm.count("help") || !vm.count("config")) {
    std::cout << "Usage: aesweep plan CONFIG.ini [options]\n\n"
                 "Prints the number of runs of the study and each run's settings (those that differ from the\n"
                 "config's defaults, or all with --all) without training anything.\n\n"
              << visible << "\n";
    return vm.count("help") ? 0 : 2;
  }
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
