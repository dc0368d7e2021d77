#pragma once
// Errors raised by the analysis algorithms: bad options or inputs whose shapes disagree.
// Degenerate but well-formed data (NaN latents, one cluster, ...) is not an error: the
// algorithms return NaN results with a reason instead.
#include "aesweep/core/error.hpp"

namespace aesweep::analysis {

class AnalysisError : public aesweep::Error {
 public:
  using aesweep::Error::Error;
};

}  // namespace aesweep::analysis
