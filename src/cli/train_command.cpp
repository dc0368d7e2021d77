// aesweep train: one autoencoder, per-epoch progress, final metrics.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "aesweep/cli/commands.hpp"
#include "aesweep/cli/common.hpp"
#include "aesweep/core/gemm.hpp"
#include "aesweep/config/grid.hpp"
#include "aesweep/config/option_registry.hpp"
#include "aesweep/core/error.hpp"
#include "aesweep/core/trainer.hpp"

namespace po = boost::program_options;

namespace aesweep::cli {

int train_command(const std::vector<std::string>& args) {
  po::options_description visible = study_options();
  po::variables_map vm;
  if (!parse_command_line(args, visible,
                          "Usage: aesweep train [CONFIG.ini] [options]\n\n"
                          "Trains one autoencoder with the defaults of CONFIG (its [sweep.*] sections are ignored) and\n"
                          "the command-line settings, shows per-epoch losses, and prints the final metrics.\n"
                          "Exit status: 0 complete, 3 diverged, 2 bad input.\n",
                          vm))
    return 0;
  // One model: a list or range would be a sweep, and train would silently use the defaults instead.
  auto refuse_list = [](const std::string& origin, const std::string& value) {
    if (is_multi_valued(value))
      throw ConfigError(origin + ": train takes one value per option, got a list or range " + shown_value(value) +
                        "; to train every value use 'aesweep plan' and 'aesweep sweep' with a [sweep.NAME] section "
                        "or this --set");
  };
  for (const auto& spec : option_registry())
    if (vm.count(spec.key)) refuse_list("--" + spec.key, vm[spec.key].as<std::string>());
  if (vm.count("set"))
    for (const auto& s : vm["set"].as<std::vector<std::string>>())
      if (const auto eq = s.find('='); eq != std::string::npos && !is_data_key(trim_whitespace(s.substr(0, eq))))
        refuse_list("--set " + trim_whitespace(s.substr(0, eq)), s.substr(eq + 1));
  const std::string config_path = vm.count("config") ? vm["config"].as<std::string>() : "";
  StudyConfig config = study_from_command_line(vm, config_path);
  config.sweeps.clear();  // train runs the defaults
  const auto runs = expand_study(config);
  set_threads(threads_option(vm));
  const bool quiet = vm.count("quiet") > 0;

  const Dataset data = load_dataset(config.data);
  TrainOptions options = runs.front().options;
  options.model.input_size = data.input_size();
  options.validate();
  options.validate_for_data(std::size_t(data.train_images.cols()));
  if (!quiet) {
    std::printf("aesweep train: %d-%d-%d autoencoder, %s encoder, %s decoder, %s optimizer, %s loss\n",
                data.input_size(), options.model.hidden, data.input_size(),
                std::string(to_string(options.model.encoder_activation)).c_str(),
                std::string(to_string(options.model.decoder_activation)).c_str(),
                std::string(to_string(options.optimizer.kind)).c_str(), std::string(to_string(options.model.loss)).c_str());
    std::printf("data: %s (%ld train, %ld test samples)\n", resolve_data_dir(config.data).c_str(),
                long(data.train_images.cols()), long(data.test_images.cols()));
    std::printf("products: %s, %s, %d thread(s); cpu: %s\n", std::string(to_string(options.training.precision)).c_str(),
                gemm::backend_description().c_str(), std::max(1, threads_option(vm)), gemm::cpu_description().c_str());
    std::fflush(stdout);
  }
  double elapsed = 0;
  TrainCallbacks callbacks;
  if (!quiet) {
    callbacks.on_epoch = [&](int epoch, int total, const EpochRecord& r) {
      elapsed += r.seconds;
      const double eta = elapsed / epoch * (total - epoch);
      std::printf("epoch %*d/%d  train loss %.6f  objective %.6f  test loss %.6f", int(std::to_string(total).size()),
                  epoch, total, r.train_loss, r.train_objective, r.test_loss);
      if (r.validation_loss == r.validation_loss) std::printf("  validation %.6f", r.validation_loss);
      std::printf("  %s  elapsed %s  ETA %s\n", format_duration(r.seconds).c_str(), format_duration(elapsed).c_str(),
                  format_duration(eta).c_str());
      std::fflush(stdout);
    };
  }
  const RunResult result = train_autoencoder(options, data, callbacks);
  std::printf("status %s%s%s\n", std::string(to_string(result.status)).c_str(), result.error.empty() ? "" : ": ",
              result.error.c_str());
  for (const auto& field : scalar_fields()) {  // one "name value" line each, in the archive's column order
    std::printf("%.*s ", int(field.name.size()), field.name.data());
    if (field.integer) std::printf(field.format, int(field.get(result)));
    else std::printf(field.format, field.get(result));
    std::printf("\n");
  }
  return result.status == RunStatus::complete ? 0 : 3;
}

}  // namespace aesweep::cli
