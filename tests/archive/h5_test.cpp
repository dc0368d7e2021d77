// Unit tests of the RAII layer over the HDF5 C API (src/archive/h5.cpp).
#include "aesweep/archive/h5.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <limits>

#include "aesweep/core/error.hpp"
#include "test_support.hpp"

namespace aesweep {
namespace {

using ::testing::HasSubstr;

class H5Test : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::make_temp_dir("h5"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
};

// Open HDF5 ids of every kind in every file (H5F_OBJ_ALL, H5F_OBJ_LOCAL for ours only).
ssize_t open_ids() { return H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL | H5F_OBJ_LOCAL); }

TEST_F(H5Test, FailedCallThrowsArchiveErrorNamingOperationObjectAndCause) {
  const std::string missing = path("missing.h5");
  ::testing::internal::CaptureStderr();
  try {
    (void)h5::File::open(missing, h5::Access::read_only, h5::FileAccess::defaults());
    ADD_FAILURE() << "opening a missing file must throw";
  } catch (const ArchiveError& e) {
    const std::string message = e.what();
    EXPECT_THAT(message, HasSubstr("open file"));
    EXPECT_THAT(message, HasSubstr(missing));
    // The innermost cause leads; the whole walked error stack is the detail (--verbose).
    EXPECT_THAT(message, HasSubstr("No such file or directory"));
    EXPECT_THAT(message, ::testing::Not(HasSubstr("H5Fopen")));
    EXPECT_THAT(e.detail(), HasSubstr("H5Fopen"));
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "") << "HDF5 must not print its error stack";
}

TEST_F(H5Test, MissingChildNamesIt) {
  const h5::File file = h5::File::create(path("a.h5"), h5::FileAccess::defaults());
  ::testing::internal::CaptureStderr();
  try {
    (void)file.open_dataset("no_such_dataset");
    ADD_FAILURE() << "must throw";
  } catch (const ArchiveError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("no_such_dataset"));
    EXPECT_THAT(std::string(e.what()), HasSubstr("open dataset"));
  }
  EXPECT_THROW((void)file.read_string_attribute("nope"), ArchiveError);
  EXPECT_THROW((void)file.open_group("nope"), ArchiveError);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(H5Test, SilencerRestoresThePreviousHandler) {
  H5E_auto2_t before = nullptr;
  void* before_data = nullptr;
  ASSERT_GE(H5Eget_auto2(H5E_DEFAULT, &before, &before_data), 0);
  {
    h5::ErrorSilencer outer;
    {
      h5::ErrorSilencer inner;
      H5E_auto2_t now = nullptr;
      void* now_data = nullptr;
      H5Eget_auto2(H5E_DEFAULT, &now, &now_data);
      EXPECT_EQ(now, nullptr);
    }
    H5E_auto2_t now = reinterpret_cast<H5E_auto2_t>(1);
    void* now_data = nullptr;
    H5Eget_auto2(H5E_DEFAULT, &now, &now_data);
    EXPECT_EQ(now, nullptr);
  }
  H5E_auto2_t after = nullptr;
  void* after_data = nullptr;
  H5Eget_auto2(H5E_DEFAULT, &after, &after_data);
  EXPECT_EQ(after, before);
  EXPECT_EQ(after_data, before_data);
}

TEST_F(H5Test, HandlesCloseWhenTheyGoOutOfScopeAndMoveOwnership) {
  const ssize_t baseline = open_ids();
  {
    h5::File file = h5::File::create(path("raii.h5"), h5::FileAccess::defaults());
    const h5::Group group = file.create_group("g");
    const hsize_t dims[] = {4};
    h5::Dataset ds = group.create_dataset("d", h5::Datatype::native<float>(), h5::Dataspace::simple(dims),
                                          h5::DatasetCreate::contiguous_early(h5::FillTime::never));
    EXPECT_GT(open_ids(), baseline);
    h5::Dataset moved = std::move(ds);
    EXPECT_FALSE(ds.valid());  // NOLINT(bugprone-use-after-move): moved-from state is specified
    EXPECT_TRUE(moved.valid());
    h5::Dataset assigned;
    assigned = std::move(moved);
    EXPECT_TRUE(assigned.valid());
    assigned.close();
    EXPECT_FALSE(assigned.valid());
    assigned.close();  // closing twice is a no-op
  }
  EXPECT_EQ(open_ids(), baseline);
  // The file really was closed: it opens again for writing.
  const h5::File again = h5::File::open(path("raii.h5"), h5::Access::read_write, h5::FileAccess::defaults());
  EXPECT_TRUE(again.has_child("g"));
}

TEST_F(H5Test, AttributesRoundTripAndReplace) {
  const h5::File file = h5::File::create(path("attrs.h5"), h5::FileAccess::defaults());
  file.write_attribute("text", std::string_view("héllo wörld"));
  file.write_attribute("empty", std::string_view(""));
  file.write_attribute("pi", 3.25);
  file.write_attribute("count", std::int64_t{-42});
  file.write_attribute("text2", std::string_view("short"));
  file.write_attribute("text2", std::string_view("a much longer replacement value"));

  EXPECT_EQ(file.read_string_attribute("text"), "héllo wörld");
  EXPECT_EQ(file.read_string_attribute("empty"), "");
  EXPECT_EQ(file.read_double_attribute("pi"), 3.25);
  EXPECT_EQ(file.read_int_attribute("count"), -42);
  EXPECT_EQ(file.read_double_attribute("count"), -42.0);  // integers read as doubles too
  EXPECT_EQ(file.read_string_attribute("text2"), "a much longer replacement value");
  EXPECT_EQ(file.attribute_kind("text"), h5::AttributeKind::string);
  EXPECT_EQ(file.attribute_kind("pi"), h5::AttributeKind::floating);
  EXPECT_EQ(file.attribute_kind("count"), h5::AttributeKind::integer);
  EXPECT_TRUE(file.has_attribute("pi"));
  EXPECT_FALSE(file.has_attribute("nope"));
  EXPECT_THROW((void)file.read_int_attribute("pi"), ArchiveError);
  EXPECT_THROW((void)file.read_double_attribute("text"), ArchiveError);
  EXPECT_THROW((void)file.read_string_attribute("pi"), ArchiveError);
  auto names = file.attribute_names();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"count", "empty", "pi", "text", "text2"}));
}

TEST_F(H5Test, ReadsVariableLengthStringAttributesWrittenByOtherTools) {
  const h5::File file = h5::File::create(path("vlen.h5"), h5::FileAccess::defaults());
  // Written with the C API directly, the way h5py writes str attributes.
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attr = H5Acreate2(file.id(), "v", type, space, H5P_DEFAULT, H5P_DEFAULT);
  const char* value = "variable length";
  H5Awrite(attr, type, &value);
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
  EXPECT_EQ(file.read_string_attribute("v"), "variable length");
}

template <class T>
void round_trip(const h5::Location& where, const std::string& name) {
  SCOPED_TRACE(name);
  const hsize_t dims[] = {3, 4};
  const h5::Dataset ds = where.create_dataset(name, h5::Datatype::native<T>(), h5::Dataspace::simple(dims),
                                              h5::DatasetCreate::contiguous_early(h5::FillTime::never));
  std::vector<T> data(12);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<T>(i * 3 + 1);
  ds.write<T>(data);
  EXPECT_EQ(ds.read<T>(), data);
  EXPECT_EQ(ds.dims(), (std::vector<hsize_t>{3, 4}));
  EXPECT_EQ(ds.row_size(), 4u);
  const std::vector<T> row = {T(9), T(8), T(7), T(6)};
  ds.write_rows<T>(1, row);
  EXPECT_EQ(ds.read_rows<T>(1, 1), row);
  const auto rows = ds.read_rows<T>(0, 2);
  EXPECT_EQ(std::vector<T>(rows.begin(), rows.begin() + 4), std::vector<T>(data.begin(), data.begin() + 4));
  EXPECT_THROW(ds.write<T>(std::vector<T>(5)), ArchiveError);            // wrong element count
  EXPECT_THROW(ds.write_rows<T>(2, std::vector<T>(8)), ArchiveError);    // past the last row
  EXPECT_THROW(ds.write_rows<T>(0, std::vector<T>(3)), ArchiveError);    // not whole rows
  EXPECT_THROW((void)ds.read_rows<T>(3, 1), ArchiveError);
}

TEST_F(H5Test, DatasetsRoundTripEveryElementType) {
  const h5::File file = h5::File::create(path("data.h5"), h5::FileAccess::defaults());
  round_trip<float>(file, "f32");
  round_trip<double>(file, "f64");
  round_trip<std::int32_t>(file, "i32");
  round_trip<std::int64_t>(file, "i64");
  round_trip<std::uint8_t>(file, "u8");
  auto names = file.child_names();
  EXPECT_EQ(names, (std::vector<std::string>{"f32", "f64", "i32", "i64", "u8"}));
}

TEST_F(H5Test, EarlyAllocationReservesStorageAtCreation) {
  const h5::File file = h5::File::create(path("early.h5"), h5::FileAccess::defaults());
  const hsize_t dims[] = {100, 10};
  const h5::Dataset ds = file.create_dataset("d", h5::Datatype::native<double>(), h5::Dataspace::simple(dims),
                                             h5::DatasetCreate::contiguous_early(h5::FillTime::never));
  EXPECT_EQ(H5Dget_storage_size(ds.id()), 100u * 10u * sizeof(double));
  const hid_t dcpl = H5Dget_create_plist(ds.id());
  EXPECT_EQ(H5Pget_layout(dcpl), H5D_CONTIGUOUS);
  H5D_alloc_time_t alloc{};
  H5Pget_alloc_time(dcpl, &alloc);
  EXPECT_EQ(alloc, H5D_ALLOC_TIME_EARLY);
  H5Pclose(dcpl);

  auto fill = h5::DatasetCreate::contiguous_early(h5::FillTime::on_allocation);
  fill.fill_value<double>(-1.5);
  const h5::Dataset filled = file.create_dataset("filled", h5::Datatype::native<double>(),
                                                 h5::Dataspace::simple(dims), fill);
  const auto values = filled.read<double>();
  EXPECT_TRUE(std::all_of(values.begin(), values.end(), [](double v) { return v == -1.5; }));
}

TEST_F(H5Test, ChunkedDeflatedDatasetRoundTrips) {
  const h5::File file = h5::File::create(path("chunked.h5"), h5::FileAccess::defaults());
  const hsize_t dims[] = {64, 16};
  const hsize_t chunk[] = {16, 16};
  const h5::Dataset ds = file.create_dataset("z", h5::Datatype::native<float>(), h5::Dataspace::simple(dims),
                                             h5::DatasetCreate::chunked(chunk, 6));
  std::vector<float> data(64 * 16, 0.5f);
  ds.write<float>(data);
  EXPECT_EQ(ds.read<float>(), data);
  EXPECT_LT(H5Dget_storage_size(ds.id()), data.size() * sizeof(float) / 4) << "deflate should shrink constant data";
  const hid_t dcpl = H5Dget_create_plist(ds.id());
  EXPECT_EQ(H5Pget_layout(dcpl), H5D_CHUNKED);
  EXPECT_EQ(H5Pget_nfilters(dcpl), 1);
  H5Pclose(dcpl);
  EXPECT_THROW((void)h5::DatasetCreate::chunked(chunk, 12), ArchiveError);
}

TEST_F(H5Test, CompoundRowsAndFixedStrings) {
  const h5::File file = h5::File::create(path("compound.h5"), h5::FileAccess::defaults());
  struct Row {
    double x;
    std::int32_t n;
    char name[8];
  };
  h5::Datatype type = h5::Datatype::compound(sizeof(Row));
  type.insert("x", offsetof(Row, x), h5::Datatype::native<double>());
  type.insert("n", offsetof(Row, n), h5::Datatype::native<std::int32_t>());
  type.insert("name", offsetof(Row, name), h5::Datatype::fixed_string(8));
  const hsize_t dims[] = {3};
  const h5::Dataset ds = file.create_dataset("rows", type, h5::Dataspace::simple(dims),
                                             h5::DatasetCreate::contiguous_early(h5::FillTime::never));
  Row rows[3] = {{1.5, 1, "one"}, {2.5, 2, "two"}, {3.5, 3, ""}};
  std::memcpy(rows[2].name, "eightchr", 8);  // exactly 8 bytes: no terminator stored
  ds.write_bytes(type, rows, 0, 3);
  Row back{};
  ds.read_bytes(type, &back, sizeof back, 2, 1);
  EXPECT_EQ(back.x, 3.5);
  EXPECT_EQ(back.n, 3);
  EXPECT_EQ(std::string(back.name, 8), "eightchr");
  const Row changed = {9.5, 9, "nine"};
  ds.write_bytes(type, &changed, 1, 1);
  ds.read_bytes(type, &back, sizeof back, 1, 1);
  EXPECT_EQ(back.n, 9);

  const h5::Dataset scalar = file.create_dataset("one", type, h5::Dataspace::scalar(),
                                                 h5::DatasetCreate::contiguous_early(h5::FillTime::never));
  scalar.write_bytes(type, &changed, 0, 1);
  scalar.read_bytes(type, &back, sizeof back, 0, 1);
  EXPECT_EQ(back.x, 9.5);
  EXPECT_THROW(scalar.write_bytes(type, &changed, 1, 1), ArchiveError);
}

TEST_F(H5Test, MpioFileOnOneRankWritesIndependentlyAndCollectively) {
  const std::string file_path = path("mpio.h5");
  {
    const h5::File file = h5::File::create(file_path, h5::FileAccess::mpio(testing::self_communicator()));
    const hsize_t dims[] = {4, 2};
    const h5::Dataset ds = file.create_dataset("d", h5::Datatype::native<double>(), h5::Dataspace::simple(dims),
                                               h5::DatasetCreate::contiguous_early(h5::FillTime::never));
    const std::vector<double> first = {1, 2, 3, 4};
    const std::vector<double> second = {5, 6, 7, 8};
    ds.write_rows<double>(0, first, h5::Transfer::mpio(h5::IoMode::independent));
    ds.write_rows<double>(2, second, h5::Transfer::mpio(h5::IoMode::collective));
    file.flush();
  }
  const h5::File file = h5::File::open(file_path, h5::Access::read_only, h5::FileAccess::defaults());
  EXPECT_EQ(file.open_dataset("d").read<double>(), (std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST_F(H5Test, RecognisesHdf5Files) {
  const std::string h5_path = path("real.h5");
  { (void)h5::File::create(h5_path, h5::FileAccess::defaults()); }
  testing::write_text(path("text.txt"), "not hdf5 at all\n");
  EXPECT_TRUE(h5::is_hdf5_file(h5_path));
  EXPECT_FALSE(h5::is_hdf5_file(path("text.txt")));
  EXPECT_THROW((void)h5::is_hdf5_file(path("missing")), ArchiveError);
  EXPECT_THROW((void)h5::is_hdf5_file(dir_), ArchiveError);
  EXPECT_THAT(h5::library_version(), HasSubstr("1."));
}

TEST_F(H5Test, CreatingInAMissingDirectoryNamesThePath) {
  const std::string bad = path("no/such/dir/x.h5");
  ::testing::internal::CaptureStderr();
  try {
    (void)h5::File::create(bad, h5::FileAccess::mpio(testing::self_communicator()));
    ADD_FAILURE() << "must throw";
  } catch (const ArchiveError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr(bad));
    EXPECT_THAT(std::string(e.what()), HasSubstr("create file"));
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace aesweep
