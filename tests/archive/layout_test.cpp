// Tests of the archive's private names and record layouts (src/archive/layout.cpp).
#include "layout.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "aesweep/core/error.hpp"

namespace aesweep {
namespace {

TEST(Layout, RunNamesSortInIndexOrder) {
  EXPECT_EQ(layout::run_name(0), "000000");
  EXPECT_EQ(layout::run_name(42), "000042");
  EXPECT_EQ(layout::run_name(999999), "999999");
  EXPECT_EQ(layout::run_path(7), "runs/000007");
}

TEST(Layout, SettingsTextRoundTripsEscapes) {
  const std::vector<Setting> settings = {
      {"reg.l1_activity", "5e-05", 5e-5},
      {"notes", "two\nlines \\ and = signs", std::nullopt},
      {"empty", "", std::nullopt},
  };
  const std::string text = layout::settings_text(settings);
  EXPECT_EQ(text.find("reg.l1_activity = 5e-05\n"), 0u);
  const auto back = layout::parse_settings_text(text);
  ASSERT_EQ(back.size(), settings.size());
  for (std::size_t i = 0; i < settings.size(); ++i) {
    EXPECT_EQ(back[i].first, settings[i].key);
    EXPECT_EQ(back[i].second, settings[i].value);
  }
}

TEST(Layout, SettingsTextRefusesKeysThatWouldNotSplitBack) {
  EXPECT_THROW((void)layout::settings_text({{"a=b", "1", std::nullopt}}), ArchiveError);
  EXPECT_THROW((void)layout::settings_text({{"", "1", std::nullopt}}), ArchiveError);
  EXPECT_THROW((void)layout::parse_settings_text("no separator\n"), ArchiveError);
}

TEST(Layout, RecordFieldsAreSetAndReadBack) {
  layout::RecordLayout r;
  r.add("i", layout::FieldKind::i64);
  r.add("s", layout::FieldKind::str, 4);
  r.add("x", layout::FieldKind::f64);
  r.add("u", layout::FieldKind::u8);
  r.add("n", layout::FieldKind::i32);
  EXPECT_EQ(r.size(), 8u + 4u + 8u + 1u + 4u);  // packed
  EXPECT_THROW(r.add("x", layout::FieldKind::f64), ArchiveError);
  std::vector<char> rec = r.blank();
  EXPECT_TRUE(std::isnan(r.get_f64(rec.data(), "x")));
  r.set_i64(rec.data(), "i", -7);
  r.set_str(rec.data(), "s", "toolong");
  r.set_f64(rec.data(), "x", 2.5);
  r.set_u8(rec.data(), "u", 3);
  r.set_i32(rec.data(), "n", 11);
  EXPECT_EQ(r.get_i64(rec.data(), "i"), -7);
  EXPECT_EQ(r.get_str(rec.data(), "s"), "tool");  // cut to the column width
  EXPECT_EQ(r.get_f64(rec.data(), "x"), 2.5);
  EXPECT_EQ(r.get_u8(rec.data(), "u"), 3);
  EXPECT_EQ(r.get_i32(rec.data(), "n"), 11);
  EXPECT_THROW(r.set_f64(rec.data(), "i", 1.0), ArchiveError);  // wrong type
  EXPECT_THROW((void)r.get_f64(rec.data(), "missing"), ArchiveError);
  const h5::Datatype type = r.datatype();
  EXPECT_EQ(type.size(), r.size());
  EXPECT_EQ(H5Tget_nmembers(type.id()), 5);
}

TEST(Layout, OutcomeRoundTripsAndReservesItsColumnNames) {
  layout::RecordLayout r;
  layout::add_outcome_fields(r, true);
  RunOutcome o;
  o.state = RunStatus::diverged;
  o.metrics.test_mse = 0.5;
  o.metrics.dead_units = 4;
  o.epochs_run = 3;
  o.wall_seconds = 1.25;
  o.samples_per_second = 99;
  o.rank = 2;
  o.host = std::string(100, 'h');
  o.error = "boom";
  std::vector<char> rec = r.blank();
  layout::put_outcome(r, rec.data(), o, true);
  const RunOutcome back = layout::get_outcome(r, rec.data());
  EXPECT_EQ(back.state, RunStatus::diverged);
  EXPECT_EQ(back.metrics.test_mse, 0.5);
  EXPECT_EQ(back.metrics.dead_units, 4);
  EXPECT_EQ(back.epochs_run, 3);
  EXPECT_EQ(back.rank, 2);
  EXPECT_EQ(back.host, std::string(layout::kHostBytes, 'h'));
  EXPECT_EQ(back.error, "boom");
  EXPECT_TRUE(layout::is_reserved_column("test_mse"));
  EXPECT_TRUE(layout::is_reserved_column("index"));
  EXPECT_TRUE(layout::is_reserved_column("state"));
  EXPECT_FALSE(layout::is_reserved_column("reg.l1_activity"));
}

}  // namespace
}  // namespace aesweep
