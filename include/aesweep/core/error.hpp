#pragma once
// The project's exception hierarchy. Messages name the input and what was expected.
#include <stdexcept>
#include <string>

namespace aesweep {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
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

}  // namespace aesweep
