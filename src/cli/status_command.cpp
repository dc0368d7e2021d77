// aesweep status ARCHIVE: runs per state, the best runs by a metric, the Pareto front; safe while
// the sweep is still writing the archive (include/aesweep/cli/status.hpp).
#include "aesweep/cli/status.hpp"

#include <boost/program_options.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <string_view>
#include <set>

#include "aesweep/archive/pareto.hpp"
#include "aesweep/archive/sweep_archive.hpp"
#include "aesweep/archive/writer_lock.hpp"
#include "aesweep/cli/commands.hpp"
#include "aesweep/cli/common.hpp"
#include "aesweep/core/error.hpp"

namespace po = boost::program_options;

namespace aesweep::cli {
namespace {

std::string metric_names() {
  std::string names;
  for (const auto& f : scalar_fields()) names += (names.empty() ? "" : ", ") + std::string(f.name);
  return names;
}

StatusCounts count(const std::vector<RunStatus>& states, const std::vector<std::size_t>* only = nullptr) {
  StatusCounts c;
  for (const RunStatus s : run_status_values()) c.by_state.emplace_back(s, 0);
  auto add = [&](RunStatus s) {
    for (auto& [state, n] : c.by_state)
      if (state == s) ++n;
    ++c.runs;
    if (is_done(s)) ++c.done;
  };
  if (only) {
    for (const std::size_t i : *only) add(states[i]);
  } else {
    for (const RunStatus s : states) add(s);
  }
  return c;
}

std::string format_number(double v, const char* format = "%.6g") {
  if (std::isnan(v)) return "nan";
  char text[64];
  std::snprintf(text, sizeof text, format, v);
  return text;
}

std::string counts_line(const StatusCounts& c) {
  std::string line;
  for (const auto& [state, n] : c.by_state) line += (line.empty() ? "" : ", ") + std::to_string(n) + " " + std::string(to_string(state));
  char done[96];
  std::snprintf(done, sizeof done, " (%zu of %zu done, %.0f%%)", c.done, c.runs,
                c.runs ? 100.0 * double(c.done) / double(c.runs) : 100.0);
  return line + done;
}

// ------------------------------------------------------------------------------------ JSON

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", unsigned(c));
      out += esc;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", v);
  return text;
}

std::string json_counts(const StatusCounts& c) {
  std::string out = "{";
  for (const auto& [state, n] : c.by_state) out += json_string(std::string(to_string(state))) + ": " + std::to_string(n) + ", ";
  return out + "\"runs\": " + std::to_string(c.runs) + ", \"done\": " + std::to_string(c.done) + "}";
}

// ------------------------------------------------------------------------------------ table

// One column of the best-runs table: its header and its text for a row. Columns of results that
// only some studies have (a schedule's "rung reached", issue 12 section 2) go here too, reading
// their /summary column through read_done_summary's extra columns.
struct Column {
  std::string header;
  bool left;  // left-aligned (text) rather than right-aligned (numbers)
  std::function<std::string(const SummaryRow&)> text;
};

std::string metric_text(const SummaryRow& r, std::string_view name) {
  for (const auto& f : scalar_fields())
    if (f.name == name) return f.integer ? std::to_string(int(f.get(r.outcome))) : format_number(f.get(r.outcome), f.format);
  return "";
}

// run, section, status, the --by metric, test MSE, latent density and epochs (each once), whether
// the run is on the Pareto front, where it trained.
std::vector<Column> table_columns(const StudyStatus& s) {
  std::vector<Column> columns = {
      {"run", false, [](const SummaryRow& r) { return std::to_string(r.index); }},
      {"section", true, [](const SummaryRow& r) { return r.section.empty() ? std::string("-") : r.section; }},
      {"status", true, [](const SummaryRow& r) { return std::string(to_string(r.outcome.state)); }},
  };
  for (const std::string& metric : {s.by, std::string("test_mse"), std::string("latent_density"), std::string("epochs_run")}) {
    if (std::any_of(columns.begin(), columns.end(), [&](const Column& c) { return c.header == metric; })) continue;
    columns.push_back({metric, false, [metric](const SummaryRow& r) { return metric_text(r, metric); }});
  }
  if (s.has_rung)  // the rung a scheduled run reached (index into the schedule's rungs)
    columns.push_back({"rung", false, [](const SummaryRow& r) {
                         const double v = r.extra.empty() ? std::nan("") : r.extra.front();
                         return std::isfinite(v) && v >= 0 ? std::to_string(int(v)) : std::string("-");
                       }});
  columns.push_back({"pareto", false, [&s](const SummaryRow& r) {
                       const bool on = std::binary_search(s.pareto_front.begin(), s.pareto_front.end(), r.index);
                       return std::string(on ? "*" : "");
                     }});
  columns.push_back({"rank@host", true, [](const SummaryRow& r) {
                       return std::to_string(r.outcome.rank) + "@" + (r.outcome.host.empty() ? std::string("?") : r.outcome.host);
                     }});
  return columns;
}

const char* const kUsage =
    "Usage: aesweep status ARCHIVE [--by METRIC] [--top N] [--json]\n\n"
    "How far a sweep has come: how many runs are pending and how many are done (complete, diverged,\n"
    "failed, ...), per sweep section too, the best runs by a metric, and the Pareto front of test MSE\n"
    "against latent density over the complete runs, and which sweep (pid, host, start) is writing it\n"
    "now, or that none is. Safe while the sweep is still running (under\n"
    "mpirun or Slurm, from another shell or the login node): it reads without a file lock, never writes,\n"
    "and counts only runs whose state byte says done, so every number only grows from one call to\n"
    "the next. Exit status: 0, or 2 for a bad option or a file that is not a readable sweep archive.\n";

const char* lock_kind_name(LockState::Kind kind) {
  switch (kind) {
    case LockState::Kind::absent: return "absent";
    case LockState::Kind::free: return "free";
    case LockState::Kind::held: return "held";
    case LockState::Kind::unknown: return "unknown";
  }
  return "unknown";
}

// What the writer lock tells, without claiming more: locks are only as visible across nodes as the
// file system makes them, and a sweep without a lock (writer_lock.hpp) leaves none to see.
std::string writer_text(const LockState& lock) {
  switch (lock.kind) {
    case LockState::Kind::held:
      return lock.text;
    case LockState::Kind::free:
      return "no program holds its writer lock; the last one to hold it" +
             (lock.text.empty() ? std::string() : " (" + lock.text + ")") +
             " ended or was killed (a lock held on another node is seen only where the file system shares flock "
             "locks: NFS, Lustre with -o flock)";
    case LockState::Kind::absent:
      return "no program holds its writer lock (no lock file)";
    case LockState::Kind::unknown:
      return "unknown (" + lock.text + ")";
  }
  return "unknown";
}

}  // namespace

const ScalarField& status_metric(const std::string& name) {
  for (const auto& f : scalar_fields())
    if (f.name == name) return f;
  std::string shown = name.size() > 80 ? name.substr(0, 80) + "..." : name;
  throw ConfigError("--by: unknown metric '" + shown + "'; valid: " + metric_names());
}

bool higher_is_better(const ScalarField& field) { return field.name == "samples_per_second"; }

std::size_t parse_top(const std::string& text) {
  const std::string range = "an integer in [1, " + std::to_string(kStatusTopMax) + "]";
  std::size_t pos = 0;
  long long value = 0;
  bool ok = !text.empty() && text.size() <= 20;
  if (ok) {
    try {
      value = std::stoll(text, &pos, 10);
    } catch (const std::exception&) {
      ok = false;
    }
  }
  const std::string shown = text.size() > 80 ? text.substr(0, 80) + "..." : text;
  if (!ok || pos != text.size()) throw ConfigError("--top: '" + shown + "' is not " + range);
  if (value < 1 || value > static_cast<long long>(kStatusTopMax))
    throw ConfigError("--top must be " + range + ", got " + std::to_string(value));
  return static_cast<std::size_t>(value);
}

StudyStatus summarize_status(const SweepArchiveReader& reader, const SummarySnapshot& snapshot,
                             const StatusOptions& options) {
  const ScalarField& metric = status_metric(options.by);
  StudyStatus s;
  s.path = reader.path();
  s.format_version = reader.format_version();
  s.config_hash = reader.header().config_hash;
  s.created = reader.header().created;
  s.dataset = reader.header().dataset_name;
  s.counts = count(snapshot.states);
  s.has_rung = !snapshot.extra_present.empty() && snapshot.extra_present.front();
  for (const auto& section : reader.header().sections) {
    std::set<std::size_t> distinct;
    for (const auto run : section.runs)
      if (run >= 0 && static_cast<std::size_t>(run) < snapshot.states.size()) distinct.insert(std::size_t(run));
    const std::vector<std::size_t> runs(distinct.begin(), distinct.end());
    s.sections.push_back({section.name, count(snapshot.states, &runs)});
  }
  s.by = std::string(metric.name);
  s.higher_first = higher_is_better(metric);
  s.top = options.top;

  std::vector<const SummaryRow*> ranked;
  for (const auto& row : snapshot.done)
    if (std::isfinite(metric.get(row.outcome))) ranked.push_back(&row);
  s.ranked = ranked.size();
  std::sort(ranked.begin(), ranked.end(), [&](const SummaryRow* a, const SummaryRow* b) {
    const double va = metric.get(a->outcome), vb = metric.get(b->outcome);
    if (va != vb) return s.higher_first ? va > vb : va < vb;
    return a->index < b->index;
  });
  for (std::size_t k = 0; k < ranked.size() && k < options.top; ++k) s.best.push_back(*ranked[k]);

  std::vector<double> error, density;
  std::vector<bool> complete;
  for (const auto& row : snapshot.done) {
    error.push_back(row.outcome.metrics.test_mse);
    density.push_back(row.outcome.metrics.latent_density);
    complete.push_back(row.outcome.state == RunStatus::complete);
  }
  const std::vector<bool> front = pareto_front(error, density, complete);
  for (std::size_t k = 0; k < snapshot.done.size(); ++k)
    if (front[k]) s.pareto_front.push_back(snapshot.done[k].index);
  return s;
}

StudyStatus read_status(const std::string& path, const StatusOptions& options) {
  (void)status_metric(options.by);  // a bad --by is reported before the file is touched
  const SweepArchiveReader reader = SweepArchiveReader::open_to_watch(path);
  StudyStatus status = summarize_status(reader, reader.read_done_summary({kRungColumn}), options);
  status.writer_lock = WriterLock::probe(resolve_links(path));
  return status;
}

std::string status_table(const StudyStatus& s) {
  std::string out = "archive " + s.path + ": " + std::to_string(s.counts.runs) + " runs";
  if (!s.dataset.empty()) out += " on " + s.dataset;
  out += ", format " + std::to_string(s.format_version) + ", created " + s.created + "\n";
  out += "runs: " + counts_line(s.counts) + "\n";
  out += "written now by: " + writer_text(s.writer_lock) + "\n";
  if (!s.sections.empty()) {
    std::size_t width = 7;
    for (const auto& section : s.sections) width = std::max(width, section.name.size());
    out += "sections:\n";
    for (const auto& section : s.sections) {
      std::string name = section.name;
      name.resize(width, ' ');
      out += "  " + name + "  " + counts_line(section.counts) + "\n";
    }
  }
  if (s.best.empty()) {
    out += "best runs by " + s.by + ": none yet (no done run has a finite " + s.by + ")\n";
  } else {
    char head[256];
    std::snprintf(head, sizeof head, "best %zu of %zu runs by %s (%s first):\n", s.best.size(), s.ranked,
                  s.by.c_str(), s.higher_first ? "highest" : "lowest");
    out += head;
    const std::vector<Column> columns = table_columns(s);
    std::vector<std::vector<std::string>> cells(1);
    for (const auto& c : columns) cells[0].push_back(c.header);
    for (const auto& row : s.best) {
      cells.emplace_back();
      for (const auto& c : columns) cells.back().push_back(c.text(row));
    }
    std::vector<std::size_t> width(columns.size(), 0);
    for (const auto& line : cells)
      for (std::size_t k = 0; k < line.size(); ++k) width[k] = std::max(width[k], line[k].size());
    for (const auto& line : cells) {
      std::string text = " ";
      for (std::size_t k = 0; k < line.size(); ++k) {
        const std::size_t pad = width[k] - line[k].size();
        text.push_back(' ');
        if (!columns[k].left) text.append(pad, ' ');
        text.append(line[k]);
        if (columns[k].left) text.append(pad, ' ');
      }
      while (!text.empty() && text.back() == ' ') text.pop_back();
      out += text + "\n";
    }
  }
  out += "Pareto front (test MSE vs latent density, complete runs; * above): ";
  if (s.pareto_front.empty()) {
    out += "none yet\n";
  } else {
    out += std::to_string(s.pareto_front.size()) + (s.pareto_front.size() == 1 ? " run:" : " runs:");
    std::size_t shown = 0;
    for (const auto i : s.pareto_front) {
      if (shown++ == 20) {
        out += " ... (" + std::to_string(s.pareto_front.size() - 20) + " more; --json lists all)";
        break;
      }
      out += " " + std::to_string(i);
    }
    out += "\n";
  }
  return out;
}

std::string status_json(const StudyStatus& s) {
  std::string out = "{\"archive\": " + json_string(s.path) + ", \"format_version\": " + std::to_string(s.format_version) +
                    ", \"config_hash\": " + json_string(s.config_hash) + ", \"created\": " + json_string(s.created) +
                    ", \"dataset\": " + json_string(s.dataset) +
                    ", \"writer\": " +
                    (s.writer_lock.kind == LockState::Kind::held ? json_string(s.writer_lock.text) : std::string("null")) +
                    ", \"writer_lock\": " + json_string(lock_kind_name(s.writer_lock.kind)) +
                    ", \"writer_lock_note\": " + json_string(writer_text(s.writer_lock)) +
                    ",\n \"counts\": " + json_counts(s.counts) +
                    ",\n \"sections\": [";
  for (std::size_t k = 0; k < s.sections.size(); ++k)
    out += std::string(k ? ", " : "") + "{\"name\": " + json_string(s.sections[k].name) +
           ", \"counts\": " + json_counts(s.sections[k].counts) + "}";
  out += "],\n \"by\": " + json_string(s.by) + ", \"order\": " + json_string(s.higher_first ? "highest first" : "lowest first") +
         ", \"top\": " + std::to_string(s.top) + ", \"ranked\": " + std::to_string(s.ranked) + ",\n \"best\": [";
  for (std::size_t k = 0; k < s.best.size(); ++k) {
    const SummaryRow& r = s.best[k];
    out += std::string(k ? ",\n  " : "\n  ") + "{\"run\": " + std::to_string(r.index) + ", \"section\": " +
           json_string(r.section) + ", \"status\": " + json_string(std::string(to_string(r.outcome.state)));
    for (const auto& f : scalar_fields()) out += ", " + json_string(std::string(f.name)) + ": " + json_number(f.get(r.outcome));
    out += ", \"rank\": " + std::to_string(r.outcome.rank) + ", \"host\": " + json_string(r.outcome.host) +
           ", \"error\": " + json_string(r.outcome.error);
    if (s.has_rung) out += ", \"rung\": " + json_number(r.extra.empty() ? std::nan("") : r.extra.front());
    out += "}";
  }
  out += "],\n \"pareto_front\": [";
  for (std::size_t k = 0; k < s.pareto_front.size(); ++k) out += (k ? ", " : "") + std::to_string(s.pareto_front[k]);
  return out + "]}\n";
}

int status_command(const std::vector<std::string>& args) {
  po::options_description visible("Options");
  visible.add_options()
      ("by", po::value<std::string>()->default_value("test_mse"),
       ("rank the done runs by this outcome column (runs where it is NaN, e.g. diverged ones, are left "
        "out); lowest first, except samples_per_second (highest first); one of: " + metric_names()).c_str())
      ("top", po::value<std::string>()->default_value("10"),
       ("how many of the best runs to show: an integer in [1, " + std::to_string(kStatusTopMax) + "]").c_str())
      ("json", "print one JSON object (counts, sections, best runs with every outcome column, Pareto front; "
               "NaN as null) instead of the table");
  po::variables_map vm;
  if (!parse_command_line(args, visible, kUsage, vm, "archive")) return 0;
  if (!vm.count("archive")) throw ConfigError("missing ARCHIVE, the sweep's HDF5 file (see 'aesweep status --help')");
  StatusOptions options;
  options.by = vm["by"].as<std::string>();
  options.top = parse_top(vm["top"].as<std::string>());
  const StudyStatus status = read_status(vm["archive"].as<std::string>(), options);
  const std::string text = vm.count("json") ? status_json(status) : status_table(status);
  std::fputs(text.c_str(), stdout);
  return 0;
}

}  // namespace aesweep::cli
