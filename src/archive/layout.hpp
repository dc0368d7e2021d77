#pragma once
// Private to the archive module: names and record layouts shared by the writer and the reader.
// docs/archive.md describes the same layout for h5py/h5dump users; keep both in step.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aesweep/archive/h5.hpp"
#include "aesweep/archive/sweep_archive_reader.hpp"

namespace aesweep::layout {

inline constexpr const char* kDatasetGroup = "dataset";
inline constexpr const char* kRunsGroup = "runs";
inline constexpr const char* kSectionsGroup = "sections";
inline constexpr const char* kRunsState = "runs_state";
// Scheduled studies only (a [schedule] section): per run the rung reached with its state whole on
// disk (0 none, k + 1 rung k), and each run's training checkpoint at that rung.
inline constexpr const char* kRunsRung = "runs_rung";
inline constexpr const char* kCheckpoint = "checkpoint";
inline constexpr const char* kSummary = "summary";

// Per-run datasets.
inline constexpr const char* kEncoderKernel = "encoder_kernel";
inline constexpr const char* kEncoderBias = "encoder_bias";
inline constexpr const char* kDecoderKernel = "decoder_kernel";
inline constexpr const char* kDecoderBias = "decoder_bias";
inline constexpr const char* kLatentTest = "latent_test";
inline constexpr const char* kReconstructions = "reconstructions";
inline constexpr const char* kMetrics = "metrics";
// The per-epoch curves are named by curve_fields() (core/run_result.hpp).

// Per-run attributes that are not settings.
inline constexpr const char* kIndexAttr = "index";
inline constexpr const char* kSectionAttr = "section";
inline constexpr const char* kSectionsAttr = "sections";  // every section listing the run, one per line
inline constexpr const char* kSettingsAttr = "settings";

inline constexpr std::size_t kHostBytes = 64;
inline constexpr std::size_t kErrorBytes = 512;

// "000042": six digits, wider only past 999999 runs, so name order is index order.
std::string run_name(std::size_t index);
// "runs/000042"
std::string run_path(std::size_t index);

// Settings as one text attribute, "key = value" per line in registry order; backslashes and
// newlines in values are escaped so the text always splits back into the same settings.
std::string settings_text(const std::vector<Setting>& settings);
std::vector<std::pair<std::string, std::string>> parse_settings_text(std::string_view text);

enum class FieldKind { f64, i64, i32, u8, str };

struct Field {
  std::string name;
  FieldKind kind;
  std::size_t size;    // bytes
  std::size_t offset;  // bytes from the start of the record
};

// A packed compound record: the same byte layout in memory and in the file, so h5py sees the
// columns in the order they were added.
class RecordLayout {
 public:
  void add(const std::string& name, FieldKind kind, std::size_t string_bytes = 0);
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] const std::vector<Field>& fields() const { return fields_; }
  [[nodiscard]] std::optional<std::size_t> find(std::string_view name) const;
  [[nodiscard]] h5::Datatype datatype() const;
  [[nodiscard]] std::vector<char> blank() const;  // NaN floats, zero integers, empty strings

  void set_f64(char* record, std::string_view name, double v) const;
  void set_i64(char* record, std::string_view name, std::int64_t v) const;
  void set_i32(char* record, std::string_view name, std::int32_t v) const;
  void set_u8(char* record, std::string_view name, std::uint8_t v) const;
  void set_str(char* record, std::string_view name, std::string_view v) const;  // cut to fit
  [[nodiscard]] double get_f64(const char* record, std::string_view name) const;
  [[nodiscard]] std::int64_t get_i64(const char* record, std::string_view name) const;
  [[nodiscard]] std::int32_t get_i32(const char* record, std::string_view name) const;
  [[nodiscard]] std::uint8_t get_u8(const char* record, std::string_view name) const;
  [[nodiscard]] std::string get_str(const char* record, std::string_view name) const;

 private:
  [[nodiscard]] const Field& field(std::string_view name, FieldKind kind) const;
  std::vector<Field> fields_;
  std::size_t size_ = 0;
};

// The outcome columns shared by /runs/<i>/metrics and /summary. with_state: include "state"
// (the summary places it before the hyperparameters instead).
void add_outcome_fields(RecordLayout& layout, bool with_state);
void put_outcome(const RecordLayout& layout, char* record, const RunOutcome& outcome, bool with_state);
[[nodiscard]] RunOutcome get_outcome(const RecordLayout& layout, const char* record);
// Names the outcome and bookkeeping columns use; settings may not take them.
[[nodiscard]] bool is_reserved_column(std::string_view name);

}  // namespace aesweep::layout
