#pragma once
// Small text helpers that every program's messages and option checks share (aesweep's option
// registry, aesweep-analyze's options), so that a value is quoted and read the same everywhere.
#include <cstddef>
#include <string>
#include <string_view>

namespace aesweep {

// `text` without leading and trailing whitespace.
std::string trim_whitespace(std::string_view text);

// `text` in single quotes, cut to `limit` characters with "...' (N bytes)" when longer, so a
// huge bad value is not echoed whole.
std::string shown_value(std::string_view text, std::size_t limit = 80);

// Whether the number written in `text` is exactly `value`, its float64 reading, when read at long
// double's 64-bit precision: false for an integer a float64 cannot hold (2^53 + 1 reads as 2^53),
// which an integer option must refuse rather than round.
bool reads_exactly_as(std::string_view text, double value);

}  // namespace aesweep
