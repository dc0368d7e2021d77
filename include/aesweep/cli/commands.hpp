#pragma once
// The aesweep subcommands. Each takes the arguments after its name and returns the exit code;
// errors are thrown (aesweep::Error) and reported by main.
#include <string>
#include <vector>

namespace aesweep::cli {

int train_command(const std::vector<std::string>& args);
int plan_command(const std::vector<std::string>& args);
int sweep_command(const std::vector<std::string>& args);
int status_command(const std::vector<std::string>& args);

}  // namespace aesweep::cli
