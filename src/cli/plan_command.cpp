// aesweep plan: the runs of a study, without training.
#include <boost/program_options.hpp>
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "aesweep/cli/commands.hpp"
#include "aesweep/cli/common.hpp"
#include "aesweep/config/grid.hpp"
#include "aesweep/config/option_registry.hpp"
#include "aesweep/core/error.hpp"
#include "aesweep/sweep/schedule.hpp"

namespace po = boost::program_options;

namespace aesweep::cli {

int plan_command(const std::vector<std::string>& args) {
  po::options_description visible = study_options(/*run_options=*/false);
  visible.add_options()("all", "print every option of every run, not only the swept ones");
  add_fuse_options(visible);
  po::variables_map vm;
  if (!parse_command_line(args, visible,
                          "Usage: aesweep plan CONFIG.ini [options]\n\n"
                          "Prints the number of runs of the study, what each [search.NAME] section draws, and each\n"
                          "run's settings (those that differ from the config's defaults, or all with --all) without\n"
                          "training anything. Runs that 'aesweep sweep' with the same --fuse settings trains together\n"
                          "are marked [group G] (a study with a [schedule] trains every run alone). A study may have\n"
                          "up to 1,000,000 runs.\n",
                          vm))
    return 0;
  if (!vm.count("config")) throw ConfigError("missing CONFIG.ini (see 'aesweep plan --help')");
  const StudyConfig config = study_from_command_line(vm, vm["config"].as<std::string>());
  const FuseSettings fuse = fuse_settings(vm);
  // The runs are computed one at a time from their index, never held all at once.
  const StudyPlan plan(config);
  // What sweep refuses, plan refuses.
  check_schedule_metric(config, plan, [&](std::size_t i) { return plan.options(i).training.validation_split; });
  const auto defaults = describe(config.defaults);
  // A scheduled study trains every run alone (its rungs decide run by run), as sweep does.
  std::size_t groups = 0;
  const std::vector<std::uint32_t> group_of =
      config.schedule.active() ? std::vector<std::uint32_t>(plan.size(), 0) : fuse_group_numbers(plan, fuse, groups);
  std::size_t searches = 0;
  for (std::size_t s = 0; s < plan.section_count(); ++s) searches += plan.section_search(s) ? 1 : 0;
  const std::size_t sweeps = config.sweeps.size() - searches;
  std::string sections = searches == 0 || sweeps > 0 ? std::to_string(sweeps) + " sweep sections" : "";
  if (searches > 0)
    sections += (sections.empty() ? "" : " and ") + std::to_string(searches) +
                (searches == 1 ? " search section" : " search sections");
  std::printf("study %s: %zu runs in %s, hash %s\n", config.path.c_str(), plan.size(), sections.c_str(),
              study_hash(config, plan).c_str());
  if (config.schedule.active()) std::printf("schedule: %s\n", config.schedule.summary().c_str());
  // Hyperband deals its brackets out by run index in blocks (9, 5 and 3 runs for 3 rungs and eta 3):
  // a study smaller than a block leaves the last brackets empty.
  if (config.schedule.kind == ScheduleKind::hyperband) {
    const int rungs = int(config.schedule.rungs().size());
    std::vector<bool> used(std::size_t(std::max(rungs, 1)), false);
    for (std::size_t i = 0; i < plan.size(); ++i)
      used[std::size_t(sweep::hyperband_bracket(i, rungs, config.schedule.eta))] = true;
    if (const auto n = std::count(used.begin(), used.end(), true); n < std::ptrdiff_t(used.size())) {
      std::printf("  note: hyperband deals its %d brackets out by run index, %zu runs a round: these %zu runs "
                  "fill only %td of them%s\n",
                  rungs, sweep::hyperband_round(rungs, config.schedule.eta), plan.size(), n,
                  n == 1 ? ", which is successive halving alone" : "");
    }
  }
  // What each search draws: its method, seed, points and distributions.
  for (std::size_t s = 0; s < plan.section_count(); ++s) {
    const SearchSpace* search = plan.section_search(s);
    if (!search) continue;
    std::printf("%s: %s, seed %llu, %zu points:", plan.section_header(s).c_str(), std::string(to_string(search->method)).c_str(),
                static_cast<unsigned long long>(search->seed), search->points);
    for (std::size_t d = 0; d < search->distributions.size(); ++d)
      std::printf("%s %s = %s", d ? "," : "", search->distributions[d].first.c_str(), search->distributions[d].second.c_str());
    std::printf("\n");
    // A Sobol sequence covers each key's range evenly in its first 2^k points (scipy warns too).
    if (const std::size_t n = search->points; search->method == SearchMethod::sobol && !std::has_single_bit(n))
      std::printf("  note: %zu points is not a power of two: the Sobol points cover every key's range evenly up to "
                  "the first %zu (runs = %zu or %zu keeps that for all)\n",
                  n, std::bit_floor(n), std::bit_floor(n), std::bit_ceil(n));
  }
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
