#pragma once
// The stop signals of a long MPI job (a Slurm time limit's SIGTERM, mpirun's SIGTERM after a
// Ctrl-C, SIGUSR1), taken by one thread instead of a handler.
//
// Why not a handler: oneDNN 2.6's JIT sgemm kernels (Debian 12's libdnnl) point the stack pointer
// into the heap while they run, so the frame the kernel pushes for a handler lands in the heap and
// corrupts it and the product being computed (oneDNN issue 4845, fixed in 3.11). The signals are
// blocked in every thread instead (call this before MPI starts, so that MPI's threads and the
// products' own inherit the mask), and one thread, which does nothing else, waits for them.
#include <functional>
#include <initializer_list>

namespace aesweep {

// Blocks `signals` in the calling thread (and so in every thread it starts later) and starts a
// thread that calls `on_signal(signal)` for each one that arrives, until the process ends. A
// signal the process was started ignoring stays ignored (a non-interactive shell starts its
// background jobs ignoring SIGINT, so that a Ctrl-C meant for the foreground spares them; mpirun
// starts its ranks with the default actions). Throws std::system_error if the mask cannot be set.
void take_signals_in_a_thread(std::initializer_list<int> signals, std::function<void(int)> on_signal);

}  // namespace aesweep
