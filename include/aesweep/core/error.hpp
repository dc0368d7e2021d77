#pragma once
// The project's exception hierarchy. Messages name the input and what was expected.
#include <stdexcept>
#include <string>
#include <utility>

namespace aesweep {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  // `detail`: what a user needs only when digging (a library's whole error chain); shown with
  // --verbose, never instead of the one-sentence message.
  Error(const std::string& message, std::string detail) : std::runtime_error(message), detail_(std::move(detail)) {}
  [[nodiscard]] const std::string& detail() const noexcept { return detail_; }

 private:
  std::string detail_;
};

// Bad user input: option values, config files, command lines.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// Unreadable or malformed data files.
class DataError : public Error {
 public:
  using Error::Error;
};

// Problems reading or writing the HDF5 archive.
class ArchiveError : public Error {
 public:
  using Error::Error;
};

// The detail of `e` when it is one of ours, else "".
inline std::string error_detail(const std::exception& e) {
  const auto* ours = dynamic_cast<const Error*>(&e);
  return ours ? ours->detail() : std::string();
}

}  // namespace aesweep
