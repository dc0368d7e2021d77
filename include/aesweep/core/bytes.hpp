#pragma once
// Byte payloads (messages between ranks, training checkpoints in an archive), and the small
// pack/unpack helpers that build and read them. Both ends run the same binary on the same kind of
// machine, so values travel in their in-memory representation; a reader that runs out of bytes
// throws instead of reading past the end.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "aesweep/core/error.hpp"

namespace aesweep {

using Bytes = std::vector<std::byte>;

// Appends values: trivially copyable ones as their bytes, strings and vectors with their length
// first, matrices (anything with rows(), cols(), data() and a Scalar type, e.g. Eigen's) as
// rows, cols and their column-major data.
class ByteWriter {
 public:
  template <class T>
    requires std::is_trivially_copyable_v<T>
  ByteWriter& put(const T& value) {
    append(&value, sizeof value);
    return *this;
  }
  ByteWriter& put(std::string_view text) {
    put(std::uint64_t(text.size()));
    append(text.data(), text.size());
    return *this;
  }
  ByteWriter& put(const std::string& text) { return put(std::string_view(text)); }
  template <class T>
  ByteWriter& put_vector(const std::vector<T>& values) {
    put(std::uint64_t(values.size()));
    for (const auto& v : values) put(v);
    return *this;
  }
  template <class M>
  ByteWriter& put_matrix(const M& m) {
    put(std::int64_t(m.rows()));
    put(std::int64_t(m.cols()));
    if (m.size() > 0) append(m.data(), sizeof(typename M::Scalar) * std::size_t(m.size()));
    return *this;
  }
  // The bytes as they are, no length in front (the rest of a message).
  ByteWriter& put_raw(std::span<const std::byte> bytes) {
    append(bytes.data(), bytes.size());
    return *this;
  }
  [[nodiscard]] Bytes take() { return std::move(bytes_); }

 private:
  void append(const void* data, std::size_t n) {
    if (n == 0) return;  // an empty container's data() may be null
    const auto* p = static_cast<const std::byte*>(data);
    bytes_.insert(bytes_.end(), p, p + n);
  }
  Bytes bytes_;
};

// Reads back what ByteWriter wrote, in the same order. Throws Error naming `what` (e.g. "work
// item from rank 0") when the bytes run out.
class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> bytes, std::string what = "message")
      : bytes_(bytes), what_(std::move(what)) {}

  template <class T>
    requires std::is_trivially_copyable_v<T>
  [[nodiscard]] T get() {
    T value;
    copy_out(&value, sizeof value);
    return value;
  }
  [[nodiscard]] std::string get_string() {
    const std::size_t n = length();
    std::string text(n, '\0');
    copy_out(text.data(), n);
    return text;
  }
  template <class T>
  [[nodiscard]] std::vector<T> get_vector() {
    std::vector<T> values(length());
    for (auto& v : values) v = get<T>();
    return values;
  }
  template <class M>
  [[nodiscard]] M get_matrix() {
    const auto rows = get<std::int64_t>(), cols = get<std::int64_t>();
    if (rows < 0 || cols < 0 || (rows > 0 && std::uint64_t(cols) > remaining() / std::uint64_t(rows)))
      truncated();
    M m(rows, cols);
    copy_out(m.data(), sizeof(typename M::Scalar) * std::size_t(m.size()));
    return m;
  }
  // The next n bytes as they are (what put_raw wrote).
  [[nodiscard]] std::span<const std::byte> get_raw(std::size_t n) {
    if (n > remaining()) truncated();
    const auto r = bytes_.subspan(position_, n);
    position_ += n;
    return r;
  }
  // Everything not read yet.
  [[nodiscard]] std::span<const std::byte> rest() {
    auto r = bytes_.subspan(position_);
    position_ = bytes_.size();
    return r;
  }
  [[nodiscard]] std::size_t remaining() const { return bytes_.size() - position_; }

 private:
  // A length read from the message, checked against what is left (one byte per element at least
  // for strings; vectors check again element by element).
  std::size_t length() {
    const auto n = get<std::uint64_t>();
    if (n > remaining()) truncated();
    return std::size_t(n);
  }
  void copy_out(void* out, std::size_t n) {
    if (n > remaining()) truncated();
    if (n > 0) std::memcpy(out, bytes_.data() + position_, n);
    position_ += n;
  }
  [[noreturn]] void truncated() const {
    throw Error("truncated " + what_ + " (" + std::to_string(bytes_.size()) + " bytes)");
  }
  std::span<const std::byte> bytes_;
  std::size_t position_ = 0;
  std::string what_;
};

}  // namespace aesweep
