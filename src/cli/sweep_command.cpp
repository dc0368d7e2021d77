// aesweep sweep: placeholder until the distribution module lands.
#include "aesweep/cli/commands.hpp"
#include "aesweep/core/error.hpp"

namespace aesweep::cli {
int sweep_command(const std::vector<std::string>&) { throw Error("sweep is not built yet"); }
}  // namespace aesweep::cli
