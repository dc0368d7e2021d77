// aesweep: hyperparameter sweeps of regularized autoencoders.
// main catches everything: a bad input is a message and exit status 2, never a crash.
#include <boost/program_options/errors.hpp>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "aesweep/cli/commands.hpp"
#include "aesweep/archive/h5.hpp"
#include "aesweep/cli/common.hpp"
#include "aesweep/config/option_registry.hpp"
#include "aesweep/core/gemm.hpp"
#include "aesweep/core/error.hpp"

// The instruction-set extensions this build was compiled for (src/core/built_for.cpp).
extern "C" const char* const aesweep_built_for[];

namespace {

// "the baseline + avx, avx2, ...": what a CPU needs to run this build (cpu_check.cpp refuses others).
std::string built_for() {
#if !defined(__x86_64__)
  return "this architecture's compiler flags (not checked at start-up here)";
#endif
  std::string text = "the baseline";
  for (const char* const* f = aesweep_built_for; *f != nullptr; ++f)
    text += (f == aesweep_built_for ? " + " : ", ") + std::string(*f);
  return text;
}

// Boost quotes a value it cannot read whole, "the argument ('VALUE') for option '--fuse' is invalid":
// a long one is cut to 80 characters with its length, as the other messages quote a value.
std::string cut_quoted_value(std::string message) {
  const auto open = message.find("('"), close = message.rfind("')");
  if (open == std::string::npos || close == std::string::npos || close < open + 2) return message;
  const std::string value = message.substr(open + 2, close - open - 2);
  if (value.size() <= 80) return message;
  return message.substr(0, open + 1) + aesweep::shown_value(value) + message.substr(close + 1);
}

// Boost echoes a bad value whole: a megabyte of text is cut.
std::string cut_message(const std::string& message) {
  if (message.size() <= 300) return message;
  return message.substr(0, 200) + "... (" + std::to_string(message.size()) + " bytes)";
}

void print_usage() {
  std::printf(
      "Usage: aesweep COMMAND [options]\n\n"
      "Commands:\n"
      "  train [CONFIG.ini]     train one autoencoder on MNIST and print its metrics\n"
      "  plan CONFIG.ini        list the runs of a sweep config without training\n"
      "  sweep CONFIG.ini       run every model of a sweep under mpirun into one HDF5 archive\n"
      "  status ARCHIVE         runs per state, the best runs and the Pareto front of a sweep archive,\n"
      "                         also while the sweep is still writing it\n\n"
      "'aesweep COMMAND --help' explains every option of a command; 'aesweep --version' names the\n"
      "build: its version, matrix-product backend, HDF5, the instruction sets it needs and this CPU.\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_usage();
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::printf("aesweep %s\nmatrix products: %s (AESWEEP_GEMM at build time)\nbf16: %s\nhdf5: %s\nbuilt for: %s\n"
                "cpu: %s\n",
                AESWEEP_VERSION, aesweep::gemm::backend_description().c_str(),
                aesweep::gemm::bf16_supported() ? "available" : aesweep::gemm::bf16_unsupported_reason().c_str(),
                aesweep::h5::library_version().c_str(), built_for().c_str(), aesweep::gemm::cpu_description().c_str());
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "train") return aesweep::cli::train_command(args);
    if (command == "plan") return aesweep::cli::plan_command(args);
    if (command == "sweep") return aesweep::cli::sweep_command(args);
    if (command == "status") return aesweep::cli::status_command(args);
    std::fprintf(stderr, "aesweep: unknown command '%s'\n\n", command.c_str());
    print_usage();
    return 2;
  } catch (const boost::program_options::error_with_option_name& e) {
    // A value Boost could not read as a number names the option's range.
    std::string message = cut_message(cut_quoted_value(e.what()));
    const std::string range = aesweep::cli::option_range(e.get_option_name());
    if (!range.empty() && (dynamic_cast<const boost::program_options::invalid_option_value*>(&e) ||
                           dynamic_cast<const boost::program_options::validation_error*>(&e)))
      message += ": " + e.get_option_name() + " takes " + range;
    std::fprintf(stderr, "aesweep %s: error: %s (see 'aesweep %s --help')\n", command.c_str(), message.c_str(),
                 command.c_str());
  } catch (const boost::program_options::error& e) {
    std::fprintf(stderr, "aesweep %s: error: %s (see 'aesweep %s --help')\n", command.c_str(),
                 cut_message(e.what()).c_str(), command.c_str());
  } catch (const std::filesystem::filesystem_error& e) {
    std::fprintf(stderr, "aesweep %s: error: %s: %s\n", command.c_str(), e.path1().c_str(), e.code().message().c_str());
  } catch (const aesweep::Error& e) {
    std::fprintf(stderr, "aesweep %s: error: %s\n", command.c_str(), e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aesweep %s: unexpected error: %s\n", command.c_str(), e.what());
  } catch (...) {
    std::fprintf(stderr, "aesweep %s: unexpected error of unknown type\n", command.c_str());
  }
  return 2;
}
