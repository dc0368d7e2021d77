#pragma once
// The config tests' check of a refused input: the ConfigError message a pipeline throws, and an
// expectation that it names what it should. Each test file drives its own pipeline (parse and
// expand, parse and plan, load from a file), so the pipeline is passed in.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "aesweep/core/error.hpp"

namespace aesweep::test {

// The ConfigError message of `pipeline()`, "" when it throws none.
template <class Pipeline>
std::string config_error_of(Pipeline&& pipeline) {
  try {
    pipeline();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// Expects `message` (of refusing `input`) to be an error that holds `file` (when not empty) and
// each of `parts` ("line 3", the key, ...).
inline void expect_config_error(const std::string& message, const std::string& input, const std::string& file,
                                std::initializer_list<std::string> parts) {
  ASSERT_FALSE(message.empty()) << "accepted:\n" << input;
  if (!file.empty()) {
    EXPECT_NE(message.find(file), std::string::npos) << "does not name the file: " << message;
  }
  for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << "lacks '" << part << "': " << message;
}

}  // namespace aesweep::test
