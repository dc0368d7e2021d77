// Study config files: defaults, [data], [sweep.NAME] sections, --set overrides, and every error,
// each naming the file, the line and the key. Files are written to a temporary directory and
// read through load_study_config.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "aesweep/config/grid.hpp"
#include "aesweep/config/study_config.hpp"
#include "aesweep/core/error.hpp"
#include "config_errors.hpp"
#include "support/test_support.hpp"

namespace aesweep {
namespace {

class StudyConfigFile : public ::testing::Test {
 protected:
  std::string write(const std::string& text, const std::string& name = "study.ini") {
    const std::string path = dir_.file(name);
    test::write_text(path, text);
    return path;
  }
  StudyConfig load(const std::string& text, const std::vector<std::string>& overrides = {}) {
    path_ = write(text);
    return load_study_config(path_, overrides);
  }
  // The ConfigError message of loading and expanding `text`, "" when there is none.
  std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
    return test::config_error_of([&] { expand_study(load(text, overrides)); });
  }
  // Expects an error naming the file, each of `parts` (e.g. "line 3", the key).
  void expect_error(const std::string& text, std::initializer_list<std::string> parts,
                    const std::vector<std::string>& overrides = {}) {
    test::expect_config_error(error_of(text, overrides), text, path_, parts);
  }
  test::TempDir dir_;
  std::string path_;
};

TEST_F(StudyConfigFile, DefaultsDataAndSweepSections) {
  const StudyConfig c = load(
      "# a comment\n"
      "[model]\n"
      "hidden = 64\n"
      "bias = false\n"
      "[encoder]\n"
      "activation = tanh   # trailing comment\n"
      "[reg]\n"
      "l1_activity = 1e-4\n"
      "kernel_scope = both\n"
      "[train]\n"
      "epochs = 3\n"
      "seed = 42\n"
      "[data]\n"
      "dir = /some/where\n"
      "train_samples = 500\n"
      "test_samples = 100\n"
      "[sweep.activity]\n"
      "reg.l1_activity = 0, 1e-5\n"
      "model.hidden = 16, 32, 64\n"
      "[sweep.kernel]\n"
      "reg.l2_kernel = logspace(-5, -3, 3)\n");
  EXPECT_EQ(c.path, path_);
  EXPECT_NE(c.text.find("[sweep.kernel]"), std::string::npos);
  EXPECT_EQ(c.defaults.model.hidden, 64);
  EXPECT_FALSE(c.defaults.model.use_bias);
  EXPECT_EQ(c.defaults.model.encoder_activation, Activation::tanh);
  EXPECT_EQ(c.defaults.reg.l1_activity, 1e-4);
  EXPECT_EQ(c.defaults.reg.kernel_scope, KernelScope::both);
  EXPECT_EQ(c.defaults.training.epochs, 3);
  EXPECT_EQ(c.defaults.training.seed, 42u);
  EXPECT_EQ(c.data.dir, "/some/where");
  EXPECT_EQ(c.data.train_samples, 500u);
  EXPECT_EQ(c.data.test_samples, 100u);
  ASSERT_EQ(c.sweeps.size(), 2u);
  EXPECT_EQ(c.sweeps[0].name, "activity");
  EXPECT_NE(c.sweeps[0].origin.find("line 17"), std::string::npos) << c.sweeps[0].origin;
  ASSERT_EQ(c.sweeps[0].axes.size(), 2u);
  EXPECT_EQ(c.sweeps[0].axes[0].key, "reg.l1_activity");
  EXPECT_EQ(c.sweeps[0].axes[0].text, "0, 1e-5");
  EXPECT_NE(c.sweeps[0].axes[0].origin.find(path_ + " line 18"), std::string::npos) << c.sweeps[0].axes[0].origin;
  EXPECT_EQ(c.sweeps[0].axes[1].key, "model.hidden");
  EXPECT_EQ(c.sweeps[1].name, "kernel");
  ASSERT_EQ(c.sweeps[1].axes.size(), 1u);
  EXPECT_EQ(c.sweeps[1].axes[0].text, "logspace(-5, -3, 3)");

  const auto runs = expand_study(c);
  ASSERT_EQ(runs.size(), 2u * 3u + 3u);
  // Every run keeps the defaults it does not sweep.
  for (const auto& r : runs) {
    EXPECT_EQ(r.options.training.epochs, 3);
    EXPECT_EQ(r.options.model.encoder_activation, Activation::tanh);
  }
  EXPECT_EQ(runs[0].section, "activity");
  EXPECT_EQ(runs[8].section, "kernel");
  EXPECT_EQ(runs[8].options.reg.l2_kernel, 1e-3);
  EXPECT_EQ(runs[8].options.model.hidden, 64);
}

TEST_F(StudyConfigFile, EmptyPathMeansDefaultsOnly) {
  const StudyConfig c = load_study_config("", {});
  EXPECT_TRUE(c.path.empty());
  EXPECT_TRUE(c.sweeps.empty());
  const auto runs = expand_study(c);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].section, "");
  EXPECT_EQ(runs[0].options.model.hidden, TrainOptions{}.model.hidden);
}

TEST_F(StudyConfigFile, SetSingleValueReplacesASweptKeyEverywhere) {
  const StudyConfig c = load(
      "[sweep.a]\n"
      "reg.l1_activity = 0, 1e-5, 1e-4\n"
      "model.hidden = 16, 32\n"
      "[sweep.b]\n"
      "reg.l1_activity = 1e-3, 1e-2\n",
      {"reg.l1_activity=5e-5", "train.epochs=2"});
  EXPECT_EQ(c.defaults.reg.l1_activity, 5e-5);
  EXPECT_EQ(c.defaults.training.epochs, 2);
  ASSERT_EQ(c.sweeps.size(), 2u);
  ASSERT_EQ(c.sweeps[0].axes.size(), 1u);
  EXPECT_EQ(c.sweeps[0].axes[0].key, "model.hidden");
  EXPECT_TRUE(c.sweeps[1].axes.empty());
  EXPECT_EQ(c.overrides, (std::vector<std::string>{"reg.l1_activity=5e-5", "train.epochs=2"}));
  const auto runs = expand_study(c);
  // Section a: 2 runs over model.hidden; section b: one run of the defaults.
  ASSERT_EQ(runs.size(), 3u);
  for (const auto& r : runs) {
    EXPECT_EQ(r.options.reg.l1_activity, 5e-5);
    EXPECT_EQ(r.options.training.epochs, 2);
  }
  EXPECT_EQ(runs[0].options.model.hidden, 16);
  EXPECT_EQ(runs[1].options.model.hidden, 32);
  EXPECT_EQ(runs[2].section, "b");
}

TEST_F(StudyConfigFile, SetListBecomesAnAxisOfEverySection) {
  const StudyConfig c = load(
      "[model]\n"
      "hidden = 8\n"
      "[sweep.a]\n"
      "reg.l1_activity = 0, 1e-5\n"
      "[sweep.b]\n"
      "reg.l2_kernel = 1e-4\n",
      {"train.seed=1,2,3"});
  ASSERT_EQ(c.sweeps.size(), 2u);
  for (const auto& s : c.sweeps) {
    ASSERT_FALSE(s.axes.empty());
    EXPECT_EQ(s.axes.back().key, "train.seed");
    EXPECT_EQ(s.axes.back().origin, "--set train.seed=1,2,3");
  }
  const auto runs = expand_study(c);
  ASSERT_EQ(runs.size(), 2u * 3u + 3u);
  // The override is the last axis, so it varies fastest.
  EXPECT_EQ(runs[0].options.training.seed, 1u);
  EXPECT_EQ(runs[1].options.training.seed, 2u);
  EXPECT_EQ(runs[2].options.training.seed, 3u);
  EXPECT_EQ(runs[3].options.reg.l1_activity, 1e-5);
  EXPECT_EQ(runs[3].options.training.seed, 1u);
  EXPECT_EQ(runs[6].section, "b");
}

TEST_F(StudyConfigFile, SetListOnASweptKeyReplacesItsValues) {
  const StudyConfig c = load("[sweep.a]\nreg.l1_activity = 0, 1e-5\nmodel.hidden = 4, 8\n",
                             {"reg.l1_activity=linspace(0, 1e-4, 3)"});
  ASSERT_EQ(c.sweeps[0].axes.size(), 2u);
  EXPECT_EQ(c.sweeps[0].axes[0].key, "model.hidden");
  EXPECT_EQ(c.sweeps[0].axes[1].key, "reg.l1_activity");
  EXPECT_EQ(expand_study(c).size(), 6u);
}

TEST_F(StudyConfigFile, SetListWithoutSweepsMakesACliSection) {
  const StudyConfig c = load("[model]\nhidden = 8\n", {"reg.dropout=0, 0.5"});
  ASSERT_EQ(c.sweeps.size(), 1u);
  EXPECT_EQ(c.sweeps[0].name, "cli");
  const auto runs = expand_study(c);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].options.reg.dropout, 0.5);
  EXPECT_EQ(runs[1].options.model.hidden, 8);
}

TEST_F(StudyConfigFile, SetDataKeys) {
  const StudyConfig c = load("[data]\ndir = /a\n", {"data.dir=/b", "data.train_samples=10"});
  EXPECT_EQ(c.data.dir, "/b");
  EXPECT_EQ(c.data.train_samples, 10u);
}

// ---- Errors ----

TEST_F(StudyConfigFile, UnknownKeyInADefaultsSection) {
  expect_error("[model]\nhidden = 8\n[reg]\nl3_activity = 1\n", {"line 4", "reg.l3_activity", "unknown"});
}

TEST_F(StudyConfigFile, UnknownKeyInASweepSection) {
  expect_error("[sweep.x]\nreg.l1_activity = 0, 1\nreg.bogus = 1, 2\n", {"line 3", "bogus", "unknown"});
}

TEST_F(StudyConfigFile, UnknownSection) {
  expect_error("[modle]\nhidden = 8\n", {"line 2", "modle.hidden", "unknown"});
}

TEST_F(StudyConfigFile, BadValueInDefaults) {
  // Out of range: the message names the line and the key.
  expect_error("[model]\nhidden = 8\n[reg]\ndropout = 1.5\n", {"line 4", "reg.dropout", "1.5"});
  // Not a number.
  expect_error("[reg]\nl1_activity = 1e-4x\n", {"line 2", "reg.l1_activity", "1e-4x"});
  // Not an integer.
  expect_error("[model]\nhidden = 12.5\n", {"line 2", "model.hidden", "12.5"});
  // Not a boolean.
  expect_error("[model]\nbias = maybe\n", {"line 2", "model.bias", "maybe"});
}

TEST_F(StudyConfigFile, BadValueInDefaultsWithSweeps) {
  expect_error("[reg]\ndropout = 1.5\n[sweep.a]\nmodel.hidden = 4, 8\n", {"line 2", "reg.dropout", "1.5"});
}

TEST_F(StudyConfigFile, BadValueInASweep) {
  expect_error("[sweep.a]\nmodel.hidden = 4, 8\nreg.dropout = 0, 0.5, 1.5\n", {"line 3", "reg.dropout", "1.5"});
  expect_error("[sweep.a]\nmodel.hidden = 4, eight\n", {"line 2", "model.hidden", "eight"});
}

TEST_F(StudyConfigFile, ListInADefaultsSection) {
  expect_error("[reg]\nl1_activity = 0, 1e-5\n", {"line 2", "reg.l1_activity", "sweep"});
  expect_error("[reg]\nl1_activity = linspace(0, 1, 3)\n", {"line 2", "reg.l1_activity", "sweep"});
}

TEST_F(StudyConfigFile, EmptySweepSection) {
  expect_error("[sweep.a]\nmodel.hidden = 4, 8\n[sweep.empty]\n[model]\nhidden = 8\n", {"line 3", "sweep.empty", "no keys"});
}

TEST_F(StudyConfigFile, LinspaceCountZero) {
  expect_error("[sweep.a]\nreg.l1_activity = linspace(0, 1e-4, 0)\n", {"line 2", "reg.l1_activity", "count"});
}

TEST_F(StudyConfigFile, MalformedLineWithoutEquals) {
  expect_error("[model]\nhidden 8\n", {"line 2", "hidden 8", "key = value"});
}

TEST_F(StudyConfigFile, DuplicateKey) {
  expect_error("[model]\nhidden = 8\nbias = true\nhidden = 16\n", {"line 4", "hidden", "twice", "line 2"});
  // The same key in two sweep sections is fine.
  EXPECT_EQ(error_of("[sweep.a]\nmodel.hidden = 4, 8\n[sweep.b]\nmodel.hidden = 16, 32\n"), "");
}

TEST_F(StudyConfigFile, DuplicateSection) {
  expect_error("[model]\nhidden = 8\n[model]\nbias = true\n", {"line 3", "[model]", "twice"});
}

TEST_F(StudyConfigFile, UnterminatedSectionHeader) {
  expect_error("[model\nhidden = 8\n", {"line 1", "closing ]"});
}

TEST_F(StudyConfigFile, KeyWithoutValue) {
  expect_error("[model]\nhidden =\n", {"line 2", "hidden", "no value"});
}

TEST_F(StudyConfigFile, UnknownEnumValueListsTheAcceptedValues) {
  const std::string message = error_of("[encoder]\nactivation = softplus\n");
  ASSERT_FALSE(message.empty());
  for (const char* part : {"line 2", "encoder.activation", "softplus", "relu", "sigmoid", "tanh", "identity", "negative"})
    EXPECT_NE(message.find(part), std::string::npos) << "lacks '" << part << "': " << message;
  expect_error("[sweep.o]\noptimizer.name = adam, adamw\n", {"line 2", "optimizer.name", "adamw", "rmsprop"});
}

TEST_F(StudyConfigFile, DataKeysCannotBeSwept) {
  expect_error("[sweep.a]\ndata.train_samples = 10, 20\n", {"line 2", "data.train_samples"});
}

TEST_F(StudyConfigFile, BadDataValue) {
  expect_error("[data]\ntrain_samples = -5\n", {"line 2", "data.train_samples"});
  expect_error("[data]\nshuffle = true\n", {"line 2", "data.shuffle"});
}

TEST_F(StudyConfigFile, CrossFieldRuleNamesTheSweep) {
  // bce needs a sigmoid decoder: caught when the run is assembled, naming the section.
  expect_error("[sweep.a]\ndecoder.activation = sigmoid, identity\nmodel.loss = bce\n", {"sweep.a", "bce"});
}

TEST_F(StudyConfigFile, OverrideErrors) {
  const std::string path = write("[model]\nhidden = 8\n");
  auto message_of = [&](const std::vector<std::string>& overrides) -> std::string {
    try {
      expand_study(load_study_config(path, overrides));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  const std::string no_equals = message_of({"model.hidden"});
  EXPECT_NE(no_equals.find("--set model.hidden"), std::string::npos) << no_equals;
  EXPECT_NE(no_equals.find("KEY=VALUE"), std::string::npos) << no_equals;
  const std::string unknown = message_of({"model.hiden=8"});
  EXPECT_NE(unknown.find("model.hiden"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("unknown"), std::string::npos) << unknown;
  const std::string bad = message_of({"model.hidden=lots"});
  EXPECT_NE(bad.find("--set model.hidden=lots"), std::string::npos) << bad;
  const std::string range = message_of({"reg.dropout=2"});
  EXPECT_NE(range.find("reg.dropout"), std::string::npos) << range;
  EXPECT_NE(range.find("--set"), std::string::npos) << range;
}

TEST_F(StudyConfigFile, MissingFile) {
  const std::string path = dir_.file("does-not-exist.ini");
  try {
    load_study_config(path, {});
    FAIL() << "accepted a missing file";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find("cannot be opened"), std::string::npos) << m;
  }
}

TEST_F(StudyConfigFile, ParseFromMemoryNamesTheGivenPath) {
  try {
    parse_study_config("[model]\nhidden = x\n", "memory.ini", {});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("memory.ini line 2"), std::string::npos) << e.what();
  }
}

// ---- Issue 9: what was accepted and must not be, and messages a user can act on ----

TEST_F(StudyConfigFile, DottedTypoInASweepSectionIsAnErrorNotANewSection) {
  // Boost's parser flattened this into "sweep.s.encoder.reg.l1_activity", which became section
  // "s.encoder": the typo silently made a second grid.
  expect_error("[sweep.s]\nmodel.hidden = 8, 16\nencoder.reg.l1_activity = 0, 1e-4\n",
               {"line 3", "unknown key 'encoder.reg.l1_activity'", "[sweep.s]", "[sweep.NAME]"});
  // A dotted key that ends in a real option's name is no better.
  expect_error("[sweep.s]\nx.model.hidden = 8, 16\n", {"line 2", "'x.model.hidden'", "[sweep.s]"});
  // Only a header makes a section, and a dotted name is that section's own name.
  const StudyConfig c = load("[sweep.s.encoder]\nreg.l1_activity = 0, 1e-4\n");
  ASSERT_EQ(c.sweeps.size(), 1u);
  EXPECT_EQ(c.sweeps[0].name, "s.encoder");
}

TEST_F(StudyConfigFile, KeysOfOneSweepSectionStayInIt) {
  const StudyConfig c = load("[sweep.a]\nmodel.hidden = 8, 16\n[sweep.b]\nreg.l1_activity = 0, 1e-4\n");
  ASSERT_EQ(c.sweeps.size(), 2u);
  ASSERT_EQ(c.sweeps[0].axes.size(), 1u);
  EXPECT_EQ(c.sweeps[0].axes[0].key, "model.hidden");
  ASSERT_EQ(c.sweeps[1].axes.size(), 1u);
  EXPECT_EQ(c.sweeps[1].axes[0].key, "reg.l1_activity");
}

TEST_F(StudyConfigFile, LoneUnknownKeyInASweepSectionIsAnUnknownKey) {
  const std::string message = error_of("[model]\nhidden = 8\n[sweep.s]\nbogus = 1, 2\n");
  EXPECT_NE(message.find("line 4"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown key 'bogus'"), std::string::npos) << message;
  EXPECT_EQ(message.find("has no keys"), std::string::npos) << message;
}

TEST_F(StudyConfigFile, SweepHeaderWithoutAName) {
  for (const char* header : {"[sweep]", "[sweep.]", "[ sweep. ]"}) {
    const std::string message = error_of(std::string("[model]\nhidden = 8\n") + header + "\nmodel.hidden = 8, 16\n");
    EXPECT_NE(message.find("line 3"), std::string::npos) << header << ": " << message;
    EXPECT_NE(message.find("[sweep.NAME]"), std::string::npos) << header << ": " << message;
    EXPECT_EQ(message.find("unknown option"), std::string::npos) << header << ": " << message;
  }
}

TEST_F(StudyConfigFile, SweepKeysOutsideASection) {
  expect_error("sweep.s.model.hidden = 8, 16\n", {"line 1", "[sweep.NAME]"});
}

TEST_F(StudyConfigFile, ByteOrderMarkIsSkipped) {
  const StudyConfig c = load("\xEF\xBB\xBF[model]\nhidden = 12\n[sweep.s]\nreg.l1_activity = 0, 1e-4\n");
  EXPECT_EQ(c.defaults.model.hidden, 12);
  ASSERT_EQ(c.sweeps.size(), 1u);
  EXPECT_EQ(expand_study(c).size(), 2u);
  // Only at the start of the file.
  expect_error("[model]\n\xEF\xBB\xBFhidden = 12\n", {"line 2"});
}

TEST_F(StudyConfigFile, IntegerOptionsQuoteTheirOwnRange) {
  const std::string message = error_of("[model]\nhidden = 8.5\n");
  EXPECT_NE(message.find("line 2"), std::string::npos) << message;
  EXPECT_NE(message.find("model.hidden"), std::string::npos) << message;
  EXPECT_NE(message.find("an integer in [1, 100000]"), std::string::npos) << message;
  EXPECT_EQ(message.find("2147483647"), std::string::npos) << message;
  const std::string epochs = error_of("[train]\nepochs = 0\n");
  EXPECT_NE(epochs.find("an integer in [1, 100000], got '0'"), std::string::npos) << epochs;
  const std::string rho = error_of("[sweep.s]\nreg.kl_rho = 0.5, 1\n");
  EXPECT_NE(rho.find("line 2"), std::string::npos) << rho;
  EXPECT_NE(rho.find("a number in (0, 1), got '1'"), std::string::npos) << rho;
}

TEST_F(StudyConfigFile, HugeBadValueIsNotEchoedWhole) {
  const std::string huge(1000000, '7');
  for (const std::string& text : {"[model]\nhidden = " + huge + "x\n", "[encoder]\nactivation = " + huge + "\n",
                                  "[sweep.s]\nreg.l1_activity = 0, " + huge + "x\n", "[model]\n" + huge + "\n"}) {
    const std::string message = error_of(text);
    ASSERT_FALSE(message.empty());
    EXPECT_LT(message.size(), 600u) << message.substr(0, 600);
    EXPECT_NE(message.find("bytes)"), std::string::npos) << message.substr(0, 600);
    EXPECT_NE(message.find("line 2"), std::string::npos) << message.substr(0, 600);
  }
}

TEST_F(StudyConfigFile, CrossOptionRulesNameALine) {
  // Each rule relating two options names the line of one of them (and where the other is).
  expect_error("[model]\nhidden = 8\n[noise]\nkind = masking\nlevel = 1.5\n", {"line 5", "noise.level", "line 4"});
  expect_error("[model]\nloss = bce\n[decoder]\nactivation = identity\n", {"line 2", "model.loss", "line 4"});
  expect_error("[model]\nhidden = 8\n[train]\npatience = 3\n", {"line 4", "train.patience", "validation_split"});
  // From the command line: the option is named.
  const std::string message = error_of("[model]\nhidden = 8\n", {"noise.kind=salt_pepper", "noise.level=2"});
  EXPECT_NE(message.find("--set noise.level=2"), std::string::npos) << message;
}

TEST_F(StudyConfigFile, ARunBreakingARuleNamesItsLineOnce) {
  const std::string message = error_of("[model]\nloss = bce\n[sweep.a]\ndecoder.activation = sigmoid, identity\n");
  EXPECT_NE(message.find(path_ + " line 4"), std::string::npos) << message;
  EXPECT_NE(message.find("[sweep.a]"), std::string::npos) << message;
  EXPECT_NE(message.find("decoder.activation=identity"), std::string::npos) << message;
  EXPECT_NE(message.find("line 2"), std::string::npos) << "names where model.loss is set: " << message;
  // The location is given once, not "FILE line 4: FILE line 3 [sweep.a] ...".
  EXPECT_EQ(message.find(path_ + " line 3"), std::string::npos) << message;
  std::size_t mentions = 0;
  for (auto at = message.find(path_); at != std::string::npos; at = message.find(path_, at + 1)) ++mentions;
  EXPECT_EQ(mentions, 2u) << "the run's line and model.loss's line, each once: " << message;
}

TEST_F(StudyConfigFile, SampleCountsKeepTheirRange) {
  for (const char* bad : {"-5", "-1", "2.5", "1e20", "many"}) {
    const std::string message = error_of(std::string("[data]\ntrain_samples = ") + bad + "\n");
    EXPECT_NE(message.find("line 2"), std::string::npos) << bad << ": " << message;
    EXPECT_NE(message.find("data.train_samples"), std::string::npos) << message;
    EXPECT_NE(message.find("[0, 1000000000]"), std::string::npos) << message;
  }
  EXPECT_EQ(load("[data]\ntest_samples = 1e3\n").data.test_samples, 1000u);
}

TEST_F(StudyConfigFile, EmptyDataDirectoryIsRefused) {
  // A config line "dir =" has no value; an override may still try.
  expect_error("[data]\ndir =\n", {"line 2", "dir", "no value"});
  const std::string message = error_of("[model]\nhidden = 8\n", {"data.dir="});
  EXPECT_NE(message.find("data.dir"), std::string::npos) << message;
  EXPECT_NE(message.find("empty"), std::string::npos) << message;
  const std::string spaces = error_of("[model]\nhidden = 8\n", {"data.dir=   "});
  EXPECT_NE(spaces.find("empty"), std::string::npos) << spaces;
}

TEST_F(StudyConfigFile, TheSameDefaultTwice) {
  expect_error("model.hidden = 8\n[model]\nhidden = 16\n", {"line 3", "model.hidden", "line 1"});
}

TEST_F(StudyConfigFile, UnknownSectionIsNamed) {
  expect_error("[modle]\nhidden = 8\n", {"line 2", "'modle.hidden'", "[modle]", "sweep.NAME"});
}

TEST_F(StudyConfigFile, ConfigPathThatIsALoopOrADirectory) {
  const std::string a = dir_.file("loop-a.ini"), b = dir_.file("loop-b.ini");
  std::filesystem::create_symlink(b, a);
  std::filesystem::create_symlink(a, b);
  try {
    load_study_config(a, {});
    FAIL() << "accepted a symlink loop";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(a), std::string::npos) << m;
    EXPECT_NE(m.find("symbolic links"), std::string::npos) << m;
  }
  try {
    load_study_config(dir_.file(""), {});
    FAIL() << "read a directory as an empty config";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("directory"), std::string::npos) << e.what();
  }
}

TEST_F(StudyConfigFile, OverrideOriginsNameTheOption) {
  try {
    parse_study_config("", "x.ini", {"model.hidden=0"}, {"--model.hidden 0"});
    FAIL();
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("--model.hidden 0: model.hidden: expected an integer in [1, 100000]", 0), 0u) << m;
  }
}

TEST(StudyConfig, IsDataKey) {
  EXPECT_TRUE(is_data_key("data.dir"));
  EXPECT_TRUE(is_data_key("data.train_samples"));
  EXPECT_FALSE(is_data_key("model.hidden"));
  EXPECT_FALSE(is_data_key("dataset"));
}

}  // namespace
}  // namespace aesweep
