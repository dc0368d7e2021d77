#include "aesweep/archive/sweep_archive_reader.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>

#include "aesweep/core/error.hpp"
#include "layout.hpp"

namespace aesweep {

namespace {

Eigen::MatrixXf to_matrix(const std::vector<float>& values, Eigen::Index rows, Eigen::Index cols) {
  if (rows < 0 || cols < 0 || values.size() != static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols))
    throw ArchiveError("archive: a dataset holds " + std::to_string(values.size()) + " values where " +
                       std::to_string(rows) + " x " + std::to_string(cols) + " were expected: the file is damaged");
  Eigen::MatrixXf m(rows, cols);
  std::copy(values.begin(), values.end(), m.data());
  return m;
}

// The dataset's dimensions, which must be `want` (-1: any value, learnt here); every dimension
// fits an int. Throws ArchiveError naming the dataset: a damaged or foreign file.
void expect_dims(const h5::Dataset& ds, std::initializer_list<int*> want) {
  const auto dims = ds.dims();
  std::string expected;
  for (int* w : want) expected += (expected.empty() ? "" : " x ") + (*w < 0 ? std::string("any size") : std::to_string(*w));
  if (want.size() == 1 && *want.begin()[0] < 0) expected = "one-dimensional, at most " + std::to_string(std::numeric_limits<int>::max());
  const auto fail = [&] {
    std::string got;
    for (auto d : dims) got += (got.empty() ? "" : " x ") + std::to_string(d);
    throw ArchiveError("archive: " + ds.name() + " is " + (dims.empty() ? "a scalar" : got) + ", expected " +
                       (want.size() == 0 ? "a scalar" : expected) + ": the file is damaged");
  };
  if (dims.size() != want.size()) fail();
  std::size_t axis = 0;
  for (int* w : want) {
    const auto d = dims[axis++];
    if (d > static_cast<hsize_t>(std::numeric_limits<int>::max())) fail();
    if (*w < 0) *w = static_cast<int>(d);
    else if (static_cast<hsize_t>(*w) != d) fail();
  }
}

// The non-empty lines of a text.
std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// A search section's method, seed, points and distributions; a sweep section (and an archive from
// before search sections) has none.
void read_search_attributes(const h5::Group& g, StudySection& section) {
  if (!g.has_attribute("method")) return;
  section.method = g.read_string_attribute("method");
  section.seed = g.read_int_attribute("seed");
  section.points = g.read_int_attribute("points");
  section.distributions = lines(g.read_string_attribute("distributions"));
}

}  // namespace

const std::vector<RunStatus>& run_status_values() {
  static const std::vector<RunStatus> values = [] {
    std::vector<RunStatus> v;
    for (int b = 0; b <= std::numeric_limits<std::uint8_t>::max(); ++b)
      if (to_string(static_cast<RunStatus>(b)) != "?") v.push_back(static_cast<RunStatus>(b));
    return v;
  }();
  return values;
}

std::optional<RunStatus> run_status_of_byte(std::uint8_t byte) {
  const auto& values = run_status_values();
  const auto status = static_cast<RunStatus>(byte);
  if (std::find(values.begin(), values.end(), status) == values.end()) return std::nullopt;
  return status;
}

std::vector<RunStatus> run_states_of_bytes(const std::vector<std::uint8_t>& bytes, const std::string& path) {
  std::vector<RunStatus> states;
  states.reserve(bytes.size());
  for (const auto b : bytes) {
    const auto status = run_status_of_byte(b);
    if (!status)
      throw ArchiveError("archive " + path + " has an unknown run state " + std::to_string(b) + " in /runs_state");
    states.push_back(*status);
  }
  return states;
}

namespace {
// Plain answers for the common mistakes before HDF5's own, longer error stack.
void require_hdf5_file(const std::string& path) {
  bool hdf5 = false;
  try {
    hdf5 = h5::is_hdf5_file(path);
  } catch (const ArchiveError&) {
    throw ArchiveError("archive " + path + " does not exist or is not a regular file");
  }
  if (!hdf5) throw ArchiveError("archive " + path + " is not an HDF5 file");
}

// The errno with which HDF5 failed to lock a file it opened ("unable to lock file, errno = 11"),
// 0 when that is not why it failed.
int lock_failure(const ArchiveError& e) {
  const std::string text = std::string(e.what()) + " " + e.detail();
  const std::string marker = "unable to lock file, errno = ";
  const auto at = text.find(marker);
  if (at == std::string::npos) return 0;
  return std::atoi(text.c_str() + at + marker.size());
}

// A damaged archive fails somewhere inside HDF5: lead with one sentence that names the file;
// the library's chain stays in the detail (--verbose).
template <class Step>
void reading(const std::string& path, Step&& step) {
  try {
    step();
  } catch (const ArchiveError& e) {
    std::string what = e.what();
    if (what.rfind("HDF5:", 0) != 0) throw;
    // HDF5 could not take its flock: the file is fine, another program has it open, or the file
    // system refused the lock.
    if (const int err = lock_failure(e); err == EWOULDBLOCK) throw opened_elsewhere(path);
    else if (err != 0)
      throw ArchiveError("archive " + path + ": HDF5 cannot lock it (" + std::strerror(err) +
                             "); where the file system has no working locks, HDF5_USE_FILE_LOCKING=FALSE turns "
                             "HDF5's off",
                         e.detail());
    // "HDF5: cannot open file 'PATH' (cause)": the path is named once, in front.
    const std::string opening = "HDF5: cannot open file '" + path + "' (";
    if (what.rfind(opening, 0) == 0 && what.back() == ')') what = what.substr(opening.size(), what.size() - opening.size() - 1);
    throw ArchiveError("archive " + path + " cannot be read: it is damaged, truncated or not an aesweep archive (" +
                           what + ")",
                       e.detail());
  }
}
}  // namespace

SweepArchiveReader SweepArchiveReader::open(const std::string& path, h5::Access access) {
  require_hdf5_file(path);
  SweepArchiveReader r;
  r.path_ = path;
  // HDF5 fails at once where another program holds a conflicting lock on the file; one opening it
  // for writing waits out, for up to 2 s, readers that hold it a moment (open_to_visit).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (;;) {
    try {
      r.file_ = h5::File::open(path, access, h5::FileAccess::defaults());
      break;
    } catch (const ArchiveError& e) {
      if (access != h5::Access::read_write || lock_failure(e) != EWOULDBLOCK ||
          std::chrono::steady_clock::now() >= until)
        reading(path, [&] { throw; });  // the error, told as reading() tells it
    }
    ::usleep(20000);
  }
  reading(path, [&] { r.load(); });
  return r;
}

namespace {
// Read-only access without HDF5's flock.
h5::FileAccess unlocked_access(const std::string& path) {
  h5::FileAccess fapl = h5::FileAccess::defaults();
  try {
    fapl.disable_file_locking();
  } catch (const ArchiveError& e) {
    throw ArchiveError("HDF5: cannot turn off file locking for " + path, e.what());
  }
  return fapl;
}
}  // namespace

SweepArchiveReader SweepArchiveReader::open_to_watch(const std::string& path) {
  require_hdf5_file(path);
  SweepArchiveReader r;
  r.path_ = path;
  reading(path, [&] {
    // No flock: a reader must never make a writer or another reader wait or fail, nor fail on a
    // lock someone else holds.
    r.file_ = h5::File::open(path, h5::Access::read_only, unlocked_access(path));
    r.load(/*every_run=*/false);
  });
  return r;
}

SweepArchiveReader SweepArchiveReader::open_to_visit(const std::string& path, std::chrono::milliseconds patience,
                                                     bool every_run) {
  require_hdf5_file(path);
  SweepArchiveReader r;
  r.path_ = path;
  // The visit's lock stands for HDF5's: one shared flock, taken with patience, where HDF5 would
  // fail at once when a sweep's MPI-IO write holds the file on NFS. The lock and the open file
  // must be one file: the path may be renamed over between the two (a sweep's --overwrite).
  for (int attempt = 0;; ++attempt) {
    r.visit_lock_ = ArchiveReadLock::acquire(path, patience);
    reading(path, [&] { r.file_ = h5::File::open(path, h5::Access::read_only, unlocked_access(path)); });
    if (!r.visit_lock_.held() || r.visit_lock_.locks(path)) break;
    r.file_.close();
    if (attempt == 3)
      throw ArchiveError("archive " + path + " was replaced 4 times while it was being opened for reading");
  }
  reading(path, [&] { r.load(every_run); });
  return r;
}

SweepArchiveReader SweepArchiveReader::open(const std::string& path, const Communicator& comm, h5::Access access) {
  require_hdf5_file(path);  // every rank checks the same file: same outcome everywhere
  SweepArchiveReader r;
  r.path_ = path;
  reading(path, [&] {
    r.file_ = h5::File::open(path, access, h5::FileAccess::mpio(comm));
    r.load();
  });
  return r;
}

namespace {

// The study-wide record (everything open_for_sweep wrote from the ArchiveHeader).
ArchiveHeader read_header(const h5::File& file) {
  ArchiveHeader h;
  h.aesweep_version = file.read_string_attribute("aesweep_version");
  h.config_text = file.read_string_attribute("config_text");
  h.config_hash = file.read_string_attribute("config_hash");
  h.created = file.read_string_attribute("created");
  h.command = file.read_string_attribute("command");
  if (file.has_attribute("archive_id")) h.archive_id = file.read_string_attribute("archive_id");
  if (file.has_attribute("schedule")) h.schedule = file.read_string_attribute("schedule");

  const h5::Group data = file.open_group(layout::kDatasetGroup);
  h.dataset_name = data.read_string_attribute("name");
  h.n_train = data.read_int_attribute("n_train");
  h.n_test = data.read_int_attribute("n_test");
  const std::int64_t input_size = data.read_int_attribute("input_size");
  constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();
  if (h.n_train < 0 || h.n_test < 0 || h.n_test > kIntMax || input_size < 1 || input_size > kIntMax)
    throw ArchiveError("archive: /dataset says " + std::to_string(h.n_train) + " training and " +
                       std::to_string(h.n_test) + " test samples of " + std::to_string(input_size) +
                       " values: the file is damaged");
  h.input_size = static_cast<int>(input_size);
  // The data's identity, written since archives record it (absent in older archives).
  if (data.has_attribute("content_hash")) {
    h.data_fingerprint = data.read_string_attribute("content_hash");
    h.data_files = lines(data.read_string_attribute("files"));
    h.train_samples_option = data.read_int_attribute("train_samples_option");
    h.test_samples_option = data.read_int_attribute("test_samples_option");
  }
  int n_test = static_cast<int>(h.n_test), n_recon = -1, input = h.input_size;
  const h5::Dataset labels = data.open_dataset("test_labels"), recon = data.open_dataset("recon_indices"),
                    originals = data.open_dataset("recon_originals");
  expect_dims(labels, {&n_test});
  expect_dims(recon, {&n_recon});
  expect_dims(originals, {&n_recon, &input});
  h.test_labels = labels.read<std::uint8_t>();
  h.recon_indices = recon.read<std::int64_t>();
  for (const auto i : h.recon_indices)
    if (i < 0 || i >= h.n_test)
      throw ArchiveError("archive: /dataset/recon_indices holds " + std::to_string(i) + ", outside the " +
                         std::to_string(h.n_test) + " test samples: the file is damaged");
  h.recon_originals = to_matrix(originals.read<float>(), h.input_size,
                                static_cast<Eigen::Index>(h.recon_indices.size()));

  if (file.has_child(layout::kSectionsGroup)) {
    const h5::Group sections = file.open_group(layout::kSectionsGroup);
    for (const auto& name : sections.child_names()) {
      const h5::Group g = sections.open_group(name);
      StudySection section;
      section.name = g.read_string_attribute("name");
      section.origin = g.read_string_attribute("origin");
      section.swept_keys = lines(g.read_string_attribute("swept_keys"));
      read_search_attributes(g, section);
      section.runs = g.open_dataset("runs").read<std::int64_t>();
      h.sections.push_back(std::move(section));
    }
  }
  return h;
}

// One run as /runs/<index> lists it.
ArchivedRun read_run(const h5::Group& g, RunStatus state, const ArchiveHeader& header) {
  ArchivedRun run;
  run.index = static_cast<std::size_t>(g.read_int_attribute(layout::kIndexAttr));
  run.section = g.read_string_attribute(layout::kSectionAttr);
  if (g.has_attribute(layout::kSectionsAttr)) run.sections = lines(g.read_string_attribute(layout::kSectionsAttr));
  else if (!run.section.empty()) run.sections = {run.section};
  for (auto& [key, value] : layout::parse_settings_text(g.read_string_attribute(layout::kSettingsAttr))) {
    Setting s;
    s.key = key;
    s.value = std::move(value);
    if (g.has_attribute(key) && g.attribute_kind(key) != h5::AttributeKind::string)
      s.numeric = g.read_double_attribute(key);
    run.settings.push_back(std::move(s));
  }
  run.state = state;
  // Every dataset's shape agrees with the others and with /dataset, so reads can trust them.
  RunShape& s = run.shape;
  s.hidden = -1;
  s.epochs = -1;
  s.n_test = static_cast<int>(header.n_test);  // checked to fit when the header was read
  s.n_recon = static_cast<int>(header.recon_indices.size());
  s.input_size = header.input_size;
  expect_dims(g.open_dataset(layout::kEncoderBias), {&s.hidden});
  expect_dims(g.open_dataset(layout::kEncoderKernel), {&s.input_size, &s.hidden});
  expect_dims(g.open_dataset(layout::kDecoderKernel), {&s.hidden, &s.input_size});
  expect_dims(g.open_dataset(layout::kDecoderBias), {&s.input_size});
  expect_dims(g.open_dataset(layout::kLatentTest), {&s.n_test, &s.hidden});
  expect_dims(g.open_dataset(layout::kReconstructions), {&s.n_recon, &s.input_size});
  for (const auto& curve : curve_fields()) expect_dims(g.open_dataset(std::string(curve.name)), {&s.epochs});
  expect_dims(g.open_dataset(layout::kMetrics), {});
  if (g.has_child(layout::kCheckpoint)) {  // a scheduled study's
    int bytes = -1;
    expect_dims(g.open_dataset(layout::kCheckpoint), {&bytes});
    s.checkpoint_bytes = bytes;
  }
  return run;
}

}  // namespace

void SweepArchiveReader::load(bool every_run) {
  if (!file_.has_attribute("format_version") || !file_.has_child(layout::kRunsGroup) ||
      !file_.has_child(layout::kRunsState))
    throw ArchiveError("archive " + path_ + " is not an aesweep sweep archive (no format_version, /runs or /runs_state)");
  format_version_ = file_.read_int_attribute("format_version");
  if (format_version_ > kArchiveFormatVersion)
    throw ArchiveError("archive " + path_ + " has format version " + std::to_string(format_version_) +
                       ", newer than this aesweep reads (" + std::to_string(kArchiveFormatVersion) + ")");

  header_ = read_header(file_);
  // The summary table is the report's and `status`'s index of the runs; nothing here reads it,
  // but a damaged one (its header failing its checksum) is said now, not after an analysis has
  // written its results into the file.
  if (file_.has_child(layout::kSummary)) (void)file_.open_dataset(layout::kSummary);
  const std::vector<RunStatus> states = read_states();
  run_count_ = states.size();
  const h5::Group runs = file_.open_group(layout::kRunsGroup);
  // Counted, not listed, where the runs are not read: a visit per run of a study of 10^5 runs
  // must not list 10^5 names each time.
  const std::vector<std::string> names = every_run ? runs.child_names() : std::vector<std::string>{};
  const std::size_t groups = every_run ? names.size() : runs.child_count();
  if (groups != states.size())
    throw ArchiveError("archive " + path_ + " has " + std::to_string(groups) + " run groups but " +
                       std::to_string(states.size()) + " entries in /runs_state");
  runs_.clear();
  if (!every_run) return;
  runs_.reserve(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] != layout::run_name(i))
      throw ArchiveError("archive " + path_ + ": expected run group " + layout::run_name(i) + ", found " + names[i]);
    runs_.push_back(read_run(runs.open_group(names[i]), states[i], header_));
  }
}


ArchiveError SweepArchiveReader::no_run(std::size_t run_index, std::size_t count) const {
  return ArchiveError("archive " + path_ + " has no run " + std::to_string(run_index) + " (it holds " +
                      std::to_string(count) + ")");
}

const ArchivedRun& SweepArchiveReader::run(std::size_t run_index) const {
  if (run_index >= runs_.size()) throw no_run(run_index, runs_.size());
  return runs_[run_index];
}

std::vector<RunStatus> SweepArchiveReader::read_states() const {
  const h5::Dataset dataset = file_.open_dataset(layout::kRunsState);
  int n = -1;
  expect_dims(dataset, {&n});
  return run_states_of_bytes(dataset.read<std::uint8_t>(), path_);
}

namespace {

// The member `name` of the compound file type: its class and size, or nothing.
struct Member {
  H5T_class_t type_class;
  std::size_t size;
};
std::optional<Member> compound_member(const h5::Datatype& type, const std::string& name) {
  const auto member = type.member_type(name);
  if (!member) return std::nullopt;
  return Member{member->type_class(), member->size()};
}

bool is_number(const Member& m) { return m.type_class == H5T_INTEGER || m.type_class == H5T_FLOAT; }

// A numeric column of a record as a double, whatever its kind.
double number(const layout::RecordLayout& record, const char* row, const std::string& name) {
  const auto& field = record.fields()[*record.find(name)];
  switch (field.kind) {
    case layout::FieldKind::f64: return record.get_f64(row, name);
    case layout::FieldKind::i64: return double(record.get_i64(row, name));
    case layout::FieldKind::i32: return double(record.get_i32(row, name));
    case layout::FieldKind::u8: return double(record.get_u8(row, name));
    case layout::FieldKind::str: break;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

SummarySnapshot SweepArchiveReader::read_done_summary(const std::vector<std::string>& extra_numeric) const {
  SummarySnapshot snapshot;
  // The states first: a run done in them has its row whole on disk (written before its state byte).
  snapshot.states = read_states();
  const std::string where = "archive " + path_ + ": ";
  if (!file_.has_child(layout::kSummary)) throw ArchiveError(where + "no /summary: the file is damaged");
  const h5::Dataset summary = file_.open_dataset(layout::kSummary);
  int rows = static_cast<int>(snapshot.states.size());
  expect_dims(summary, {&rows});
  const h5::Datatype type = summary.type();
  if (type.type_class() != H5T_COMPOUND) throw ArchiveError(where + "/summary is not a table: the file is damaged");

  // The columns to read, each only if the file has it with a fitting type (HDF5 converts by name).
  layout::RecordLayout record;
  auto want = [&](const std::string& name, layout::FieldKind kind, bool required) {
    const auto m = compound_member(type, name);
    const bool ok = m && (kind == layout::FieldKind::str ? m->type_class == H5T_STRING : is_number(*m));
    if (!ok) {
      if (required) throw ArchiveError(where + "/summary has no usable column '" + name + "': the file is damaged");
      return false;
    }
    if (!record.find(name)) record.add(name, kind, kind == layout::FieldKind::str ? std::min<std::size_t>(m->size, 4096) : 0);
    return true;
  };
  want("index", layout::FieldKind::i64, true);
  const bool has_section = want("section", layout::FieldKind::str, false);
  layout::RecordLayout outcome;
  layout::add_outcome_fields(outcome, false);
  std::vector<bool> outcome_present;
  for (const auto& f : outcome.fields()) outcome_present.push_back(want(f.name, f.kind, false));
  const bool has_pareto = want(kParetoFrontColumn, layout::FieldKind::u8, false) &&
                          want(kParetoFrontSectionColumn, layout::FieldKind::u8, false);
  const bool has_compute = want(kComputeColumn, layout::FieldKind::str, false);
  for (const auto& name : extra_numeric) snapshot.extra_present.push_back(want(name, layout::FieldKind::f64, false));

  std::vector<char> bytes(record.size() * snapshot.states.size());
  if (!snapshot.states.empty())
    summary.read_bytes(record.datatype(), bytes.data(), bytes.size(), 0, snapshot.states.size());
  for (std::size_t i = 0; i < snapshot.states.size(); ++i) {
    if (!aesweep::is_done(snapshot.states[i])) continue;
    const char* row = bytes.data() + i * record.size();
    SummaryRow r;
    r.index = i;
    const std::int64_t stored_index = record.get_i64(row, "index");
    if (stored_index != static_cast<std::int64_t>(i))
      throw ArchiveError(where + "/summary row " + std::to_string(i) + " says run " + std::to_string(stored_index) +
                         ": the file is damaged");
    if (has_section) r.section = record.get_str(row, "section");
    r.outcome.state = snapshot.states[i];
    for (std::size_t k = 0; k < outcome.fields().size(); ++k) {
      if (!outcome_present[k]) continue;
      const auto& f = outcome.fields()[k];
      if (f.name == "rank") r.outcome.rank = record.get_i32(row, f.name);
      else if (f.name == "host") r.outcome.host = record.get_str(row, f.name);
      else if (f.name == "error") r.outcome.error = record.get_str(row, f.name);
    }
    for (const auto& field : scalar_fields()) {
      const std::string name(field.name);
      if (record.find(name)) field.set(r.outcome, number(record, row, name));
      else field.set(r.outcome, field.integer ? 0.0 : std::numeric_limits<double>::quiet_NaN());
    }
    if (has_pareto) {
      r.pareto_front = record.get_u8(row, kParetoFrontColumn) != 0;
      r.pareto_front_section = record.get_u8(row, kParetoFrontSectionColumn) != 0;
    }
    if (has_compute) r.compute = record.get_str(row, kComputeColumn);
    for (std::size_t k = 0; k < extra_numeric.size(); ++k)
      r.extra.push_back(snapshot.extra_present[k] ? number(record, row, extra_numeric[k])
                                                   : std::numeric_limits<double>::quiet_NaN());
    snapshot.done.push_back(std::move(r));
  }
  return snapshot;
}

h5::Group SweepArchiveReader::run_group(std::size_t run_index) const {
  (void)run(run_index);  // range check
  return file_.open_group(layout::run_path(run_index));
}

RunOutcome SweepArchiveReader::read_outcome(std::size_t run_index) const {
  layout::RecordLayout record;
  layout::add_outcome_fields(record, true);
  std::vector<char> bytes(record.size());
  // HDF5 matches compound members by name, so this reads files with extra columns too.
  run_group(run_index).open_dataset(layout::kMetrics).read_bytes(record.datatype(), bytes.data(), bytes.size(), 0, 1);
  return layout::get_outcome(record, bytes.data());
}

Eigen::MatrixXf SweepArchiveReader::read_latent(std::size_t run_index) const {
  if (runs_.size() == run_count_) {
    const RunShape& s = run(run_index).shape;
    return to_matrix(run_group(run_index).open_dataset(layout::kLatentTest).read<float>(), s.hidden, s.n_test);
  }
  // Only the header was read: the shape comes from the dataset, checked against the header.
  if (run_index >= run_count_) throw no_run(run_index, run_count_);
  const h5::Dataset latent = file_.open_dataset(layout::run_path(run_index) + "/" + layout::kLatentTest);
  int n_test = static_cast<int>(header_.n_test), hidden = -1;
  expect_dims(latent, {&n_test, &hidden});
  return to_matrix(latent.read<float>(), hidden, n_test);
}

Eigen::MatrixXf SweepArchiveReader::read_reconstructions(std::size_t run_index) const {
  const RunShape& s = run(run_index).shape;
  return to_matrix(run_group(run_index).open_dataset(layout::kReconstructions).read<float>(), s.input_size,
                   s.n_recon);
}

RunResult SweepArchiveReader::read_result(std::size_t run_index) const {
  const RunStatus state = read_states().at(run_index);
  if (state == RunStatus::pending)
    throw ArchiveError("archive " + path_ + ": run " + std::to_string(run_index) +
                       " is pending (not trained yet, its datasets hold no data)");
  const RunShape& s = run(run_index).shape;
  const h5::Group g = run_group(run_index);
  const RunOutcome outcome = read_outcome(run_index);

  RunResult r;
  r.status = state;  // a done state (run_status_of_byte checked it names one)
  r.error = outcome.error;
  r.w1 = to_matrix(g.open_dataset(layout::kEncoderKernel).read<float>(), s.hidden, s.input_size);
  const auto b1 = g.open_dataset(layout::kEncoderBias).read<float>();
  r.b1 = Eigen::Map<const Eigen::VectorXf>(b1.data(), static_cast<Eigen::Index>(b1.size()));
  r.w2 = to_matrix(g.open_dataset(layout::kDecoderKernel).read<float>(), s.input_size, s.hidden);
  const auto b2 = g.open_dataset(layout::kDecoderBias).read<float>();
  r.b2 = Eigen::Map<const Eigen::VectorXf>(b2.data(), static_cast<Eigen::Index>(b2.size()));
  r.test_latent = to_matrix(g.open_dataset(layout::kLatentTest).read<float>(), s.hidden, s.n_test);

  const auto& fields = curve_fields();
  std::vector<std::vector<double>> curves;
  for (const auto& curve : fields) curves.push_back(g.open_dataset(std::string(curve.name)).read<double>());
  // Epoch records that were written: the count write_run was given, which is at most epochs.
  // An epoch not reached is NaN in every curve; a written one has at least its time.
  auto written = [&](std::size_t e) {
    return std::any_of(curves.begin(), curves.end(), [&](const auto& c) { return !std::isnan(c[e]); });
  };
  std::size_t n = 0;
  while (n < curves.front().size() && written(n)) ++n;
  for (std::size_t e = 0; e < n; ++e) {
    EpochRecord rec;
    for (std::size_t c = 0; c < fields.size(); ++c) rec.*fields[c].member = curves[c][e];
    r.epochs.push_back(rec);
  }
  static_cast<RunScalars&>(r) = outcome;  // metrics, epochs_run, wall_seconds, samples_per_second
  return r;
}

}  // namespace aesweep
