#include "aesweep/archive/sweep_archive.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <utility>

#include "aesweep/archive/h5.hpp"
#include "aesweep/archive/pareto.hpp"
#include "aesweep/archive/sweep_archive_reader.hpp"
#include "aesweep/archive/writer_lock.hpp"
#include "aesweep/core/error.hpp"
#include "aesweep/core/trainer.hpp"
#include "aesweep/dist/communicator.hpp"
#include "layout.hpp"

namespace aesweep {

std::string bytes_text(double bytes) {
  const char* units[] = {"bytes", "KB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (bytes >= 1000 && u < 5) {
    bytes /= 1000;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return text;
}

std::optional<FreeSpace> free_space_for(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  FreeSpace s;
  s.file = fs::absolute(fs::path(resolve_links(path)), ec);
  s.dir = s.file.parent_path();
  const fs::space_info space = fs::space(s.dir, ec);
  if (ec) return std::nullopt;
  s.available = double(space.available);
  return s;
}

std::string resolve_links(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path p = path;
  for (int hops = 0; hops <= 40; ++hops) {
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(p, ec)) || ec) return p.string();
    const fs::path target = fs::read_symlink(p, ec);
    if (ec) return p.string();
    p = target.is_absolute() ? target : p.parent_path() / target;
  }
  throw ArchiveError("archive path " + path + " is a loop of symbolic links");
}

std::string archive_identity(const ArchiveHeader& header) {
  if (!header.archive_id.empty()) return header.archive_id;
  return "config " + header.config_hash + ", created " + header.created;
}

RunShape RunShape::for_run(const RunSpec& spec, const ArchiveHeader& header) {
  RunShape s;
  s.hidden = spec.options.model.hidden;
  s.n_test = static_cast<int>(header.n_test);
  s.epochs = spec.options.training.epochs;
  s.n_recon = static_cast<int>(header.recon_indices.size());
  s.input_size = header.input_size;
  if (!header.schedule.empty()) {
    TrainOptions options = spec.options;
    options.model.input_size = header.input_size;
    s.checkpoint_bytes = static_cast<std::int64_t>(checkpoint_capacity(options));
  }
  return s;
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// HDF5 metadata and summary bytes per run beside its raw data. Measured (file size minus the
// datasets' storage, per run): in the checksummed format 7.6 KB (1000 runs of hidden 8), 8.0 KB
// (jobs/search_penalties.ini), 8.5 KB (jobs/regularization.ini); in the earlier one 9.2 KB over
// 100 runs of hidden 8, 13 KB over 3 runs of hidden 196.
constexpr double kArchiveOverheadPerRun = 12288;
// Each attribute is one object header message, at most 64 KiB.
constexpr std::size_t kMaxAttributeText = 60000;

std::string shape_text(const RunShape& s) {
  return "hidden " + std::to_string(s.hidden) + ", n_test " + std::to_string(s.n_test) + ", epochs " +
         std::to_string(s.epochs) + ", n_recon " + std::to_string(s.n_recon) + ", input " +
         std::to_string(s.input_size) +
         (s.checkpoint_bytes > 0 ? ", checkpoint " + std::to_string(s.checkpoint_bytes) + " bytes" : "");
}

// 128 random bits in hex: an archive's identity.
std::string new_archive_id() {
  std::random_device device;
  std::seed_seq seed{device(), device(), device(), device(),
                     unsigned(std::chrono::system_clock::now().time_since_epoch().count()), unsigned(::getpid())};
  std::mt19937_64 generator(seed);
  char text[40];
  std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(generator()),
                static_cast<unsigned long long>(generator()));
  return text;
}

std::string joined_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += (text.empty() ? "" : "\n") + line;
  return text;
}

// A search section's method, seed, points and distributions (docs/archive.md, /sections).
void write_search_attributes(const h5::Group& g, const StudySection& section) {
  g.write_attribute("method", section.method);
  g.write_attribute("seed", section.seed);
  g.write_attribute("points", section.points);
  g.write_attribute("distributions", joined_lines(section.distributions));
}

// /sections: the study's sweep sections, their swept keys and every run each one lists.
// COLLECTIVE like every metadata call with the MPI-IO driver; only the rank with `write_data`
// writes the run lists (raw data, independently).
void write_sections(const h5::File& file, const std::vector<StudySection>& sections, bool write_data,
                    const h5::Transfer& independent) {
  const h5::Group group = file.create_group(layout::kSectionsGroup);
  std::vector<std::string> names;
  for (const auto& section : sections) names.push_back(section.name);
  group.write_attribute("names", joined_lines(names));
  for (std::size_t s = 0; s < sections.size(); ++s) {
    char name[32];
    std::snprintf(name, sizeof name, "%03zu", s);
    const h5::Group g = group.create_group(name);
    g.write_attribute("name", sections[s].name);
    g.write_attribute("origin", sections[s].origin);
    g.write_attribute("swept_keys", joined_lines(sections[s].swept_keys));
    if (!sections[s].method.empty()) write_search_attributes(g, sections[s]);
    const hsize_t n = sections[s].runs.size();
    const h5::Dataset runs =
        g.create_dataset("runs", h5::Datatype::native<std::int64_t>(),
                         h5::Dataspace::simple(std::span<const hsize_t>(&n, 1)),
                         h5::DatasetCreate::contiguous_early(h5::FillTime::never));
    if (write_data) runs.write<std::int64_t>(sections[s].runs, independent);
  }
}

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// ---------------------------------------------------------------------------------- ranks

// COLLECTIVE: runs `step` on every rank. If it threw anywhere, every rank throws ArchiveError
// with the message of the lowest failing rank, so no rank goes on to a collective call alone.
template <class Step>
void on_all_ranks(Communicator& comm, Step&& step) {
  std::optional<std::string> error;
  try {
    step();
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (const auto agreed = comm.agree_on_error(error)) throw ArchiveError(*agreed);
}

// ---------------------------------------------------------------------------------- validation

void validate_inputs(const std::string& path, const ArchiveHeader& h, const std::vector<RunSpec>& runs,
                     const std::vector<RunShape>& shapes) {
  const std::string where = "archive " + path + ": ";
  if (h.input_size <= 0) throw ArchiveError(where + "header.input_size must be positive");
  if (h.n_test < 0 || h.n_train < 0) throw ArchiveError(where + "header sample counts must be >= 0");
  if (h.test_labels.size() != static_cast<std::size_t>(h.n_test))
    throw ArchiveError(where + "header has " + std::to_string(h.test_labels.size()) + " test labels, expected n_test = " +
                       std::to_string(h.n_test));
  const auto n_recon = static_cast<Eigen::Index>(h.recon_indices.size());
  if (h.recon_originals.rows() != h.input_size || h.recon_originals.cols() != n_recon)
    throw ArchiveError(where + "header.recon_originals is " + std::to_string(h.recon_originals.rows()) + " x " +
                       std::to_string(h.recon_originals.cols()) + ", expected input_size x recon_indices.size() = " +
                       std::to_string(h.input_size) + " x " + std::to_string(n_recon));
  for (const auto i : h.recon_indices)
    if (i < 0 || i >= h.n_test)
      throw ArchiveError(where + "reconstruction index " + std::to_string(i) + " is outside the test set [0, " +
                         std::to_string(h.n_test) + ")");
  if (h.config_text.size() > kMaxAttributeText || h.command.size() > kMaxAttributeText)
    throw ArchiveError(where + "config text or command line is longer than " + std::to_string(kMaxAttributeText) +
                       " bytes, the most an HDF5 attribute holds here");
  for (const auto& section : h.sections)
    for (const auto run : section.runs)
      if (run < 0 || static_cast<std::size_t>(run) >= runs.size())
        throw ArchiveError(where + "section " + section.name + " lists run " + std::to_string(run) + " of " +
                           std::to_string(runs.size()));
  if (shapes.size() != runs.size())
    throw ArchiveError(where + std::to_string(shapes.size()) + " run shapes for " + std::to_string(runs.size()) +
                       " runs");
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].index != i)
      throw ArchiveError(where + "runs[" + std::to_string(i) + "].index is " + std::to_string(runs[i].index) +
                         "; the archive expects the whole study in order (index == position)");
    const RunShape& s = shapes[i];
    if (s.hidden <= 0 || s.input_size <= 0 || s.n_test < 0 || s.epochs < 0 || s.n_recon < 0)
      throw ArchiveError(where + "run " + std::to_string(i) + " has an invalid shape (" + shape_text(s) + ")");
    std::set<std::string> seen;
    for (const auto& setting : runs[i].settings) {
      if (!seen.insert(setting.key).second)
        throw ArchiveError(where + "run " + std::to_string(i) + " lists setting '" + setting.key + "' twice");
      if (setting.key == layout::kIndexAttr || setting.key == layout::kSectionAttr ||
          setting.key == layout::kSettingsAttr || setting.key == layout::kSectionsAttr ||
          setting.key == kParetoFrontColumn || setting.key == kParetoFrontSectionColumn ||
          layout::is_reserved_column(setting.key))
        throw ArchiveError(where + "setting key '" + setting.key + "' collides with an archive column name");
    }
  }
}

// ---------------------------------------------------------------------------------- summary layout

struct SummaryColumns {
  layout::RecordLayout record;
  std::vector<std::string> numeric_keys;
  std::vector<std::string> string_keys;
};

// What the runs' settings ask of the summary: the keys in first-seen order, which of them are
// numeric, each one's longest value, and the longest section name. One pass over every setting
// of every run, done once per open; the layouts below are built from it.
struct SettingColumns {
  std::vector<std::string> order;
  std::set<std::string> numeric;
  std::map<std::string, std::size_t> longest;
  std::size_t longest_section = 1;
};

SettingColumns scan_settings(const std::vector<RunSpec>& runs) {
  SettingColumns s;
  std::set<std::string> known;
  for (const auto& run : runs) {
    s.longest_section = std::max(s.longest_section, run.section.size());
    for (const auto& setting : run.settings) {
      if (known.insert(setting.key).second) s.order.push_back(setting.key);
      if (setting.numeric) s.numeric.insert(setting.key);
      s.longest[setting.key] = std::max(s.longest[setting.key], setting.value.size());
    }
  }
  return s;
}

// index, section, state, numeric settings (float64), string settings (fixed strings sized to
// the longest value), outcome columns, and (format 3 on) the Pareto marks.
SummaryColumns summary_columns(const SettingColumns& settings, bool pareto, bool scheduled) {
  SummaryColumns c;
  c.record.add("index", layout::FieldKind::i64);
  c.record.add("section", layout::FieldKind::str, settings.longest_section);
  c.record.add("state", layout::FieldKind::u8);
  for (const auto& key : settings.order)
    if (settings.numeric.count(key)) {
      c.record.add(key, layout::FieldKind::f64);
      c.numeric_keys.push_back(key);
    }
  for (const auto& key : settings.order)
    if (!settings.numeric.count(key)) {
      c.record.add(key, layout::FieldKind::str, settings.longest.at(key));
      c.string_keys.push_back(key);
    }
  layout::add_outcome_fields(c.record, false);
  if (pareto) {  // format 3 on: what computed the run, and the Pareto marks last
    c.record.add(kComputeColumn, layout::FieldKind::str, kComputeBytes);
    c.record.add(kParetoFrontColumn, layout::FieldKind::u8);
    c.record.add(kParetoFrontSectionColumn, layout::FieldKind::u8);
  }
  if (scheduled) c.record.add(kRungColumn, layout::FieldKind::i32);  // scheduled studies only
  return c;
}

// The /runs_state bytes and their names, "0 pending, 1 complete, ...": the states the archive can
// hold (stopped only with a schedule, so archives without one are as before it existed).
std::string state_values_text(bool scheduled) {
  std::string text;
  for (const RunStatus s : run_status_values())
    if (scheduled || s != RunStatus::stopped)
      text += (text.empty() ? "" : ", ") + std::to_string(int(s)) + " " + std::string(to_string(s));
  return text;
}

// Throws "RUN is already STATE" + why_only_pending for a run that is no longer pending.
void require_pending(const std::string& run, RunStatus current, const std::string& why_only_pending) {
  if (aesweep::is_done(current))
    throw ArchiveError(run + " is already " + std::string(to_string(current)) + why_only_pending);
}

// Does the file's /summary have the Pareto columns (format 3 on)?
bool has_pareto_columns(const h5::Dataset& summary) {
  const h5::Datatype type = summary.type();
  return type.member_type(kParetoFrontColumn) && type.member_type(kParetoFrontSectionColumn);
}

// The part of a summary row known before training: index, section, settings; outcome blank.
std::vector<char> summary_base_row(const SummaryColumns& c, const RunSpec& run) {
  std::vector<char> row = c.record.blank();
  c.record.set_i64(row.data(), "index", static_cast<std::int64_t>(run.index));
  c.record.set_str(row.data(), "section", run.section);
  c.record.set_u8(row.data(), "state", 0);
  c.record.set_i32(row.data(), "rank", -1);
  c.record.set_i32(row.data(), "epochs_run", 0);
  if (c.record.find(kRungColumn)) c.record.set_i32(row.data(), kRungColumn, -1);
  for (const auto& s : run.settings) {
    const auto field = c.record.find(s.key);
    if (!field) continue;
    if (c.record.fields()[*field].kind == layout::FieldKind::f64)
      c.record.set_f64(row.data(), s.key, s.numeric.value_or(kNaN));
    else
      c.record.set_str(row.data(), s.key, s.value);
  }
  return row;
}

layout::RecordLayout metrics_record() {
  layout::RecordLayout r;
  layout::add_outcome_fields(r, true);
  return r;
}

// ---------------------------------------------------------------------------------- decisions

enum class Action : int { create = 0, resume = 1, refuse = 2 };

std::string data_description(const ArchiveHeader& h) {
  std::string files;
  for (const auto& f : h.data_files) files += (files.empty() ? "" : ", ") + f;
  std::string text = "'" + h.dataset_name + "' (" + std::to_string(h.n_train) + " training and " +
                     std::to_string(h.n_test) + " test samples";
  if (h.train_samples_option > 0 || h.test_samples_option > 0)
    text += ", --train-samples " + std::to_string(h.train_samples_option) + " --test-samples " +
            std::to_string(h.test_samples_option);
  if (!files.empty()) text += ", files " + files;
  if (!h.data_fingerprint.empty()) text += ", data hash " + h.data_fingerprint;
  return text + ")";
}

// Why the archive's data (`stored`) is not the data of this job (`now`), or nothing. Archives
// written before data fingerprints existed are compared on what they hold: the sample counts,
// the test labels and the pixels of the reconstruction digits.
std::optional<std::string> data_mismatch(const ArchiveHeader& stored, const ArchiveHeader& now) {
  bool same = stored.n_train == now.n_train && stored.n_test == now.n_test && stored.input_size == now.input_size;
  if (!stored.data_fingerprint.empty()) {
    same = same && stored.data_fingerprint == now.data_fingerprint;
  } else {
    same = same && stored.test_labels == now.test_labels && stored.recon_indices == now.recon_indices &&
           stored.recon_originals.rows() == now.recon_originals.rows() &&
           stored.recon_originals.cols() == now.recon_originals.cols() && stored.recon_originals == now.recon_originals;
  }
  if (same) return std::nullopt;
  return "the archive was made from " + data_description(stored) + ", this job loads " + data_description(now);
}

// Rank 0 only, sec2 driver, read-only: may this existing archive be resumed with these inputs?
// Returns the refusal reason, or nothing when it matches. Never writes to the file.
std::optional<std::string> resume_mismatch(const std::string& path, const ArchiveHeader& header,
                                           const std::vector<RunShape>& shapes, std::size_t summary_size,
                                           std::size_t summary_size_before_pareto) {
  SweepArchiveReader reader = [&] {
    try {
      return SweepArchiveReader::open(path);
    } catch (const ArchiveError& e) {
      // The reader's message already names the file and what is wrong with it.
      throw ArchiveError(std::string(e.what()) + "; use --overwrite to replace it or choose another --out", e.detail());
    }
  }();
  // Version 1 archives resume too: a resume only writes run data, whose layout is unchanged.
  if (reader.format_version() < 1 || reader.format_version() > kArchiveFormatVersion)
    return "archive " + path + " has format version " + std::to_string(reader.format_version()) +
           ", this aesweep writes version " + std::to_string(kArchiveFormatVersion) +
           "; use --overwrite to replace it or choose another --out";
  if (auto why = data_mismatch(reader.header(), header))
    return "archive " + path + " holds runs trained on other data than this job loads: " + *why +
           ". Resume with the archive's data and sample counts, or use --overwrite or another --out";
  if (reader.header().config_hash != header.config_hash)
    return "archive " + path + " was written by a different config (hash " + reader.header().config_hash +
           ", this config hash " + header.config_hash + "); use --overwrite to replace it or choose another --out";
  if (reader.run_count() != shapes.size())
    return "archive " + path + " holds " + std::to_string(reader.run_count()) + " runs, this config has " +
           std::to_string(shapes.size()) + "; use --overwrite to replace it or choose another --out";
  for (std::size_t i = 0; i < shapes.size(); ++i)
    if (!(reader.run(i).shape == shapes[i]))
      return "archive " + path + " run " + std::to_string(i) + " has shape (" + shape_text(reader.run(i).shape) +
             "), this config expects (" + shape_text(shapes[i]) + "); use --overwrite to replace it";
  // Archives before format 3 have no Pareto columns; they resume without them.
  const h5::Dataset summary = reader.file().open_dataset(layout::kSummary);
  if (summary.type().size() != (has_pareto_columns(summary) ? summary_size : summary_size_before_pareto))
    return "archive " + path + " has a /summary layout this aesweep does not write; use --overwrite to replace it";
  return std::nullopt;
}

struct Decision {
  Action action = Action::create;
  std::string message;  // refusal reason
  std::string detail;   // the library's error chain behind it, if any
  std::string created;  // creation time shared by every rank (attributes must be identical)
  std::string archive_id;  // likewise
};

std::string being_written_message(const std::string& path) {
  return "archive " + path +
         " is being written by another program (an aesweep-analyze storing its results in it, or an HDF5 tool "
         "that opened it for writing): wait until it ends, then rerun this command; nothing was changed";
}

// Another sweep or analysis holds the archive's writer lock.
std::string busy_message(const std::string& path, const ArchiveBusy& busy) {
  return std::string(busy.what()) +
         ": two programs writing one archive at once would leave it unreadable; wait until that one ends, then rerun "
         "this command; nothing was changed. If it no longer runs (its node was lost and the file system still "
         "keeps its lock), remove " +
         WriterLock::lock_path(path) + " and rerun";
}

Decision decide_action(const std::string& path, const ArchiveHeader& header, const std::vector<RunShape>& shapes,
                       std::size_t summary_size, std::size_t summary_size_before_pareto, OpenMode mode) {
  Decision d;
  d.created = header.created.empty() ? utc_now() : header.created;
  d.archive_id = new_archive_id();
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory) {
    d.action = Action::refuse;
    d.message = "archive " + path + " cannot be inspected: " + ec.message();
    return d;
  }
  if (ec || !fs::exists(status)) {
    const fs::path parent = fs::absolute(fs::path(path)).parent_path();
    if (!fs::is_directory(parent, ec)) {
      d.action = Action::refuse;
      d.message = "cannot create archive " + path + ": " +
                  (fs::exists(parent, ec) ? parent.string() + " is not a directory"
                                          : "directory " + parent.string() + " does not exist");
    } else if (::access(parent.c_str(), W_OK) != 0) {
      d.action = Action::refuse;
      d.message = "cannot create archive " + path + ": directory " + parent.string() + " is not writable";
    }
    return d;
  }
  if (!fs::is_regular_file(status)) {
    d.action = Action::refuse;
    d.message = "archive path " + path + " exists and is not a regular file";
    return d;
  }
  bool hdf5 = false;
  try {
    hdf5 = h5::is_hdf5_file(path);
  } catch (const ArchiveError& e) {
    d.action = Action::refuse;
    d.message = "archive " + path + " cannot be inspected: " + e.what();
    return d;
  }
  if (!hdf5) {
    d.action = Action::refuse;
    d.message = "archive path " + path +
                " exists and is not an HDF5 file; it was left untouched (choose another --out or remove it)";
    return d;
  }
  if (flock_held_exclusively(path)) {  // before HDF5's own read lock fails, misleadingly
    d.action = Action::refuse;
    d.message = being_written_message(path);
    return d;
  }
  if (mode == OpenMode::overwrite) return d;  // create, truncating
  try {
    if (auto why = resume_mismatch(path, header, shapes, summary_size, summary_size_before_pareto)) {
      d.action = Action::refuse;
      d.message = *why;
    } else {
      d.action = Action::resume;
    }
  } catch (const std::exception& e) {
    d.action = Action::refuse;
    d.message = e.what();
    d.detail = error_detail(e);
  }
  return d;
}

// Whether `building` (a regular file) is what an interrupted creation leaves: an HDF5 file, or one
// killed before HDF5 wrote its superblock at the start (empty, or zeros where the signature goes;
// the datasets' raw data may already be further on). Anything else is someone's file.
bool left_by_a_creation(const std::string& building) {
  try {
    if (h5::is_hdf5_file(building)) return true;
  } catch (const ArchiveError&) {
  }
  std::ifstream in(building, std::ios::binary);
  char head[8] = {};
  in.read(head, sizeof head);
  const auto got = in.gcount();
  if (!in.good() && !in.eof()) return false;
  return std::all_of(head, head + got, [](char c) { return c == 0; });
}

// Rank 0, read-only: creating builds PATH.creating first. One left by an interrupted creation is
// rebuilt; anything else there is someone's file and is refused, left untouched.
Decision decide(const std::string& path, const ArchiveHeader& header, const std::vector<RunShape>& shapes,
                std::size_t summary_size, std::size_t summary_size_before_pareto, OpenMode mode) {
  Decision d = decide_action(path, header, shapes, summary_size, summary_size_before_pareto, mode);
  if (d.action != Action::create) return d;
  const std::string building = path + ".creating";
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(building, ec);
  if (ec || !std::filesystem::exists(status)) return d;
  if (!std::filesystem::is_regular_file(status) || !left_by_a_creation(building)) {
    d.action = Action::refuse;
    d.message = "cannot create archive " + path + ": " + building +
                " (where the archive is built before it is renamed into place) exists and is not an archive being "
                "built; it was left untouched: remove or rename it";
  }
  return d;
}

// The runs of each stored section; runs no section lists are grouped by their section label.
std::vector<std::vector<std::size_t>> section_groups(const ArchiveHeader& header, const std::vector<RunSpec>& runs) {
  std::vector<std::vector<std::size_t>> groups;
  std::vector<bool> listed(runs.size(), false);
  for (const auto& section : header.sections) {
    std::vector<std::size_t> group;
    for (const auto run : section.runs) {
      group.push_back(static_cast<std::size_t>(run));  // validate_inputs checked the range
      listed[static_cast<std::size_t>(run)] = true;
    }
    groups.push_back(std::move(group));
  }
  std::map<std::string, std::vector<std::size_t>> by_label;
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (!listed[i]) by_label[runs[i].section].push_back(i);
  for (auto& [label, group] : by_label) groups.push_back(std::move(group));
  return groups;
}

std::vector<float> floats_or_nan(const Eigen::MatrixXf& m, std::size_t expected) {
  if (m.size() == 0) return std::vector<float>(expected, std::numeric_limits<float>::quiet_NaN());
  return std::vector<float>(m.data(), m.data() + m.size());
}

std::vector<float> floats_or_nan(const Eigen::VectorXf& v, std::size_t expected) {
  if (v.size() == 0) return std::vector<float>(expected, std::numeric_limits<float>::quiet_NaN());
  return std::vector<float>(v.data(), v.data() + v.size());
}

}  // namespace

// ---------------------------------------------------------------------------------- the archive

struct SweepArchive::Impl {
  // Rank 0: the archive's writer lock, from before it inspects the path until every rank has
  // closed the file (writer_lock.hpp). Other ranks hold nothing. First, so that it is let go last.
  WriterLock writer_lock;
  std::string path;
  Communicator* comm = nullptr;  // outlives the archive (open_for_sweep's contract)
  int rank = 0;
  int size = 1;
  h5::File file;
  h5::Transfer independent;
  h5::Dataset runs_state;
  h5::Dataset summary;
  // Scheduled studies: /runs_rung and each run's rung as read at open (plus this rank's writes).
  bool scheduled = false;
  h5::Dataset runs_rung;
  std::vector<int> rungs;
  SummaryColumns columns;
  layout::RecordLayout metrics = metrics_record();
  std::vector<std::vector<char>> base_rows;
  std::vector<RunShape> shapes;
  std::vector<RunStatus> states;
  // The runs of each sweep section (runs no section lists: grouped by their section label), for
  // the per-section Pareto front.
  std::vector<std::vector<std::size_t>> section_groups;
  bool pareto_columns = true;  // false for a resumed archive of format 1 or 2
  bool resumed = false;
  bool closed = false;
  // This rank's own descriptor of the file, only to make its writes durable: fdatasync on any
  // descriptor of a file flushes every write to it from this node (MPI-IO's file sync would be
  // collective, and write_run is not).
  int sync_fd = -1;

  void make_durable(std::size_t run_index, const char* what) const {
    if (::fdatasync(sync_fd) != 0)
      throw ArchiveError("archive " + path + ": cannot make run " + std::to_string(run_index) + "'s " + what +
                         " durable (fdatasync: " + std::strerror(errno) + ")");
  }
  void close_sync_fd() {
    if (sync_fd >= 0) ::close(sync_fd);
    sync_fd = -1;
  }
  // A run's byte in /runs_state or /runs_rung, then durable: the commit point of write_run,
  // write_rung and mark_stopped (everything before it already on disk).
  void commit_byte(h5::Dataset& bytes, std::size_t run_index, std::uint8_t value, const char* what) const {
    bytes.write_rows<std::uint8_t>(run_index, std::span<const std::uint8_t>(&value, 1), independent);
    make_durable(run_index, what);
  }
  // "run N of archive PATH", for the messages of the calls that write one run.
  std::string run_label(std::size_t run_index) const {
    return "run " + std::to_string(run_index) + " of archive " + path;
  }

  void create(const ArchiveHeader& header, const std::string& created, const std::string& archive_id,
              const std::vector<RunSpec>& runs);
  void create_state_and_summary(std::size_t n_runs);
  void write_arrays(std::size_t run_index, const RunResult& result, const RunRecordInfo& info);
  void write_outcome(std::size_t run_index, const RunResult& result, const RunRecordInfo& info);
  void write_summary_rows();
  void rename_into_place(const std::string& building);
  void reopen();
  void mark_pareto_front();
  void require_open() const {
    if (closed) throw ArchiveError("archive " + path + " is already closed");
  }
};

namespace {

const auto kNever = h5::DatasetCreate::contiguous_early(h5::FillTime::never);

h5::Dataspace space(std::initializer_list<hsize_t> dims) {
  return h5::Dataspace::simple(std::span<const hsize_t>(dims.begin(), dims.size()));
}

void write_root_attributes(const h5::File& file, const ArchiveHeader& header, const std::string& created,
                           const std::string& archive_id, std::size_t n_runs) {
  if (!header.schedule.empty()) file.write_attribute("schedule", header.schedule);
  file.write_attribute("format_version", kArchiveFormatVersion);
  file.write_attribute("aesweep_version", header.aesweep_version);
  file.write_attribute("config_text", header.config_text);
  file.write_attribute("config_hash", header.config_hash);
  file.write_attribute("created", created);
  file.write_attribute("archive_id", archive_id);
  file.write_attribute("command", header.command);
  file.write_attribute("hdf5_version", h5::library_version());
  file.write_attribute("n_runs", static_cast<std::int64_t>(n_runs));
  file.write_attribute("layout", std::string_view("aesweep sweep archive; every path is described in docs/archive.md"));
}

// /dataset: the data's identity as attributes, and its datasets (filled later by rank 0).
struct DatasetGroup {
  h5::Dataset labels, recon_indices, recon_originals;
};

DatasetGroup create_dataset_group(const h5::File& file, const ArchiveHeader& header) {
  const auto n_test = static_cast<hsize_t>(header.n_test);
  const auto input = static_cast<hsize_t>(header.input_size);
  const auto n_recon = static_cast<hsize_t>(header.recon_indices.size());
  const h5::Group data = file.create_group(layout::kDatasetGroup);
  data.write_attribute("name", header.dataset_name);
  data.write_attribute("n_train", header.n_train);
  data.write_attribute("n_test", header.n_test);
  data.write_attribute("input_size", static_cast<std::int64_t>(header.input_size));
  data.write_attribute("content_hash", header.data_fingerprint);
  data.write_attribute("files", joined_lines(header.data_files));
  data.write_attribute("train_samples_option", header.train_samples_option);
  data.write_attribute("test_samples_option", header.test_samples_option);
  DatasetGroup d;
  d.labels = data.create_dataset("test_labels", h5::Datatype::native<std::uint8_t>(), space({n_test}), kNever);
  d.recon_indices = data.create_dataset("recon_indices", h5::Datatype::native<std::int64_t>(), space({n_recon}), kNever);
  d.recon_originals =
      data.create_dataset("recon_originals", h5::Datatype::native<float>(), space({n_recon, input}), kNever);
  return d;
}

void write_dataset_group(const DatasetGroup& d, const ArchiveHeader& header, const h5::Transfer& independent) {
  d.labels.write<std::uint8_t>(header.test_labels, independent);
  d.recon_indices.write<std::int64_t>(header.recon_indices, independent);
  d.recon_originals.write<float>(
      std::span<const float>(header.recon_originals.data(), static_cast<std::size_t>(header.recon_originals.size())),
      independent);
}

// /runs/<index>: the run's settings as attributes and its datasets, storage allocated, unwritten.
void create_run_group(const h5::Group& runs_group, std::size_t i, const RunSpec& run, const RunShape& s,
                      const h5::Datatype& metrics) {
  const auto f32 = h5::Datatype::native<float>();
  const h5::Group g = runs_group.create_group(layout::run_name(i));
  g.write_attribute(layout::kIndexAttr, static_cast<std::int64_t>(run.index));
  g.write_attribute(layout::kSectionAttr, run.section);
  g.write_attribute(layout::kSectionsAttr, joined_lines(run.sections));
  g.write_attribute(layout::kSettingsAttr, layout::settings_text(run.settings));
  for (const auto& setting : run.settings) {
    if (setting.numeric) g.write_attribute(setting.key, *setting.numeric);
    else g.write_attribute(setting.key, setting.value);
  }
  const auto hidden = static_cast<hsize_t>(s.hidden);
  const auto in = static_cast<hsize_t>(s.input_size);
  // Eigen is column-major: W1 (hidden x input) in memory is the row-major (input, hidden)
  // Keras kernel; W2 (input x hidden) is (hidden, input); latent codes (hidden x n_test) are
  // (n_test, hidden); reconstructions (input x n_recon) are (n_recon, input).
  g.create_dataset(layout::kEncoderKernel, f32, space({in, hidden}), kNever).close();
  g.create_dataset(layout::kEncoderBias, f32, space({hidden}), kNever).close();
  g.create_dataset(layout::kDecoderKernel, f32, space({hidden, in}), kNever).close();
  g.create_dataset(layout::kDecoderBias, f32, space({in}), kNever).close();
  g.create_dataset(layout::kLatentTest, f32, space({static_cast<hsize_t>(s.n_test), hidden}), kNever).close();
  g.create_dataset(layout::kReconstructions, f32, space({static_cast<hsize_t>(s.n_recon), in}), kNever).close();
  for (const auto& curve : curve_fields())
    g.create_dataset(std::string(curve.name), h5::Datatype::native<double>(), space({static_cast<hsize_t>(s.epochs)}),
                     kNever)
        .close();
  g.create_dataset(layout::kMetrics, metrics, h5::Dataspace::scalar(), kNever).close();
  if (s.checkpoint_bytes > 0)
    g.create_dataset(layout::kCheckpoint, h5::Datatype::native<std::uint8_t>(),
                     space({static_cast<hsize_t>(s.checkpoint_bytes)}), kNever)
        .close();
}

}  // namespace

// COLLECTIVE: builds the whole file. Every rank makes the same metadata calls in the same order;
// rank 0 alone writes the study-wide raw data; the final flush makes the file valid on disk.
void SweepArchive::Impl::create(const ArchiveHeader& header, const std::string& created,
                                const std::string& archive_id, const std::vector<RunSpec>& runs) {
  // Built under a temporary name and renamed when whole: a job killed while creating leaves at
  // most a stray PATH.creating (rebuilt next time) and never a half-made archive at PATH, and
  // --overwrite keeps the old archive until the new one is complete.
  const std::string building = path + ".creating";
  // Checksummed metadata (h5.hpp): a damaged archive is refused with a message rather than
  // crashing HDF5's decoders (docs/fuzzing.md).
  h5::FileAccess fapl = h5::FileAccess::mpio(*comm);
  fapl.checksum_metadata();
  file = h5::File::create(building, fapl);
  write_root_attributes(file, header, created, archive_id, runs.size());
  {  // the local handles must be closed before the file is
    const DatasetGroup data = create_dataset_group(file, header);
    write_sections(file, header.sections, rank == 0, independent);
    const h5::Group runs_group = file.create_group(layout::kRunsGroup);
    for (std::size_t i = 0; i < runs.size(); ++i) create_run_group(runs_group, i, runs[i], shapes[i], metrics.datatype());
    create_state_and_summary(runs.size());
    if (rank == 0) {
      write_dataset_group(data, header, independent);
      write_summary_rows();
    }
    file.flush();
  }
  runs_state.close();
  summary.close();
  if (scheduled) runs_rung.close();
  file.close();
  rename_into_place(building);
  reopen();
  resumed = false;
}

// /runs_state zero-filled on allocation (every run starts pending without a raw-data write) and
// /summary, its rows written by write_summary_rows.
void SweepArchive::Impl::create_state_and_summary(std::size_t n_runs) {
  auto zero_fill = h5::DatasetCreate::contiguous_early(h5::FillTime::on_allocation);
  zero_fill.fill_value<std::uint8_t>(0);
  runs_state = file.create_dataset(layout::kRunsState, h5::Datatype::native<std::uint8_t>(), space({n_runs}), zero_fill);
  runs_state.write_attribute("values", state_values_text(scheduled));
  if (scheduled) {
    runs_rung = file.create_dataset(layout::kRunsRung, h5::Datatype::native<std::uint8_t>(), space({n_runs}), zero_fill);
    runs_rung.write_attribute("values", std::string_view("0 no rung reached; k + 1: the run reached rung k of /@schedule "
                                                         "(0-based) with its curves, weights and checkpoint whole"));
  }
  summary = file.create_dataset(layout::kSummary, columns.record.datatype(), space({n_runs}), kNever);
  summary.write_attribute("description",
                          std::string_view("one row per run; /runs_state is authoritative for which runs are done"));
}

// Rank 0: every run's summary row as known before training (settings, outcome blank).
void SweepArchive::Impl::write_summary_rows() {
  std::vector<char> rows;
  rows.reserve(base_rows.size() * columns.record.size());
  for (const auto& row : base_rows) rows.insert(rows.end(), row.begin(), row.end());
  if (!base_rows.empty()) summary.write_bytes(columns.record.datatype(), rows.data(), 0, base_rows.size(), independent);
}

// COLLECTIVE: rank 0 renames the finished file; every rank learns whether that worked before
// anyone opens PATH.
void SweepArchive::Impl::rename_into_place(const std::string& building) {
  std::string rename_error;
  if (rank == 0) {
    std::error_code ec;
    std::filesystem::rename(building, path, ec);
    if (ec) {
      rename_error = "cannot rename " + building + " to " + path + ": " + ec.message();
      std::filesystem::remove(building, ec);  // the old archive stays; the new one is not left behind
    }
  }
  on_all_ranks(*comm, [&] {
    if (!rename_error.empty()) throw ArchiveError(rename_error);
  });
}

// COLLECTIVE: the compatibility checks were already done on rank 0 (read-only).
void SweepArchive::Impl::reopen() {
  file = h5::File::open(path, h5::Access::read_write, h5::FileAccess::mpio(*comm));
  runs_state = file.open_dataset(layout::kRunsState);
  summary = file.open_dataset(layout::kSummary);
  states = run_states_of_bytes(runs_state.read<std::uint8_t>(independent), path);
  rungs.assign(states.size(), -1);
  if (scheduled) {
    runs_rung = file.open_dataset(layout::kRunsRung);
    const std::vector<std::uint8_t> rung_bytes = runs_rung.read<std::uint8_t>(independent);
    if (rung_bytes.size() != states.size())
      throw ArchiveError("archive " + path + ": /runs_rung does not have one byte per run");
    for (std::size_t i = 0; i < rung_bytes.size(); ++i) rungs[i] = int(rung_bytes[i]) - 1;
  }
  close_sync_fd();
  sync_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (sync_fd < 0) throw ArchiveError("archive " + path + ": cannot open it for fdatasync: " + std::strerror(errno));
  resumed = true;
}

SweepArchive::SweepArchive(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SweepArchive::SweepArchive(SweepArchive&&) noexcept = default;
SweepArchive& SweepArchive::operator=(SweepArchive&&) noexcept = default;

SweepArchive::~SweepArchive() {
  if (!impl_ || impl_->closed) return;
  if (impl_->comm->usable() && impl_->size == 1) {
    try {
      close();
      return;
    } catch (...) {
      // Nothing to report from a destructor; written runs are already on disk.
    }
  }
  // No collective call here: give up the ids without closing them (HDF5 closes what is left
  // when MPI finalizes; an aborting job loses nothing that write_run finished). The file is still
  // open, so the writer lock is kept until the process exits.
  impl_->writer_lock.keep_until_exit();
  impl_->close_sync_fd();
  impl_->runs_state.release();
  impl_->summary.release();
  impl_->runs_rung.release();
  impl_->file.release();
}

SweepArchive SweepArchive::open_for_sweep(const std::string& path, Communicator& comm, const ArchiveHeader& header,
                                          const std::vector<RunSpec>& runs, OpenMode mode) {
  std::vector<RunShape> shapes;
  shapes.reserve(runs.size());
  for (const auto& run : runs) shapes.push_back(RunShape::for_run(run, header));
  return open_for_sweep(path, comm, header, runs, shapes, mode);
}

SweepArchive SweepArchive::open_for_sweep(const std::string& path, Communicator& comm, const ArchiveHeader& header,
                                          const std::vector<RunSpec>& runs, const std::vector<RunShape>& shapes,
                                          OpenMode mode) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->comm = &comm;
  impl->rank = comm.rank();
  impl->size = comm.size();

  SettingColumns settings;
  on_all_ranks(comm, [&] {
    impl->path = resolve_links(path);  // a link is followed: the archive is built where it points
    validate_inputs(impl->path, header, runs, shapes);
    impl->independent = h5::Transfer::mpio(h5::IoMode::independent);
    impl->shapes = shapes;
    impl->scheduled = !header.schedule.empty();
    settings = scan_settings(runs);
    impl->columns = summary_columns(settings, /*pareto=*/true, impl->scheduled);
    impl->base_rows.reserve(runs.size());
    for (const auto& run : runs) impl->base_rows.push_back(summary_base_row(impl->columns, run));
    impl->section_groups = section_groups(header, runs);
  });

  // Rank 0 takes the writer lock, inspects the path alone (read-only) and every rank follows its
  // decision.
  Decision d;
  if (impl->rank == 0) {
    try {
      impl->writer_lock = WriterLock::acquire(impl->path, "aesweep sweep");
      d = decide(impl->path, header, shapes, impl->columns.record.size(),
                 summary_columns(settings, /*pareto=*/false, impl->scheduled).record.size(), mode);
    } catch (const ArchiveBusy& e) {
      d.action = Action::refuse;
      d.message = busy_message(impl->path, e);
    } catch (const ArchiveError& e) {
      d.action = Action::refuse;
      d.message = e.what();
    }
  }
  Bytes decision;
  if (impl->rank == 0)
    decision = ByteWriter().put(static_cast<int>(d.action)).put(d.message).put(d.created).put(d.archive_id).put(d.detail).take();
  decision = comm.broadcast(std::move(decision), 0);
  ByteReader from_root(decision, "archive decision from rank 0");
  d.action = static_cast<Action>(from_root.get<int>());
  d.message = from_root.get_string();
  d.created = from_root.get_string();
  d.archive_id = from_root.get_string();
  d.detail = from_root.get_string();
  if (d.action == Action::refuse) throw ArchiveError(d.message, d.detail);

  on_all_ranks(comm, [&] {
    try {
      if (d.action == Action::create) impl->create(header, d.created, d.archive_id, runs);
      else impl->reopen();
      if (!has_pareto_columns(impl->summary)) {  // an archive of format 1 or 2: rows without the marks
        impl->pareto_columns = false;
        impl->columns = summary_columns(settings, /*pareto=*/false, impl->scheduled);
        impl->base_rows.clear();
        for (const auto& run : runs) impl->base_rows.push_back(summary_base_row(impl->columns, run));
      }
    } catch (const ArchiveError& e) {
      throw ArchiveError(std::string(d.action == Action::create ? "cannot create archive " : "cannot reopen archive ") +
                         path + ": " + e.what());
    }
  });
  return SweepArchive(std::move(impl));
}

double SweepArchive::estimate_bytes(const ArchiveHeader& header, const std::vector<RunSpec>& runs) {
  // Measured on archives of this layout (docs/archive.md): object headers, attributes and the
  // summary row come to about this much per run beside the raw data.
  constexpr double overhead_per_run = kArchiveOverheadPerRun;
  const double input = header.input_size, n_test = double(header.n_test), n_recon = double(header.recon_indices.size());
  double total = 64.0 * 1024 + 4.0 * input * n_recon + double(header.n_test) + 8.0 * n_recon;
  for (const auto& run : runs) {
    const double hidden = run.options.model.hidden;
    const double floats = 2 * hidden * input + hidden + input + n_test * hidden + n_recon * input;
    total += 4 * floats + 8.0 * double(curve_fields().size()) * double(run.options.training.epochs) +
             overhead_per_run;
    if (!header.schedule.empty()) total += double(RunShape::for_run(run, header).checkpoint_bytes);
  }
  return total;
}

const std::string& SweepArchive::path() const { return impl_->path; }
const std::string& SweepArchive::unguarded() const { return impl_->writer_lock.unguarded(); }
std::size_t SweepArchive::run_count() const { return impl_->shapes.size(); }
bool SweepArchive::resumed() const { return impl_->resumed; }
const std::vector<RunStatus>& SweepArchive::run_states() const { return impl_->states; }

RunStatus SweepArchive::state(std::size_t run_index) const {
  if (run_index >= impl_->states.size())
    throw ArchiveError("archive " + impl_->path + " has no run " + std::to_string(run_index) + " (it holds " +
                       std::to_string(impl_->states.size()) + ")");
  return impl_->states[run_index];
}

bool SweepArchive::is_done(std::size_t run_index) const { return aesweep::is_done(state(run_index)); }

RunShape SweepArchive::shape(std::size_t run_index) const {
  (void)state(run_index);  // range check
  return impl_->shapes[run_index];
}

// INDEPENDENT: opens, writes and closes only this run's datasets with independent transfers.
// No metadata changes, so no other rank has to take part.
namespace {

// Throws ArchiveError (naming `run`) unless the result fits the run's pre-allocated datasets.
void check_result(const std::string& run, const RunShape& s, const RunResult& result, const RunRecordInfo& info) {
  if (!is_done(result.status)) throw ArchiveError(run + ": a result must be complete, diverged or failed, not pending");
  auto check = [&](const char* what, Eigen::Index rows, Eigen::Index cols, Eigen::Index want_rows,
                   Eigen::Index want_cols) {
    if (rows * cols == 0) return;  // absent: stored as NaN
    if (rows != want_rows || cols != want_cols)
      throw ArchiveError(run + ": " + what + " is " + std::to_string(rows) + " x " + std::to_string(cols) +
                         ", expected " + std::to_string(want_rows) + " x " + std::to_string(want_cols));
  };
  check("w1", result.w1.rows(), result.w1.cols(), s.hidden, s.input_size);
  check("b1", result.b1.size(), 1, s.hidden, 1);
  check("w2", result.w2.rows(), result.w2.cols(), s.input_size, s.hidden);
  check("b2", result.b2.size(), 1, s.input_size, 1);
  check("test_latent", result.test_latent.rows(), result.test_latent.cols(), s.hidden, s.n_test);
  check("reconstructions", info.reconstructions.rows(), info.reconstructions.cols(), s.input_size, s.n_recon);
  if (result.epochs.size() > static_cast<std::size_t>(s.epochs))
    throw ArchiveError(run + ": " + std::to_string(result.epochs.size()) + " epoch records, the archive holds at most " +
                       std::to_string(s.epochs));
}

}  // namespace

// INDEPENDENT: the run's weights, codes, reconstructions and curves into its datasets.
void SweepArchive::Impl::write_arrays(std::size_t run_index, const RunResult& result, const RunRecordInfo& info) {
  const RunShape& s = shapes[run_index];
  const auto hidden = static_cast<std::size_t>(s.hidden);
  const auto input = static_cast<std::size_t>(s.input_size);
  const std::string prefix = layout::run_path(run_index) + "/";
  auto put = [&](const char* name, const std::vector<float>& values) {
    file.open_dataset(prefix + name).write<float>(values, independent);
  };
  put(layout::kEncoderKernel, floats_or_nan(result.w1, hidden * input));
  put(layout::kEncoderBias, floats_or_nan(result.b1, hidden));
  put(layout::kDecoderKernel, floats_or_nan(result.w2, input * hidden));
  put(layout::kDecoderBias, floats_or_nan(result.b2, input));
  put(layout::kLatentTest, floats_or_nan(result.test_latent, hidden * static_cast<std::size_t>(s.n_test)));
  put(layout::kReconstructions, floats_or_nan(info.reconstructions, input * static_cast<std::size_t>(s.n_recon)));
  // Curves: one value per epoch trained, NaN for epochs not reached (early stopping, divergence).
  for (const auto& curve : curve_fields()) {
    std::vector<double> values(static_cast<std::size_t>(s.epochs), kNaN);
    for (std::size_t e = 0; e < result.epochs.size(); ++e) values[e] = result.epochs[e].*curve.member;
    file.open_dataset(prefix + std::string(curve.name)).write<double>(values, independent);
  }
}

// INDEPENDENT: the run's outcome into its metrics record and its /summary row.
void SweepArchive::Impl::write_outcome(std::size_t run_index, const RunResult& result, const RunRecordInfo& info) {
  RunOutcome outcome;
  outcome.state = result.status;
  static_cast<RunScalars&>(outcome) = result;  // metrics, epochs_run, wall_seconds, samples_per_second
  outcome.rank = info.rank;
  outcome.host = info.host;
  outcome.error = result.error;
  std::vector<char> record = metrics.blank();
  layout::put_outcome(metrics, record.data(), outcome, true);
  file.open_dataset(layout::run_path(run_index) + "/" + layout::kMetrics)
      .write_bytes(metrics.datatype(), record.data(), 0, 1, independent);
  std::vector<char> row = base_rows[run_index];
  columns.record.set_u8(row.data(), "state", static_cast<std::uint8_t>(outcome.state));
  layout::put_outcome(columns.record, row.data(), outcome, false);
  if (pareto_columns) columns.record.set_str(row.data(), kComputeColumn, info.compute);
  if (scheduled) columns.record.set_i32(row.data(), kRungColumn, info.rung);
  summary.write_bytes(columns.record.datatype(), row.data(), run_index, 1, independent);
}

void SweepArchive::write_run(std::size_t run_index, const RunResult& result, const RunRecordInfo& info) {
  Impl& a = *impl_;
  a.require_open();
  const RunStatus current = state(run_index);
  const std::string run = a.run_label(run_index);
  require_pending(run, current, "; only pending runs are written");
  // Everything is checked before the first write, so a bad result leaves the run pending and untouched.
  check_result(run, a.shapes[run_index], result, info);
  a.write_arrays(run_index, result, info);
  a.write_outcome(run_index, result, info);
  // Last: from here on the run counts as done. Everything above reaches the disk before the
  // state byte is written, and the state byte before write_run returns, so a run marked done
  // survives the loss of this node (power included), not only a killed process.
  a.make_durable(run_index, "data");
  a.commit_byte(a.runs_state, run_index, static_cast<std::uint8_t>(result.status), "state byte");
  a.states[run_index] = result.status;
}

void SweepArchive::write_rung(std::size_t run_index, const RunResult& result, const RunRecordInfo& info,
                              std::span<const std::byte> checkpoint) {
  Impl& a = *impl_;
  a.require_open();
  const RunStatus current = state(run_index);
  const std::string run = a.run_label(run_index);
  if (!a.scheduled) throw ArchiveError(run + ": the archive has no schedule, so no rungs");
  require_pending(run, current, "; only pending runs reach rungs");
  if (result.status != RunStatus::stopped)
    throw ArchiveError(run + ": a run paused at a rung is written as stopped (what it is if the rung stops it)");
  if (info.rung < 0 || info.rung > 254 || info.rung <= a.rungs[run_index])
    throw ArchiveError(run + ": rung " + std::to_string(info.rung) + " after rung " + std::to_string(a.rungs[run_index]));
  const RunShape& s = a.shapes[run_index];
  if (checkpoint.size() > static_cast<std::size_t>(s.checkpoint_bytes))
    throw ArchiveError(run + ": a checkpoint of " + std::to_string(checkpoint.size()) + " bytes, the archive holds " +
                       std::to_string(s.checkpoint_bytes));
  check_result(run, s, result, info);
  a.write_arrays(run_index, result, info);
  a.write_outcome(run_index, result, info);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(s.checkpoint_bytes), 0);
  std::memcpy(bytes.data(), checkpoint.data(), checkpoint.size());
  a.file.open_dataset(layout::run_path(run_index) + "/" + layout::kCheckpoint).write<std::uint8_t>(bytes, a.independent);
  // As write_run: the data on disk before the rung byte, the rung byte before returning.
  a.make_durable(run_index, "rung data");
  a.commit_byte(a.runs_rung, run_index, static_cast<std::uint8_t>(info.rung + 1), "rung byte");
  a.rungs[run_index] = info.rung;
}

void SweepArchive::mark_stopped(std::size_t run_index) {
  Impl& a = *impl_;
  a.require_open();
  const RunStatus current = state(run_index);
  const std::string run = a.run_label(run_index);
  require_pending(run, current, "");
  // Whether it reached a rung is rank 0's Promotions' to know: another rank wrote that rung.
  if (!a.scheduled) throw ArchiveError(run + ": the archive has no schedule, so no run stops at a rung");
  a.commit_byte(a.runs_state, run_index, static_cast<std::uint8_t>(RunStatus::stopped), "state byte");
  a.states[run_index] = RunStatus::stopped;
}

std::vector<int> SweepArchive::run_rungs() const { return impl_->rungs; }

std::vector<std::byte> SweepArchive::read_checkpoint(std::size_t run_index) const {
  const Impl& a = *impl_;
  (void)state(run_index);
  if (!a.scheduled) throw ArchiveError("archive " + a.path + " has no schedule, so no checkpoints");
  const auto bytes = a.file.open_dataset(layout::run_path(run_index) + "/" + layout::kCheckpoint)
                         .read<std::uint8_t>(a.independent);
  std::vector<std::byte> out(bytes.size());
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

std::vector<double> SweepArchive::read_curve(std::size_t run_index, std::string_view curve) const {
  const Impl& a = *impl_;
  (void)state(run_index);
  return a.file.open_dataset(layout::run_path(run_index) + "/" + std::string(curve)).read<double>(a.independent);
}

// Rank 0, after every rank has finished writing: when every run is done, the Pareto marks of
// every /summary row, then a sync. Rewrites whole rows whose other bytes are unchanged, so a reader
// sees either the old or the new mark, never a torn row; the same study gives the same bytes, so
// closing a finished archive again leaves it byte-identical.
void SweepArchive::Impl::mark_pareto_front() {
  if (!pareto_columns) return;
  const std::vector<std::uint8_t> bytes = runs_state.read<std::uint8_t>(independent);
  const std::size_t n = bytes.size();
  if (n != base_rows.size()) throw ArchiveError("archive " + path + ": /runs_state does not have one byte per run");
  for (const auto b : bytes)
    if (b == static_cast<std::uint8_t>(RunStatus::pending)) return;  // not finished: no front yet
  const layout::RecordLayout& record = columns.record;
  std::vector<char> rows(record.size() * n);
  if (n > 0) summary.read_bytes(record.datatype(), rows.data(), rows.size(), 0, n, independent);
  std::vector<double> error(n), density(n);
  std::vector<bool> complete(n);
  for (std::size_t i = 0; i < n; ++i) {
    const char* row = rows.data() + i * record.size();
    error[i] = record.get_f64(row, "test_mse");
    density[i] = record.get_f64(row, "latent_density");
    complete[i] = bytes[i] == static_cast<std::uint8_t>(RunStatus::complete);
  }
  const std::vector<bool> front = pareto_front(error, density, complete);
  const std::vector<bool> section_front = pareto_front_of_groups(error, density, complete, section_groups);
  for (std::size_t i = 0; i < n; ++i) {
    char* row = rows.data() + i * record.size();
    record.set_u8(row, kParetoFrontColumn, front[i] ? 1 : 0);
    record.set_u8(row, kParetoFrontSectionColumn, section_front[i] ? 1 : 0);
  }
  if (n > 0) summary.write_bytes(record.datatype(), rows.data(), 0, n, independent);
  if (::fdatasync(sync_fd) != 0)
    throw ArchiveError("archive " + path + ": cannot make the Pareto marks durable (fdatasync: " +
                       std::strerror(errno) + ")");
}

void SweepArchive::close() {
  if (!impl_ || impl_->closed) return;
  Impl& a = *impl_;
  a.closed = true;
  // Every rank has returned from its last write_run (each made its run durable) before rank 0
  // reads the rows back.
  std::optional<std::string> pareto_error;
  try {
    a.comm->barrier();
    on_all_ranks(*a.comm, [&] {
      if (a.rank == 0) a.mark_pareto_front();
    });
  } catch (const ArchiveError& e) {
    pareto_error = e.what();  // the same on every rank; the file is still closed first
  }
  a.close_sync_fd();
  try {
    on_all_ranks(*a.comm, [&] {
      a.runs_state.close();
      a.summary.close();
      if (a.scheduled) a.runs_rung.close();
      a.file.close();
    });
  } catch (...) {
    a.writer_lock.keep_until_exit();  // some rank may still have the file open
    throw;
  }
  a.writer_lock.release();  // on_all_ranks agreed: every rank has closed the file
  if (pareto_error) throw ArchiveError(*pareto_error);
}

}  // namespace aesweep
