// The coordinator's own cost per run: the real MPI protocol (request, hand-out, report) with runs
// that take no time, so all that is measured is scheduling and messaging.
// Usage: mpirun -np N coordinator_overhead [RUNS]
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>

#include "aesweep/dist/mpi_communicator.hpp"
#include "aesweep/dist/scheduler.hpp"

int main(int argc, char** argv) {
  aesweep::MpiEnvironment mpi(argc, argv);
  aesweep::MpiCommunicator comm;
  const std::size_t runs = argc > 1 ? std::size_t(std::atol(argv[1])) : 20000;
  const aesweep::RunFunction instant = [](std::size_t run, const std::function<void()>& poll) {
    poll();
    aesweep::RunReport r;
    r.run = run;
    return std::vector<aesweep::RunReport>{r};
  };
  MPI_Barrier(MPI_COMM_WORLD);
  const auto start = std::chrono::steady_clock::now();
  if (comm.rank() == 0) {
    std::vector<std::size_t> pending(runs);
    std::iota(pending.begin(), pending.end(), std::size_t(0));
    aesweep::WorkQueue queue(pending, {}, comm.size());
    aesweep::coordinate(comm, queue, instant, {});
  } else {
    aesweep::work(comm, instant);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (comm.rank() == 0)
    std::printf("{\"ranks\": %d, \"runs\": %zu, \"seconds\": %.3f, \"overhead_per_run_us\": %.2f}\n", comm.size(), runs,
                seconds, seconds / double(runs) * 1e6);
  mpi.finalize();
  return 0;
}
