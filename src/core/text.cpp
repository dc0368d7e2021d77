#include "aesweep/core/text.hpp"

#include <cstdlib>

namespace aesweep {

std::string trim_whitespace(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

std::string shown_value(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return "'" + std::string(text) + "'";
  return "'" + std::string(text.substr(0, limit)) + "...' (" + std::to_string(text.size()) + " bytes)";
}

bool reads_exactly_as(std::string_view text, double value) {
  return std::strtold(trim_whitespace(text).c_str(), nullptr) == static_cast<long double>(value);
}

}  // namespace aesweep
