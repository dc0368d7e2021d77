#pragma once
// The project's exception hierarchy. Messages name the input and what was expected.
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

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

// Bad user input: option values, config files, command lines. Where it was found and which
// option keys it is about are fields, so a caller that knows the place adds it without reading
// the message: what() is "WHERE: KEY: reason" (the key only when the reason does not start with
// it, the place only once it is known).
class ConfigError : public Error {
 public:
  // keys: the options involved, the one to point at first.
  explicit ConfigError(const std::string& reason, std::vector<std::string> keys = {}, std::string where = {})
      : Error(compose(reason, keys, where)), reason_(reason), keys_(std::move(keys)), where_(std::move(where)) {}

  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }
  [[nodiscard]] const std::vector<std::string>& keys() const noexcept { return keys_; }
  [[nodiscard]] const std::string& where() const noexcept { return where_; }

  // This error at `where` ("config x.ini line 4", "--set k=v"), about `key` unless it names its
  // own keys. An error that already has a place keeps it.
  [[nodiscard]] ConfigError at(const std::string& where, const std::string& key = {}) const {
    if (!where_.empty()) return *this;
    std::vector<std::string> keys = keys_;
    if (keys.empty() && !key.empty()) keys.push_back(key);
    return ConfigError(reason_, std::move(keys), where);
  }

 private:
  static std::string compose(const std::string& reason, const std::vector<std::string>& keys, const std::string& where) {
    std::string text = where.empty() ? std::string() : where + ": ";
    if (!keys.empty() && reason.rfind(keys.front(), 0) != 0) text += keys.front() + ": ";
    return text + reason;
  }
  std::string reason_;
  std::vector<std::string> keys_;
  std::string where_;
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
