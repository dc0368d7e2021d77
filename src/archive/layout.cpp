#include "layout.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "aesweep/core/error.hpp"

namespace aesweep::layout {

std::string run_name(std::size_t index) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%06zu", index);
  return buffer;
}

std::string run_path(std::size_t index) { return std::string(kRunsGroup) + "/" + run_name(index); }

std::string settings_text(const std::vector<Setting>& settings) {
  std::string text;
  for (const auto& s : settings) {
    if (s.key.empty() || s.key.find_first_of("=\n\\") != std::string::npos || s.key.front() == ' ' ||
        s.key.back() == ' ')
      throw ArchiveError("archive: setting key '" + s.key +
                         "' cannot be stored (expected a non-empty name without '=', '\\', newlines "
                         "or surrounding spaces)");
    text += s.key;
    text += " = ";
    for (const char c : s.value) {
      if (c == '\\') text += "\\\\";
      else if (c == '\n') text += "\\n";
      else text += c;
    }
    text += '\n';
  }
  return text;
}

std::vector<std::pair<std::string, std::string>> parse_settings_text(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (line.empty()) continue;
    const std::size_t eq = line.find(" = ");
    if (eq == std::string_view::npos)
      throw ArchiveError("archive: malformed settings line '" + std::string(line) +
                         "' (expected 'key = value')");
    std::string value;
    const std::string_view raw = line.substr(eq + 3);
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\' && i + 1 < raw.size()) {
        value += raw[i + 1] == 'n' ? '\n' : raw[i + 1];
        ++i;
      } else {
        value += raw[i];
      }
    }
    out.emplace_back(std::string(line.substr(0, eq)), std::move(value));
  }
  return out;
}

// ---------------------------------------------------------------------------------- records

namespace {

std::size_t kind_size(FieldKind kind) {
  switch (kind) {
    case FieldKind::f64: return 8;
    case FieldKind::i64: return 8;
    case FieldKind::i32: return 4;
    case FieldKind::u8: return 1;
    case FieldKind::str: return 0;
  }
  return 0;
}

}  // namespace

void RecordLayout::add(const std::string& name, FieldKind kind, std::size_t string_bytes) {
  if (find(name)) throw ArchiveError("archive: duplicate column '" + name + "' in a record layout");
  const std::size_t bytes = kind == FieldKind::str ? std::max<std::size_t>(1, string_bytes) : kind_size(kind);
  fields_.push_back(Field{name, kind, bytes, size_});
  size_ += bytes;
}

std::optional<std::size_t> RecordLayout::find(std::string_view name) const {
  for (std::size_t i = 0; i < fields_.size(); ++i)
    if (fields_[i].name == name) return i;
  return std::nullopt;
}

h5::Datatype RecordLayout::datatype() const {
  h5::Datatype type = h5::Datatype::compound(std::max<std::size_t>(1, size_));
  for (const auto& f : fields_) {
    switch (f.kind) {
      case FieldKind::f64: type.insert(f.name, f.offset, h5::Datatype::native<double>()); break;
      case FieldKind::i64: type.insert(f.name, f.offset, h5::Datatype::native<std::int64_t>()); break;
      case FieldKind::i32: type.insert(f.name, f.offset, h5::Datatype::native<std::int32_t>()); break;
      case FieldKind::u8: type.insert(f.name, f.offset, h5::Datatype::native<std::uint8_t>()); break;
      case FieldKind::str: type.insert(f.name, f.offset, h5::Datatype::fixed_string(f.size)); break;
    }
  }
  return type;
}

std::vector<char> RecordLayout::blank() const {
  std::vector<char> record(size_, 0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const auto& f : fields_)
    if (f.kind == FieldKind::f64) std::memcpy(record.data() + f.offset, &nan, sizeof nan);
  return record;
}

const Field& RecordLayout::field(std::string_view name, FieldKind kind) const {
  const auto i = find(name);
  if (!i) throw ArchiveError("archive: no column '" + std::string(name) + "' in the record layout");
  const Field& f = fields_[*i];
  if (f.kind != kind) throw ArchiveError("archive: column '" + std::string(name) + "' has another type");
  return f;
}

void RecordLayout::set_f64(char* record, std::string_view name, double v) const {
  std::memcpy(record + field(name, FieldKind::f64).offset, &v, sizeof v);
}
void RecordLayout::set_i64(char* record, std::string_view name, std::int64_t v) const {
  std::memcpy(record + field(name, FieldKind::i64).offset, &v, sizeof v);
}
void RecordLayout::set_i32(char* record, std::string_view name, std::int32_t v) const {
  std::memcpy(record + field(name, FieldKind::i32).offset, &v, sizeof v);
}
void RecordLayout::set_u8(char* record, std::string_view name, std::uint8_t v) const {
  std::memcpy(record + field(name, FieldKind::u8).offset, &v, sizeof v);
}
void RecordLayout::set_str(char* record, std::string_view name, std::string_view v) const {
  const Field& f = field(name, FieldKind::str);
  std::memset(record + f.offset, 0, f.size);
  std::memcpy(record + f.offset, v.data(), std::min(v.size(), f.size));
}
double RecordLayout::get_f64(const char* record, std::string_view name) const {
  double v;
  std::memcpy(&v, record + field(name, FieldKind::f64).offset, sizeof v);
  return v;
}
std::int64_t RecordLayout::get_i64(const char* record, std::string_view name) const {
  std::int64_t v;
  std::memcpy(&v, record + field(name, FieldKind::i64).offset, sizeof v);
  return v;
}
std::int32_t RecordLayout::get_i32(const char* record, std::string_view name) const {
  std::int32_t v;
  std::memcpy(&v, record + field(name, FieldKind::i32).offset, sizeof v);
  return v;
}
std::uint8_t RecordLayout::get_u8(const char* record, std::string_view name) const {
  std::uint8_t v;
  std::memcpy(&v, record + field(name, FieldKind::u8).offset, sizeof v);
  return v;
}
std::string RecordLayout::get_str(const char* record, std::string_view name) const {
  const Field& f = field(name, FieldKind::str);
  const char* p = record + f.offset;
  return std::string(p, strnlen(p, f.size));
}

// ---------------------------------------------------------------------------------- outcome

void add_outcome_fields(RecordLayout& layout, bool with_state) {
  if (with_state) layout.add("state", FieldKind::u8);
  for (const auto& f : scalar_fields()) layout.add(std::string(f.name), f.integer ? FieldKind::i32 : FieldKind::f64);
  layout.add("rank", FieldKind::i32);
  layout.add("host", FieldKind::str, kHostBytes);
  layout.add("error", FieldKind::str, kErrorBytes);
}

void put_outcome(const RecordLayout& l, char* r, const RunOutcome& o, bool with_state) {
  if (with_state) l.set_u8(r, "state", static_cast<std::uint8_t>(o.state));
  for (const auto& f : scalar_fields()) {
    const std::string name(f.name);
    if (f.integer) l.set_i32(r, name, static_cast<std::int32_t>(f.get(o)));
    else l.set_f64(r, name, f.get(o));
  }
  l.set_i32(r, "rank", o.rank);
  l.set_str(r, "host", o.host);
  l.set_str(r, "error", o.error);
}

RunOutcome get_outcome(const RecordLayout& l, const char* r) {
  RunOutcome o;
  o.state = static_cast<RunStatus>(l.get_u8(r, "state"));
  for (const auto& f : scalar_fields()) {
    const std::string name(f.name);
    f.set(o, f.integer ? double(l.get_i32(r, name)) : l.get_f64(r, name));
  }
  o.rank = l.get_i32(r, "rank");
  o.host = l.get_str(r, "host");
  o.error = l.get_str(r, "error");
  return o;
}

bool is_reserved_column(std::string_view name) {
  RecordLayout outcome;
  add_outcome_fields(outcome, true);
  return name == "index" || name == "section" || outcome.find(name).has_value();
}

}  // namespace aesweep::layout
