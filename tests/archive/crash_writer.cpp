// Helper for the crash-safety test (not a test itself): creates a large-ish archive, writes
// `first` runs, then arms a timer that SIGKILLs this process after `delay_us` microseconds
// while it keeps writing runs, so the kill lands at an arbitrary point, usually inside
// write_run. Usage: archive_crash_writer PATH FIRST DELAY_US
// A negative DELAY_US arms no timer: every run is written, the archive closed, exit status 0
// (the durability test traces the system calls of such a run).
#include <mpi.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "test_support.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: archive_crash_writer PATH FIRST DELAY_US\n");
    return 2;
  }
  MPI_Init(&argc, &argv);
  const std::string path = argv[1];
  const std::size_t first = std::stoul(argv[2]);
  const long delay_us = std::stol(argv[3]);
  using namespace aesweep;
  const auto size = testing::large_study();
  const auto header = testing::make_header(size);
  const auto runs = testing::make_runs(size);
  try {
    auto archive = SweepArchive::open_for_sweep(path, testing::world_communicator(), header, runs, OpenMode::overwrite);
    for (std::size_t i = 0; i < runs.size(); ++i) {
      if (i == first && delay_us >= 0) {
        std::thread([delay_us] {
          std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
          std::raise(SIGKILL);
        }).detach();
      }
      const RunShape shape = archive.shape(i);
      archive.write_run(i, testing::make_result(runs[i], shape), testing::make_info(shape, i, 0));
    }
    if (delay_us < 0) {
      archive.close();
      MPI_Finalize();
      return 0;
    }
    // Every run written before the timer fired: wait for it, the test expects a kill.
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "archive_crash_writer: %s\n", e.what());
    return 1;
  }
}
