#include "aesweep/archive/h5.hpp"

#include <H5FDmpio.h>

#include <cstring>
#include <filesystem>
#include <limits>
#include <utility>

#include "aesweep/core/error.hpp"
#include "aesweep/dist/mpi_communicator.hpp"

namespace aesweep::h5 {
namespace {

// Runs one HDF5 C call with error printing silenced; a negative result becomes ArchiveError.
// The message is built before the silencer is destroyed: the next API call clears the stack.
template <class Call>
auto checked(Call&& call, std::string_view operation, std::string_view object) {
  ErrorSilencer quiet;
  auto result = call();
  if (result < 0) fail(operation, object);
  return result;
}

herr_t walk_callback(unsigned /*n*/, const H5E_error2_t* err, void* client) {
  auto& lines = *static_cast<std::vector<std::string>*>(client);
  std::string line = err->func_name ? err->func_name : "?";
  line += ": ";
  line += err->desc ? err->desc : "";
  // Some descriptions embed ctime() text with its newline; keep the message on one line.
  for (char& c : line)
    if (c == '\n') c = ' ';
  char minor[256] = {};
  H5E_type_t type{};
  if (H5Eget_msg(err->min_num, &type, minor, sizeof minor) > 0) {
    line += " (";
    line += minor;
    line += ")";
  }
  lines.push_back(std::move(line));
  return 0;
}

std::string join_path(const std::string& parent, const std::string& child) {
  if (parent.empty()) return child;
  if (parent.back() == '/') return parent + child;
  return parent + "/" + child;
}

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

template <class T>
hid_t native_id();
template <>
hid_t native_id<float>() { return H5T_NATIVE_FLOAT; }
template <>
hid_t native_id<double>() { return H5T_NATIVE_DOUBLE; }
template <>
hid_t native_id<std::int32_t>() { return H5T_NATIVE_INT32; }
template <>
hid_t native_id<std::int64_t>() { return H5T_NATIVE_INT64; }
template <>
hid_t native_id<std::uint8_t>() { return H5T_NATIVE_UINT8; }

// H5Dwrite/H5Dread refuse a null buffer even when nothing is selected.
const void* nonnull(const void* p) {
  static const char dummy = 0;
  return p ? p : &dummy;
}
void* nonnull(void* p) {
  static char dummy = 0;
  return p ? p : &dummy;
}

hsize_t product(const std::vector<hsize_t>& dims, std::size_t from) {
  hsize_t n = 1;
  for (std::size_t i = from; i < dims.size(); ++i) n *= dims[i];
  return n;
}

// H5Aiterate2 / H5Literate callback: appends each name to the std::vector<std::string> in `client`.
template <class Info>
herr_t append_name(hid_t, const char* name, const Info*, void* client) {
  static_cast<std::vector<std::string>*>(client)->emplace_back(name);
  return 0;
}

}  // namespace

// ---------------------------------------------------------------------------------- errors

namespace {
// Set by fail(): from then on HDF5's automatic error printing stays off (~ErrorSilencer).
bool a_call_failed = false;
}  // namespace

ErrorSilencer::ErrorSilencer() noexcept {
  if (H5Eget_auto2(H5E_DEFAULT, &saved_func_, &saved_data_) >= 0) {
    saved_ = true;
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
}

ErrorSilencer::~ErrorSilencer() {
  // After a failed call the handler is not restored: HDF5 1.10 can leak a free-list block on
  // a failure (the H5O_t of an object header whose checksum is wrong), and H5_term_library
  // (at exit, or when MPI finalizes) then prints "HDF5: infinite loop closing library" when
  // automatic error printing is on.
  if (saved_ && !a_call_failed) H5Eset_auto2(H5E_DEFAULT, saved_func_, saved_data_);
}

std::string error_stack_text() {
  std::vector<std::string> lines;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk_callback, &lines);
  std::string text;
  for (const auto& line : lines) {
    if (!text.empty()) text += "; ";
    text += line;
  }
  return text;
}

void fail(std::string_view operation, std::string_view object) {
  std::string message = "HDF5: cannot " + std::string(operation) + " " + in_quotes(object);
  // The library's chain goes into the detail (shown with --verbose); the message keeps its
  // innermost cause, which is usually the one a user can act on.
  std::string stack = error_stack_text();
  const auto last = stack.rfind("; ");
  std::string cause = last == std::string::npos ? stack : stack.substr(last + 2);
  if (const auto colon = cause.find(": "); colon != std::string::npos) cause = cause.substr(colon + 2);
  if (cause.size() > 160) cause = cause.substr(0, 160) + "...";
  if (!cause.empty()) message += " (" + cause + ")";
  H5Eclear2(H5E_DEFAULT);
  a_call_failed = true;
  throw ArchiveError(message, std::move(stack));
}

// ---------------------------------------------------------------------------------- handles

Handle::Handle(hid_t id, CloseFn close_fn, std::string name) noexcept
    : id_(id), close_fn_(close_fn), name_(std::move(name)) {}

Handle::Handle(Handle&& other) noexcept
    : id_(std::exchange(other.id_, H5I_INVALID_HID)),
      close_fn_(other.close_fn_),
      name_(std::move(other.name_)) {}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    close_quietly();
    id_ = std::exchange(other.id_, H5I_INVALID_HID);
    close_fn_ = other.close_fn_;
    name_ = std::move(other.name_);
  }
  return *this;
}

Handle::~Handle() { close_quietly(); }

void Handle::close_quietly() noexcept {
  if (valid() && close_fn_) {
    ErrorSilencer quiet;
    close_fn_(id_);
    H5Eclear2(H5E_DEFAULT);
  }
  id_ = H5I_INVALID_HID;
}

hid_t Handle::release() noexcept { return std::exchange(id_, H5I_INVALID_HID); }

void Handle::close() {
  if (!valid()) return;
  const hid_t id = std::exchange(id_, H5I_INVALID_HID);
  if (close_fn_) checked([&] { return close_fn_(id); }, "close", name_);
}

// ---------------------------------------------------------------------------------- property lists

PropertyList::PropertyList(hid_t cls, std::string name)
    : Handle(checked([&] { return H5Pcreate(cls); }, "create property list", name), H5Pclose,
             std::move(name)) {}

FileAccess FileAccess::defaults() { return FileAccess(H5P_FILE_ACCESS, "file access (sec2)"); }

FileAccess FileAccess::mpio(const Communicator& comm) {
  FileAccess fapl(H5P_FILE_ACCESS, "file access (MPI-IO)");
  const auto native = mpi_io_handle(comm);  // the dist/archive junction (mpi_communicator.hpp)
  checked([&] { return H5Pset_fapl_mpio(fapl.id(), native.comm, native.info); }, "set the MPI-IO driver on",
          fapl.name());
  fapl.mpio_ = true;
  return fapl;
}

void FileAccess::disable_file_locking() {
  checked([&] { return H5Pset_file_locking(id(), false, true); }, "turn off file locking in", name());
}

void FileAccess::checksum_metadata() {
  checked([&] { return H5Pset_libver_bounds(id(), H5F_LIBVER_V18, H5F_LIBVER_V18); },
          "set HDF5 1.8 format bounds on", name());
}

DatasetCreate DatasetCreate::contiguous_early(FillTime fill) {
  DatasetCreate dcpl(H5P_DATASET_CREATE, "dataset creation (contiguous, early allocation)");
  checked([&] { return H5Pset_layout(dcpl.id(), H5D_CONTIGUOUS); }, "set contiguous layout on",
          dcpl.name());
  checked([&] { return H5Pset_alloc_time(dcpl.id(), H5D_ALLOC_TIME_EARLY); },
          "set early allocation on", dcpl.name());
  const H5D_fill_time_t when = fill == FillTime::never ? H5D_FILL_TIME_NEVER : H5D_FILL_TIME_ALLOC;
  checked([&] { return H5Pset_fill_time(dcpl.id(), when); }, "set the fill time on", dcpl.name());
  checked([&] { return H5Pset_obj_track_times(dcpl.id(), false); }, "disable time tracking on",
          dcpl.name());
  return dcpl;
}

DatasetCreate DatasetCreate::chunked(std::span<const hsize_t> chunk, int deflate_level) {
  DatasetCreate dcpl(H5P_DATASET_CREATE, "dataset creation (chunked)");
  if (chunk.empty()) throw ArchiveError("HDF5: a chunked dataset needs at least one chunk dimension");
  if (deflate_level < 0 || deflate_level > 9)
    throw ArchiveError("HDF5: deflate level must be in [0, 9], got " + std::to_string(deflate_level));
  checked([&] { return H5Pset_chunk(dcpl.id(), static_cast<int>(chunk.size()), chunk.data()); },
          "set chunking on", dcpl.name());
  if (deflate_level > 0)
    checked([&] { return H5Pset_deflate(dcpl.id(), static_cast<unsigned>(deflate_level)); },
            "set deflate on", dcpl.name());
  checked([&] { return H5Pset_obj_track_times(dcpl.id(), false); }, "disable time tracking on",
          dcpl.name());
  return dcpl;
}

template <class T>
DatasetCreate& DatasetCreate::fill_value(T value) {
  checked([&] { return H5Pset_fill_value(id(), native_id<T>(), &value); }, "set the fill value on",
          name());
  return *this;
}

template DatasetCreate& DatasetCreate::fill_value<float>(float);
template DatasetCreate& DatasetCreate::fill_value<double>(double);
template DatasetCreate& DatasetCreate::fill_value<std::int32_t>(std::int32_t);
template DatasetCreate& DatasetCreate::fill_value<std::int64_t>(std::int64_t);
template DatasetCreate& DatasetCreate::fill_value<std::uint8_t>(std::uint8_t);

Transfer Transfer::defaults() { return Transfer(H5P_DATASET_XFER, "transfer (default)"); }

Transfer Transfer::mpio(IoMode mode) {
  Transfer xfer(H5P_DATASET_XFER, mode == IoMode::collective ? "transfer (MPI-IO collective)"
                                                             : "transfer (MPI-IO independent)");
  const H5FD_mpio_xfer_t how =
      mode == IoMode::collective ? H5FD_MPIO_COLLECTIVE : H5FD_MPIO_INDEPENDENT;
  checked([&] { return H5Pset_dxpl_mpio(xfer.id(), how); }, "set the MPI-IO transfer mode on",
          xfer.name());
  return xfer;
}

// ---------------------------------------------------------------------------------- datatypes

template <class T>
Datatype Datatype::native() {
  const hid_t id = checked([&] { return H5Tcopy(native_id<T>()); }, "copy", "a native datatype");
  return Datatype(id, H5Tclose, "native datatype");
}

template Datatype Datatype::native<float>();
template Datatype Datatype::native<double>();
template Datatype Datatype::native<std::int32_t>();
template Datatype Datatype::native<std::int64_t>();
template Datatype Datatype::native<std::uint8_t>();

Datatype Datatype::fixed_string(std::size_t size) {
  const std::string what = "fixed string of " + std::to_string(size) + " bytes";
  if (size == 0) throw ArchiveError("HDF5: a fixed string needs at least 1 byte");
  Datatype type(checked([&] { return H5Tcopy(H5T_C_S1); }, "copy", what), H5Tclose, what);
  checked([&] { return H5Tset_size(type.id(), size); }, "set the size of", what);
  checked([&] { return H5Tset_strpad(type.id(), H5T_STR_NULLPAD); }, "set the padding of", what);
  checked([&] { return H5Tset_cset(type.id(), H5T_CSET_UTF8); }, "set the character set of", what);
  return type;
}

Datatype Datatype::compound(std::size_t size) {
  const std::string what = "compound of " + std::to_string(size) + " bytes";
  return Datatype(checked([&] { return H5Tcreate(H5T_COMPOUND, size); }, "create", what), H5Tclose,
                  what);
}

void Datatype::insert(const std::string& member, std::size_t offset, const Datatype& member_type) {
  checked([&] { return H5Tinsert(id(), member.c_str(), offset, member_type.id()); },
          "insert member " + in_quotes(member) + " into", name());
}

std::size_t Datatype::size() const {
  // H5Tget_size returns 0 on error, not a negative number.
  ErrorSilencer quiet;
  const std::size_t n = H5Tget_size(id());
  if (n == 0) fail("get the size of", name());
  return n;
}

H5T_class_t Datatype::type_class() const {
  return checked([&] { return H5Tget_class(id()); }, "get the class of", name());
}

std::optional<Datatype> Datatype::member_type(const std::string& member) const {
  ErrorSilencer quiet;
  const int index = H5Tget_member_index(id(), member.c_str());
  if (index < 0) return std::nullopt;
  return adopt(checked([&] { return H5Tget_member_type(id(), unsigned(index)); }, "get the member type of", name()),
               member);
}

Datatype Datatype::adopt(hid_t id, std::string name) { return Datatype(id, H5Tclose, std::move(name)); }

// ---------------------------------------------------------------------------------- dataspaces

Dataspace Dataspace::simple(std::span<const hsize_t> dims) {
  std::string what = "dataspace (";
  for (std::size_t i = 0; i < dims.size(); ++i) what += (i ? ", " : "") + std::to_string(dims[i]);
  what += ")";
  const hid_t id = checked(
      [&] { return H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr); },
      "create", what);
  return Dataspace(id, H5Sclose, what);
}

Dataspace Dataspace::scalar() {
  return Dataspace(checked([] { return H5Screate(H5S_SCALAR); }, "create", "scalar dataspace"),
                   H5Sclose, "scalar dataspace");
}

Dataspace Dataspace::adopt(hid_t id, std::string name) {
  return Dataspace(id, H5Sclose, std::move(name));
}

std::vector<hsize_t> Dataspace::dims() const {
  const int rank = checked([&] { return H5Sget_simple_extent_ndims(id()); }, "get the rank of", name());
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0)
    checked([&] { return H5Sget_simple_extent_dims(id(), dims.data(), nullptr); },
            "get the dimensions of", name());
  return dims;
}

hsize_t Dataspace::element_count() const {
  return static_cast<hsize_t>(
      checked([&] { return H5Sget_simple_extent_npoints(id()); }, "count the elements of", name()));
}

void Dataspace::select_rows(hsize_t first, hsize_t count) {
  std::vector<hsize_t> dims = this->dims();
  if (dims.empty()) throw ArchiveError("HDF5: cannot select rows of the scalar " + in_quotes(name()));
  if (first > dims[0] || count > dims[0] - first)
    throw ArchiveError("HDF5: rows [" + std::to_string(first) + ", " + std::to_string(first + count) +
                       ") are outside " + in_quotes(name()) + " with " + std::to_string(dims[0]) +
                       " rows");
  std::vector<hsize_t> start(dims.size(), 0);
  start[0] = first;
  dims[0] = count;
  checked([&] { return H5Sselect_hyperslab(id(), H5S_SELECT_SET, start.data(), nullptr, dims.data(), nullptr); },
          "select rows of", name());
}

Attribute Attribute::adopt(hid_t id, std::string name) {
  return Attribute(id, H5Aclose, std::move(name));
}

// ---------------------------------------------------------------------------------- attributes

Attribute AttributeHolder::open_attribute(const std::string& attr) const {
  const std::string what = "attribute " + in_quotes(attr) + " of " + name();
  const hid_t id = checked([&] { return H5Aopen(this->id(), attr.c_str(), H5P_DEFAULT); }, "open", what);
  return Attribute::adopt(id, what);
}

bool AttributeHolder::has_attribute(const std::string& attr) const {
  return checked([&] { return H5Aexists(id(), attr.c_str()); }, "look up attribute " + in_quotes(attr) + " of",
                 name()) > 0;
}

void AttributeHolder::write_attribute_raw(const std::string& attr, const Datatype& type,
                                          const void* data) const {
  // Replace rather than rewrite in place: the new value may have a different size.
  if (has_attribute(attr))
    checked([&] { return H5Adelete(id(), attr.c_str()); }, "delete attribute " + in_quotes(attr) + " of",
            name());
  const Dataspace space = Dataspace::scalar();
  const std::string what = "attribute " + in_quotes(attr) + " of " + name();
  Attribute a = Attribute::adopt(
      checked([&] { return H5Acreate2(id(), attr.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT); },
              "create", what),
      what);
  checked([&] { return H5Awrite(a.id(), type.id(), data); }, "write", what);
  a.close();
}

void AttributeHolder::write_attribute(const std::string& attr, std::string_view value) const {
  const Datatype type = Datatype::fixed_string(std::max<std::size_t>(1, value.size()));
  std::string buffer(std::max<std::size_t>(1, value.size()), '\0');
  std::memcpy(buffer.data(), value.data(), value.size());
  write_attribute_raw(attr, type, buffer.data());
}

void AttributeHolder::write_attribute(const std::string& attr, double value) const {
  write_attribute_raw(attr, Datatype::native<double>(), &value);
}

void AttributeHolder::write_attribute(const std::string& attr, std::int64_t value) const {
  write_attribute_raw(attr, Datatype::native<std::int64_t>(), &value);
}

AttributeKind AttributeHolder::attribute_kind(const std::string& attr) const {
  const Attribute a = open_attribute(attr);
  const Datatype type = Datatype::adopt(
      checked([&] { return H5Aget_type(a.id()); }, "get the type of", a.name()), a.name());
  switch (type.type_class()) {
    case H5T_STRING: return AttributeKind::string;
    case H5T_FLOAT: return AttributeKind::floating;
    case H5T_INTEGER: return AttributeKind::integer;
    default: return AttributeKind::other;
  }
}

std::string AttributeHolder::read_string_attribute(const std::string& attr) const {
  const Attribute a = open_attribute(attr);
  const Datatype type = Datatype::adopt(
      checked([&] { return H5Aget_type(a.id()); }, "get the type of", a.name()), a.name());
  if (type.type_class() != H5T_STRING)
    throw ArchiveError("HDF5: " + a.name() + " is not a string attribute");
  const bool variable = checked([&] { return H5Tis_variable_str(type.id()); }, "inspect", a.name()) > 0;
  if (variable) {
    // Written by other tools (h5py's default). Read as a C string, then free HDF5's copy.
    Datatype mem = Datatype::adopt(checked([] { return H5Tcopy(H5T_C_S1); }, "copy", "C string type"),
                                   "variable string");
    checked([&] { return H5Tset_size(mem.id(), H5T_VARIABLE); }, "make variable", mem.name());
    char* text = nullptr;
    checked([&] { return H5Aread(a.id(), mem.id(), &text); }, "read", a.name());
    std::string value = text ? text : "";
    H5free_memory(text);
    return value;
  }
  std::string buffer(type.size(), '\0');
  checked([&] { return H5Aread(a.id(), type.id(), buffer.data()); }, "read", a.name());
  buffer.resize(std::strlen(buffer.c_str()));  // drop NUL padding
  return buffer;
}

double AttributeHolder::read_double_attribute(const std::string& attr) const {
  const AttributeKind kind = attribute_kind(attr);
  if (kind != AttributeKind::floating && kind != AttributeKind::integer)
    throw ArchiveError("HDF5: attribute " + in_quotes(attr) + " of " + name() + " is not numeric");
  const Attribute a = open_attribute(attr);
  double value = 0;
  checked([&] { return H5Aread(a.id(), H5T_NATIVE_DOUBLE, &value); }, "read", a.name());
  return value;
}

std::int64_t AttributeHolder::read_int_attribute(const std::string& attr) const {
  if (attribute_kind(attr) != AttributeKind::integer)
    throw ArchiveError("HDF5: attribute " + in_quotes(attr) + " of " + name() + " is not an integer");
  const Attribute a = open_attribute(attr);
  std::int64_t value = 0;
  checked([&] { return H5Aread(a.id(), H5T_NATIVE_INT64, &value); }, "read", a.name());
  return value;
}

std::vector<std::string> AttributeHolder::attribute_names() const {
  std::vector<std::string> names;
  checked([&] { return H5Aiterate2(id(), H5_INDEX_NAME, H5_ITER_NATIVE, nullptr, append_name<H5A_info_t>, &names); },
          "list the attributes of", name());
  return names;
}

// ---------------------------------------------------------------------------------- datasets

Dataset Dataset::adopt(hid_t id, std::string name) { return Dataset(id, H5Dclose, std::move(name)); }

Dataspace Dataset::space() const {
  return Dataspace::adopt(checked([&] { return H5Dget_space(id()); }, "get the dataspace of", name()),
                          "dataspace of " + name());
}

Datatype Dataset::type() const {
  return Datatype::adopt(checked([&] { return H5Dget_type(id()); }, "get the datatype of", name()),
                         "datatype of " + name());
}

std::vector<hsize_t> Dataset::dims() const { return space().dims(); }

hsize_t Dataset::row_size() const { return product(dims(), 1); }

template <class T>
void Dataset::write(std::span<const T> data, const Transfer& xfer) const {
  const hsize_t n = space().element_count();
  if (data.size() != n)
    throw ArchiveError("HDF5: writing " + std::to_string(data.size()) + " elements into " +
                       in_quotes(name()) + ", which holds " + std::to_string(n));
  checked([&] { return H5Dwrite(id(), native_id<T>(), H5S_ALL, H5S_ALL, xfer.id(), nonnull(data.data())); },
          "write", name());
}

void Dataset::require_plausible(hsize_t elements, std::size_t element_size) const {
  hsize_t file_size = 0;
  const hid_t file = H5Iget_file_id(id());
  if (file >= 0) {
    ErrorSilencer quiet;
    if (H5Fget_filesize(file, &file_size) < 0) file_size = 0;
    H5Fclose(file);
  }
  constexpr hsize_t kFloor = hsize_t(64) << 20;
  const hsize_t limit = std::max(kFloor, file_size > (std::numeric_limits<hsize_t>::max() >> 11) ? file_size : file_size << 10);
  if (element_size == 0 || elements <= limit / element_size) return;
  throw ArchiveError("HDF5: " + in_quotes(name()) + " declares " + std::to_string(elements) + " elements of " +
                     std::to_string(element_size) + " bytes, far more than a file of " + std::to_string(file_size) +
                     " bytes can hold: the file is damaged");
}

template <class T>
std::vector<T> Dataset::read(const Transfer& xfer) const {
  require_plausible(space().element_count(), sizeof(T));
  std::vector<T> data(space().element_count());
  checked([&] { return H5Dread(id(), native_id<T>(), H5S_ALL, H5S_ALL, xfer.id(), nonnull(data.data())); },
          "read", name());
  return data;
}

template <class T>
void Dataset::write_rows(hsize_t first_row, std::span<const T> data, const Transfer& xfer) const {
  const hsize_t row = row_size();
  if (row == 0 || data.size() % row != 0)
    throw ArchiveError("HDF5: " + std::to_string(data.size()) + " elements are not whole rows of " +
                       std::to_string(row) + " for " + in_quotes(name()));
  write_bytes(Datatype::native<T>(), data.data(), first_row, data.size() / row, xfer);
}

template <class T>
std::vector<T> Dataset::read_rows(hsize_t first_row, hsize_t count, const Transfer& xfer) const {
  const hsize_t row = row_size();
  if (row != 0 && count > std::numeric_limits<hsize_t>::max() / row)
    throw ArchiveError("HDF5: " + in_quotes(name()) + " has rows too large to read");
  require_plausible(count * row, sizeof(T));
  std::vector<T> data(count * row);
  read_bytes(Datatype::native<T>(), data.data(), data.size() * sizeof(T), first_row, count, xfer);
  return data;
}

void Dataset::write_bytes(const Datatype& mem_type, const void* data, hsize_t first_row, hsize_t count,
                          const Transfer& xfer) const {
  Dataspace file_space = space();
  const std::vector<hsize_t> dims = file_space.dims();
  if (dims.empty()) {
    if (first_row != 0 || count != 1)
      throw ArchiveError("HDF5: the scalar " + in_quotes(name()) + " has exactly one element");
    checked([&] { return H5Dwrite(id(), mem_type.id(), H5S_ALL, H5S_ALL, xfer.id(), data); }, "write",
            name());
    return;
  }
  file_space.select_rows(first_row, count);
  const hsize_t mem_count[1] = {count * product(dims, 1)};
  const Dataspace mem_space = Dataspace::simple(mem_count);
  checked([&] { return H5Dwrite(id(), mem_type.id(), mem_space.id(), file_space.id(), xfer.id(), nonnull(data)); },
          "write rows [" + std::to_string(first_row) + ", " + std::to_string(first_row + count) + ") of",
          name());
}

void Dataset::read_bytes(const Datatype& mem_type, void* data, std::size_t data_bytes, hsize_t first_row,
                         hsize_t count, const Transfer& xfer) const {
  Dataspace file_space = space();
  const std::vector<hsize_t> dims = file_space.dims();
  // count rows of `row` elements must fit the caller's buffer (no overflow: divided, not multiplied).
  const hsize_t row = dims.empty() ? 1 : product(dims, 1);
  const std::size_t fits = data_bytes / std::max<std::size_t>(1, mem_type.size());
  if (row != 0 && count > fits / row)
    throw ArchiveError("HDF5: " + in_quotes(name()) + " has rows of " + std::to_string(row) + " elements, more than the " +
                       std::to_string(data_bytes) + "-byte buffer for " + std::to_string(count) +
                       " rows holds: the file is not what this reader expects");
  if (dims.empty()) {
    if (first_row != 0 || count != 1)
      throw ArchiveError("HDF5: the scalar " + in_quotes(name()) + " has exactly one element");
    checked([&] { return H5Dread(id(), mem_type.id(), H5S_ALL, H5S_ALL, xfer.id(), data); }, "read", name());
    return;
  }
  file_space.select_rows(first_row, count);
  const hsize_t mem_count[1] = {count * product(dims, 1)};
  const Dataspace mem_space = Dataspace::simple(mem_count);
  checked([&] { return H5Dread(id(), mem_type.id(), mem_space.id(), file_space.id(), xfer.id(), nonnull(data)); },
          "read rows [" + std::to_string(first_row) + ", " + std::to_string(first_row + count) + ") of",
          name());
}

#define AESWEEP_H5_DATASET_IO(T)                                                                  \
  template void Dataset::write<T>(std::span<const T>, const Transfer&) const;                      \
  template std::vector<T> Dataset::read<T>(const Transfer&) const;                                 \
  template void Dataset::write_rows<T>(hsize_t, std::span<const T>, const Transfer&) const;        \
  template std::vector<T> Dataset::read_rows<T>(hsize_t, hsize_t, const Transfer&) const;
AESWEEP_H5_DATASET_IO(float)
AESWEEP_H5_DATASET_IO(double)
AESWEEP_H5_DATASET_IO(std::int32_t)
AESWEEP_H5_DATASET_IO(std::int64_t)
AESWEEP_H5_DATASET_IO(std::uint8_t)
#undef AESWEEP_H5_DATASET_IO

// ---------------------------------------------------------------------------------- groups, files

std::string Location::child_path(const std::string& child) const { return join_path(name(), child); }

namespace {
// Attributes stay in the object header, however many: in version 2 object headers (files made
// with FileAccess::checksum_metadata) the header is checksummed, while past 8 attributes HDF5
// would move them to a fractal heap, which keeps any attribute over about 4 KiB (a config text)
// outside every checksum. No effect on version 1 headers, which have no other place.
void keep_attributes_in_header(hid_t ocpl, const std::string& what) {
  checked([&] { return H5Pset_attr_phase_change(ocpl, 65535, 65535); }, "keep attributes compact for", what);
}
}  // namespace

Group Location::create_group(const std::string& child) const {
  const std::string what = child_path(child);
  // Groups do not record modification times either (see DatasetCreate).
  Handle gcpl(checked([] { return H5Pcreate(H5P_GROUP_CREATE); }, "create group property list for", what),
              H5Pclose, "group creation");
  checked([&] { return H5Pset_obj_track_times(gcpl.id(), false); }, "disable time tracking for", what);
  keep_attributes_in_header(gcpl.id(), what);
  return Group::adopt(
      checked([&] { return H5Gcreate2(id(), child.c_str(), H5P_DEFAULT, gcpl.id(), H5P_DEFAULT); },
              "create group", what),
      what);
}

Dataset Location::create_dataset(const std::string& child, const Datatype& type, const Dataspace& space,
                                 const DatasetCreate& dcpl) const {
  const std::string what = child_path(child);
  return Dataset::adopt(
      checked([&] { return H5Dcreate2(id(), child.c_str(), type.id(), space.id(), H5P_DEFAULT, dcpl.id(), H5P_DEFAULT); },
              "create dataset", what),
      what);
}

Group Location::open_group(const std::string& child) const {
  const std::string what = child_path(child);
  return Group::adopt(checked([&] { return H5Gopen2(id(), child.c_str(), H5P_DEFAULT); }, "open group", what),
                      what);
}

Dataset Location::open_dataset(const std::string& child) const {
  const std::string what = child_path(child);
  return Dataset::adopt(
      checked([&] { return H5Dopen2(id(), child.c_str(), H5P_DEFAULT); }, "open dataset", what), what);
}

bool Location::has_child(const std::string& child) const {
  return checked([&] { return H5Lexists(id(), child.c_str(), H5P_DEFAULT); }, "look up",
                 child_path(child)) > 0;
}

std::vector<std::string> Location::child_names() const {
  std::vector<std::string> names;
  checked([&] { return H5Literate(id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, append_name<H5L_info_t>, &names); },
          "list the members of", name());
  return names;
}

std::size_t Location::child_count() const {
  H5G_info_t info{};
  checked([&] { return H5Gget_info(id(), &info); }, "count the members of", name());
  return static_cast<std::size_t>(info.nlinks);
}

Group Group::adopt(hid_t id, std::string name) { return Group(id, H5Gclose, std::move(name)); }

File File::create(const std::string& path, const FileAccess& fapl) {
  Handle fcpl(checked([] { return H5Pcreate(H5P_FILE_CREATE); }, "create file creation property list for", path),
              H5Pclose, "file creation");
  keep_attributes_in_header(fcpl.id(), path + ":/");  // the root group's
  const hid_t id = checked([&] { return H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.id(), fapl.id()); },
                           "create file", path);
  return File(id, H5Fclose, path + ":/");
}

File File::open(const std::string& path, Access access, const FileAccess& fapl) {
  const unsigned flags = access == Access::read_write ? H5F_ACC_RDWR : H5F_ACC_RDONLY;
  const hid_t id = checked([&] { return H5Fopen(path.c_str(), flags, fapl.id()); },
                           access == Access::read_write ? "open for writing file" : "open file", path);
  return File(id, H5Fclose, path + ":/");
}

void File::flush() const {
  checked([&] { return H5Fflush(id(), H5F_SCOPE_GLOBAL); }, "flush", name());
}

Group File::root() const {
  return Group::adopt(checked([&] { return H5Gopen2(id(), "/", H5P_DEFAULT); }, "open the root group of", name()),
                      name());
}

bool is_hdf5_file(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status))
    throw ArchiveError("HDF5: " + in_quotes(path) + " does not exist");
  if (!std::filesystem::is_regular_file(status))
    throw ArchiveError("HDF5: " + in_quotes(path) + " is not a regular file");
  return checked([&] { return H5Fis_hdf5(path.c_str()); }, "check the signature of", path) > 0;
}

std::string library_version() {
  unsigned major = 0, minor = 0, release = 0;
  checked([&] { return H5get_libversion(&major, &minor, &release); }, "get", "the library version");
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

}  // namespace aesweep::h5
