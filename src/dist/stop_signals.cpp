#include "aesweep/dist/stop_signals.hpp"

#include <signal.h>

#include <system_error>
#include <thread>
#include <utility>

namespace aesweep {

void take_signals_in_a_thread(std::initializer_list<int> signals, std::function<void(int)> on_signal) {
  sigset_t set;
  sigemptyset(&set);
  bool any = false;
  for (const int signal : signals) {
    struct sigaction now {};
    if (sigaction(signal, nullptr, &now) == 0 && now.sa_handler == SIG_IGN) continue;  // stays ignored
    sigaddset(&set, signal);
    any = true;
  }
  if (!any) return;
  if (const int err = pthread_sigmask(SIG_BLOCK, &set, nullptr); err != 0)
    throw std::system_error(err, std::generic_category(), "blocking the stop signals");
  std::thread([set, on_signal = std::move(on_signal)] {
    for (;;)
      if (int signal = 0; sigwait(&set, &signal) == 0) on_signal(signal);
  }).detach();  // waits until the process ends
}

}  // namespace aesweep
