// [search.NAME] sections in a study: parsing and its errors (file, line, key), the runs a StudyPlan
// computes from their index, search sections next to sweep sections, --set on a search, and the
// study hash of every config in jobs/.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "aesweep/config/grid.hpp"
#include "aesweep/config/option_registry.hpp"
#include "aesweep/config/study_config.hpp"
#include "config_errors.hpp"
#include "aesweep/core/error.hpp"

namespace aesweep {
namespace {

constexpr const char* kPath = "search.ini";

StudyConfig parse(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return parse_study_config(text, kPath, overrides);
}

// The ConfigError message of parsing and planning `text`, "" when there is none.
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return test::config_error_of([&] { const StudyPlan plan(parse(text, overrides)); });
}

// Expects an error naming the file (unless overrides are given) and each of `parts`.
void expect_error(const std::string& text, std::initializer_list<std::string> parts,
                  const std::vector<std::string>& overrides = {}) {
  test::expect_config_error(error_of(text, overrides), text, overrides.empty() ? std::string("config ") + kPath : "",
                            parts);
}

std::string value_of(const RunSpec& run, const std::string& key) {
  for (const auto& s : run.settings)
    if (s.key == key) return s.value;
  ADD_FAILURE() << "no setting " << key;
  return "";
}

const char* const kSearch =
    "[model]\nhidden = 32\n"           // lines 1-2
    "[train]\nepochs = 2\nseed = 5\n"  // lines 3-5
    "[search.pen]\n"                   // line 6
    "method = sobol\n"                 // line 7
    "runs = 16\n"                      // line 8
    "seed = 3\n"                       // line 9
    "reg.l1_activity = loguniform(1e-7, 1e-3)\n"  // line 10
    "reg.dropout = uniform(0, 0.9)\n"             // line 11
    "encoder.activation = choice(relu, tanh)\n";  // line 12

TEST(SearchConfig, ASearchSectionIsParsedWithItsSettingsAndKeys) {
  const StudyConfig config = parse(kSearch);
  ASSERT_EQ(config.sweeps.size(), 1u);
  const SweepSection& s = config.sweeps[0];
  EXPECT_EQ(s.name, "pen");
  EXPECT_EQ(s.header(), "[search.pen]");
  ASSERT_TRUE(s.search);
  EXPECT_EQ(s.search->method, SearchMethod::sobol);
  EXPECT_EQ(s.search->runs, 16u);
  EXPECT_EQ(s.search->seed, 3u);
  EXPECT_EQ(s.search->runs_origin, "config search.ini line 8");
  ASSERT_EQ(s.axes.size(), 3u);
  EXPECT_EQ(s.axes[0].key, "reg.l1_activity");
  EXPECT_EQ(s.axes[0].origin, "config search.ini line 10");
  // The seed is optional (0).
  EXPECT_EQ(parse("[search.a]\nmethod = random\nruns = 2\nreg.dropout = uniform(0, 0.5)\n").sweeps[0].search->seed, 0u);
}

TEST(SearchConfig, ErrorsNameFileLineAndKey) {
  const std::string head = "[search.pen]\n";  // line 1
  const std::string body = "runs = 8\nreg.dropout = uniform(0, 0.9)\n";
  expect_error(head + "method = grid\n" + body, {"line 2", "method", "unknown search method 'grid'", "sobol"});
  expect_error(head + "method = sobol\nruns = 0\nreg.dropout = uniform(0, 0.9)\n", {"line 3", "runs", "[1, 1000000]"});
  expect_error(head + "method = sobol\nruns = -2\nreg.dropout = uniform(0, 0.9)\n", {"line 3", "runs"});
  expect_error(head + "method = sobol\nruns = 2.5\nreg.dropout = uniform(0, 0.9)\n", {"line 3", "runs"});
  expect_error(head + "method = sobol\nreg.dropout = uniform(0, 0.9)\n", {"line 1", "runs", "[search.pen]"});
  expect_error(head + body, {"line 1", "method", "[search.pen]"});
  expect_error(head + "method = sobol\n" + body + "seed = -1\n", {"line 5", "seed"});
  expect_error(head + "method = sobol\nruns = 8\nreg.dropout = 0.5\n", {"line 1", "draws no key", "[sweep.pen]"});
  // Bad distributions: the line and the key.
  const std::string start = head + "method = random\nruns = 4\n";  // the key on line 4
  expect_error(start + "reg.dropout = uniform(0.5, 0.1)\n", {"line 4", "reg.dropout", "below"});
  expect_error(start + "reg.l1_kernel = loguniform(0, 1e-3)\n", {"line 4", "reg.l1_kernel", "above 0"});
  expect_error(start + "encoder.activation = choice()\n", {"line 4", "encoder.activation", "empty"});
  expect_error(start + "model.hidden = int(8, 16.5)\n", {"line 4", "model.hidden", "integers"});
  expect_error(start + "reg.dropout = uniform(0, 1)\n", {"line 4", "reg.dropout", "a number in [0, 0.9]"});
  expect_error(start + "model.hidden = int(0, 16)\n", {"line 4", "model.hidden", "an integer in [1, 100000]"});
  expect_error(start + "model.hidden = uniform(8, 16)\n", {"line 4", "model.hidden", "int(a, b)"});
  expect_error(start + "reg.dropout = gauss(0, 1)\n", {"line 4", "reg.dropout", "unknown distribution"});
  expect_error(start + "encoder.activation = choice(relu, swish)\n", {"line 4", "encoder.activation", "swish"});
  // A list (as in a sweep section) is checked like a sweep's.
  expect_error(start + "reg.dropout = uniform(0, 0.5)\nmodel.hidden = 8, 0\n", {"line 5", "model.hidden"});
  // Keys: unknown ones, data keys, and `runs` outside a search section.
  expect_error(start + "reg.dropout = uniform(0, 0.5)\nreg.droput = 0.1\n", {"line 5", "reg.droput", "search section"});
  expect_error(start + "reg.dropout = uniform(0, 0.5)\ndata.train_samples = 10\n", {"line 5", "cannot be searched"});
  expect_error("[sweep.a]\nruns = 4\nreg.dropout = 0.1\n", {"line 2", "runs"});
  // Where distributions do not belong.
  expect_error("[sweep.a]\nreg.dropout = uniform(0, 0.5)\n", {"line 2", "reg.dropout", "[search.NAME]"});
  expect_error("[reg]\ndropout = uniform(0, 0.5)\n", {"line 2", "reg.dropout", "[search.NAME]"});
  // Headers.
  expect_error("[search]\nmethod = sobol\n", {"line 1", "[search.NAME]"});
  expect_error("[search. ]\nmethod = sobol\n", {"line 1", "[search.NAME]"});
  expect_error("[sweep.a]\nreg.dropout = 0, 0.5\n[search.a]\nmethod = sobol\nruns = 2\nreg.dropout = uniform(0, 0.5)\n",
               {"line 3", "[sweep.a] on line 1", "distinct names"});
  expect_error("search.a = 1\n", {"line 1", "[search.NAME]"});
}

TEST(SearchConfig, ARunBreakingACrossOptionRuleNamesThePointAndTheLine) {
  // bce needs a sigmoid decoder; the search draws identity for some points.
  const std::string message = error_of(
      "[model]\nloss = bce\n[search.s]\nmethod = random\nruns = 8\ndecoder.activation = choice(sigmoid, identity)\n");
  EXPECT_NE(message.find("[search.s]"), std::string::npos) << message;
  EXPECT_NE(message.find("point "), std::string::npos) << message;
  EXPECT_NE(message.find("line 6"), std::string::npos) << message;
  EXPECT_NE(message.find("decoder.activation=identity"), std::string::npos) << message;
}

TEST(SearchPlan, RunsAreAPureFunctionOfTheConfigAndTheirIndex) {
  const StudyConfig config = parse(kSearch);
  const StudyPlan plan(config);
  ASSERT_EQ(plan.size(), 16u);
  ASSERT_EQ(plan.section_count(), 1u);
  EXPECT_EQ(plan.section_header(0), "[search.pen]");
  EXPECT_EQ(plan.swept_keys(0), (std::vector<std::string>{"reg.l1_activity", "reg.dropout", "encoder.activation"}));
  const SearchSpace* space = plan.section_search(0);
  ASSERT_NE(space, nullptr);
  EXPECT_EQ(space->text(),
            "method = sobol\nruns = 16\nseed = 3\nreg.l1_activity = loguniform(1e-07, 0.001)\n"
            "reg.dropout = uniform(0, 0.9)\nencoder.activation = choice(relu, tanh)\n");
  // A second plan, asked in the opposite order, gives the same runs.
  const StudyPlan again(parse(kSearch));
  for (std::size_t i = plan.size(); i-- > 0;) {
    const RunSpec a = again.run(i), b = plan.run(i);
    EXPECT_EQ(a.index, i);
    EXPECT_EQ(a.section, "pen");
    EXPECT_EQ(a.sections, (std::vector<std::string>{"pen"}));
    for (std::size_t k = 0; k < a.settings.size(); ++k) EXPECT_EQ(a.settings[k].value, b.settings[k].value);
  }
  // Values come from the distributions; fixed keys are the defaults.
  std::set<std::string> activations;
  std::vector<double> dropout;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const RunSpec r = plan.run(i);
    const double l1 = parse_number(value_of(r, "reg.l1_activity"));
    EXPECT_GE(l1, 1e-7);
    EXPECT_LE(l1, 1e-3);
    dropout.push_back(parse_number(value_of(r, "reg.dropout")));
    activations.insert(value_of(r, "encoder.activation"));
    EXPECT_EQ(value_of(r, "model.hidden"), "32");
    EXPECT_EQ(value_of(r, "train.seed"), "5");
    EXPECT_EQ(plan.options(i).reg.dropout, dropout.back());
  }
  EXPECT_EQ(activations, (std::set<std::string>{"relu", "tanh"}));
  // Sobol's stratification reaches the values: one of the 16 dropout rates in each sixteenth of
  // [0, 0.9].
  std::set<int> cells;
  for (double d : dropout) cells.insert(int(std::floor(d / 0.9 * 16)));
  EXPECT_EQ(cells.size(), 16u);
}

TEST(SearchPlan, AKeysValuesDoNotDependOnTheOtherKeysOrTheirOrder) {
  const StudyPlan full(parse(kSearch));
  // The same section, lines reordered and without encoder.activation.
  const StudyPlan fewer(parse(
      "[model]\nhidden = 32\n[train]\nepochs = 2\nseed = 5\n[search.pen]\nreg.dropout = uniform(0, 0.9)\n"
      "seed = 3\nreg.l1_activity = loguniform(1e-7, 1e-3)\nruns = 16\nmethod = sobol\n"));
  ASSERT_EQ(fewer.size(), 16u);
  for (std::size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(value_of(full.run(i), "reg.dropout"), value_of(fewer.run(i), "reg.dropout"));
    EXPECT_EQ(value_of(full.run(i), "reg.l1_activity"), value_of(fewer.run(i), "reg.l1_activity"));
  }
  // Another seed, another method: other points.
  const auto replaced = [](std::string text, const std::string& from, const std::string& to) {
    return text.replace(text.find(from), from.size(), to);
  };
  for (const std::string& text : {replaced(kSearch, "seed = 3", "seed = 4"), replaced(kSearch, "method = sobol", "method = random")}) {
    const StudyPlan p(parse(text));
    int differ = 0;
    for (std::size_t i = 0; i < 16; ++i) differ += value_of(p.run(i), "reg.dropout") != value_of(full.run(i), "reg.dropout");
    EXPECT_GE(differ, 15) << text;
  }
}

TEST(SearchPlan, ListsInASearchSectionRunEveryPointWithEachValue) {
  const StudyPlan plan(parse(
      "[search.s]\nmethod = random\nruns = 3\nseed = 1\nreg.dropout = uniform(0, 0.5)\nmodel.hidden = 8, 16\n"
      "train.seed = 1, 2\nnoise.kind = none\n"));
  ASSERT_EQ(plan.size(), 12u);  // 3 points x 2 x 2, point slowest, then the lists in file order
  for (std::size_t i = 0; i < 12; ++i) {
    const RunSpec r = plan.run(i);
    EXPECT_EQ(value_of(r, "reg.dropout"), value_of(plan.run(i / 4 * 4), "reg.dropout")) << i;
    EXPECT_EQ(value_of(r, "model.hidden"), (i / 2) % 2 ? "16" : "8") << i;
    EXPECT_EQ(value_of(r, "train.seed"), i % 2 ? "2" : "1") << i;
  }
  EXPECT_NE(value_of(plan.run(0), "reg.dropout"), value_of(plan.run(4), "reg.dropout"));
  EXPECT_EQ(plan.swept_keys(0), (std::vector<std::string>{"reg.dropout", "model.hidden", "train.seed", "noise.kind"}));
}

TEST(SearchPlan, APointDrawnTwiceIsOneRun) {
  // Two keys of two values each: 20 points hold only 4 distinct runs, trained once each.
  const StudyPlan plan(parse(
      "[search.c]\nmethod = random\nruns = 20\nencoder.activation = choice(relu, tanh)\nmodel.hidden = int(8, 9)\n"));
  EXPECT_EQ(plan.size(), 4u);
  EXPECT_EQ(plan.section_runs(0), (std::vector<std::size_t>{0, 1, 2, 3}));  // each once
  for (std::size_t i = 0; i < plan.size(); ++i) EXPECT_EQ(plan.sections_of(i), (std::vector<std::string>{"c"}));
}

TEST(SearchPlan, SearchAndSweepSectionsMixInOneStudy) {
  const std::string text =
      "[model]\nhidden = 16\n"
      "[sweep.grid]\nmodel.hidden = 8, 16\n"
      "[search.s]\nmethod = sobol\nruns = 6\nseed = 2\nreg.l2_kernel = loguniform(1e-6, 1e-4)\n"
      "[sweep.after]\nmodel.hidden = 16, 32\n"
      "[search.h]\nmethod = random\nruns = 10\nmodel.hidden = choice(8, 32)\n";
  const StudyPlan plan(parse(text));
  // grid 2, search 6, after 1 new (16 is grid's), h: 8 and 32 exist already.
  ASSERT_EQ(plan.size(), 9u);
  EXPECT_EQ(plan.section_count(), 4u);
  EXPECT_EQ(plan.section_header(1), "[search.s]");
  EXPECT_EQ(plan.section_header(2), "[sweep.after]");
  EXPECT_EQ(plan.section_search(0), nullptr);
  ASSERT_NE(plan.section_search(3), nullptr);
  for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(plan.section_of(i), "grid");
  for (std::size_t i = 2; i < 8; ++i) EXPECT_EQ(plan.section_of(i), "s");
  EXPECT_EQ(plan.section_of(8), "after");
  EXPECT_EQ(plan.sections_of(0), (std::vector<std::string>{"grid", "h"}));
  EXPECT_EQ(plan.sections_of(1), (std::vector<std::string>{"grid", "after"}));
  EXPECT_EQ(plan.sections_of(8), (std::vector<std::string>{"after", "h"}));
  const auto h_runs = plan.section_runs(3);  // the runs of hidden 8 and 32, each once
  EXPECT_EQ(std::set<std::size_t>(h_runs.begin(), h_runs.end()), (std::set<std::size_t>{0, 8}));
  EXPECT_EQ(h_runs.size(), 2u);
  EXPECT_EQ(all_runs(plan).size(), 9u);
  // The hash is the same through both forms.
  const StudyConfig config = parse(text);
  EXPECT_EQ(study_hash(config, plan), study_hash(config, expand_study(config)));
}

TEST(SearchPlan, TooManyRunsAreRefusedBeforeAnythingIsDrawn) {
  const std::string message = error_of(
      "[search.big]\nmethod = random\nruns = 1000000\nreg.dropout = uniform(0, 0.5)\nmodel.hidden = 8, 16\n");
  EXPECT_NE(message.find("2,000,000 runs"), std::string::npos) << message;
  EXPECT_NE(message.find("[search.big]: 2,000,000 runs = 1,000,000 points x model.hidden (2)"), std::string::npos)
      << message;
}

TEST(SearchSet, OneValueFixesTheKeyAndLeavesTheOtherKeysDrawsAlone) {
  const StudyPlan plain(parse(kSearch));
  const StudyPlan fixed(parse(kSearch, {"reg.dropout=0.25"}));
  ASSERT_EQ(fixed.size(), 16u);
  for (std::size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(value_of(fixed.run(i), "reg.dropout"), "0.25");
    EXPECT_EQ(value_of(fixed.run(i), "reg.l1_activity"), value_of(plain.run(i), "reg.l1_activity"));
  }
  // Fixing every drawn key leaves one distinct run.
  EXPECT_EQ(StudyPlan(parse(kSearch, {"reg.dropout=0.25", "reg.l1_activity=0", "encoder.activation=relu"})).size(), 1u);
}

TEST(SearchSet, AListRunsEveryPointWithEachValue) {
  const StudyPlan plain(parse(kSearch));
  const StudyConfig config = parse(kSearch, {"train.seed=1,2,3"});
  const StudyPlan seeds(config);
  ASSERT_EQ(seeds.size(), 48u);
  for (std::size_t i = 0; i < 48; ++i) {
    EXPECT_EQ(value_of(seeds.run(i), "train.seed"), std::to_string(i % 3 + 1));
    EXPECT_EQ(value_of(seeds.run(i), "reg.l1_activity"), value_of(plain.run(i / 3), "reg.l1_activity"));
  }
  // A list replacing a drawn key: the points keep the other keys' draws.
  const StudyPlan listed(parse(kSearch, {"reg.dropout=0, 0.5"}));
  ASSERT_EQ(listed.size(), 32u);
  EXPECT_EQ(value_of(listed.run(3), "reg.dropout"), "0.5");
  EXPECT_EQ(value_of(listed.run(3), "encoder.activation"), value_of(plain.run(1), "encoder.activation"));
}

TEST(SearchSet, ADistributionReplacesTheKeyInEverySearchSection) {
  const std::string text = std::string(kSearch) + "[sweep.g]\nreg.dropout = 0, 0.1\n";
  const StudyConfig config = parse(text, {"reg.dropout=uniform(0.5, 0.6)"});
  EXPECT_EQ(config.sweeps[0].axes[1].text, "uniform(0.5, 0.6)");  // in place: same key order
  EXPECT_EQ(config.sweeps[1].axes[0].text, "0, 0.1");              // the sweep keeps its list
  const StudyPlan plan(config);
  for (std::size_t i = 0; i < 16; ++i) {
    const double d = parse_number(value_of(plan.run(i), "reg.dropout"));
    EXPECT_GE(d, 0.5);
    EXPECT_LE(d, 0.6);
  }
  // A new key is drawn too.
  const StudyPlan added(parse(kSearch, {"reg.l2_kernel=loguniform(1e-6, 1e-5)"}));
  EXPECT_GE(parse_number(value_of(added.run(3), "reg.l2_kernel")), 1e-6);
  // Errors name the --set.
  const std::string none = error_of("[sweep.g]\nreg.dropout = 0, 0.1\n", {"reg.dropout=uniform(0, 0.5)"});
  EXPECT_NE(none.find("--set reg.dropout=uniform(0, 0.5)"), std::string::npos) << none;
  EXPECT_NE(none.find("[search.NAME]"), std::string::npos) << none;
  const std::string bad = error_of(kSearch, {"reg.dropout=uniform(0, 2)"});
  EXPECT_NE(bad.find("--set reg.dropout=uniform(0, 2)"), std::string::npos) << bad;
  EXPECT_NE(bad.find("a number in [0, 0.9]"), std::string::npos) << bad;
}

// Every config in jobs/ keeps its hash (archives carry it; a resume with another is refused).
// The grid configs' values were computed before search sections existed; search_penalties.ini's
// pins the Sobol points, the scramble and the distributions' arithmetic, and since issue 12 its
// [schedule] (without it, schedule_config_test checks, the hash is 9f23a026e539af91).
TEST(SearchHash, EveryConfigInJobsKeepsItsHash) {
  const std::map<std::string, std::pair<std::size_t, std::string>> expected = {
      {"activations.ini", {15, "594828ebf38250bf"}},  {"contractive.ini", {20, "0f16c03a8e97b071"}},
      {"demo.ini", {7, "48d8d7b8dfb5cacf"}},          {"denoising.ini", {21, "bb426e47d6df034f"}},
      {"kl_sparsity.ini", {32, "38b8daa970aefb89"}},  {"optimizers.ini", {45, "0577b1a67db6183b"}},
      {"regularization.ini", {227, "2cd9da529cf3d108"}}, {"search_penalties.ini", {200, "423c12c9e69fbb1e"}},
  };
  std::set<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator(AESWEEP_JOBS_DIR)) {
    if (entry.path().extension() != ".ini") continue;
    const std::string name = entry.path().filename().string();
    found.insert(name);
    const auto it = expected.find(name);
    if (it == expected.end()) {
      ADD_FAILURE() << "jobs/" << name << " has no recorded hash: add it to this test";
      continue;
    }
    const StudyConfig config = load_study_config(entry.path().string(), {});
    const StudyPlan plan(config);
    EXPECT_EQ(plan.size(), it->second.first) << name;
    EXPECT_EQ(study_hash(config, plan), it->second.second) << name;
  }
  for (const auto& [name, value] : expected) EXPECT_TRUE(found.count(name)) << "jobs/" << name << " is gone";
}

TEST(SearchHash, ThePenaltySearchIsWhatIssue12Asks) {
  const StudyConfig config = load_study_config(std::string(AESWEEP_JOBS_DIR) + "/search_penalties.ini", {});
  const StudyPlan plan(config);
  ASSERT_EQ(plan.section_count(), 1u);
  const SearchSpace* space = plan.section_search(0);
  ASSERT_NE(space, nullptr);
  EXPECT_EQ(space->method, SearchMethod::sobol);
  EXPECT_EQ(space->points, 200u);
  EXPECT_EQ(space->distributions,
            (std::vector<std::pair<std::string, std::string>>{{"reg.l1_activity", "loguniform(1e-07, 0.001)"},
                                                              {"reg.l2_activity", "loguniform(1e-07, 0.001)"},
                                                              {"reg.l1_kernel", "loguniform(1e-07, 0.001)"},
                                                              {"reg.l2_kernel", "loguniform(1e-07, 0.001)"},
                                                              {"reg.dropout", "uniform(0, 0.9)"}}));
  EXPECT_EQ(config.defaults.training.epochs, 27);
  EXPECT_EQ(config.defaults.model.hidden, 196);
}

}  // namespace
}  // namespace aesweep
