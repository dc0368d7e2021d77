#pragma once
// The process-wide MPI environment: MPI is set up and torn down here and nowhere else. Users see
// only the Communicator interface; no MPI header is needed to use this one.
#include <memory>

#include "aesweep/dist/communicator.hpp"

namespace aesweep {

// Initialises MPI (MPI_THREAD_FUNNELED: only the main thread calls MPI) unless someone already
// did, in which case finalize() leaves it to them. Finalize is explicit, never from the
// destructor: a rank stuck in MPI_Finalize waits forever for ranks that are unwinding an error.
//
// Safety net for a rank that leaves main without finalize() (an exception that escaped to a
// main which printed it and returned): at exit, MPI is finalized if this job has one rank, and
// with more ranks every rank is aborted (abort_all(1)) instead of leaving the others waiting in
// their next collective.
class MpiEnvironment {
 public:
  MpiEnvironment(int& argc, char**& argv);
  MpiEnvironment();
  MpiEnvironment(const MpiEnvironment&) = delete;
  MpiEnvironment& operator=(const MpiEnvironment&) = delete;
  ~MpiEnvironment();

  // Every rank of the job (MPI_COMM_WORLD). Valid until finalize().
  [[nodiscard]] Communicator& world();
  [[nodiscard]] int rank() const { return rank_; }
  [[nodiscard]] int size() const { return size_; }
  // COLLECTIVE: completes this rank's sends, then finalizes MPI if this environment set it up.
  // Safe to call twice.
  void finalize();
  // Ends every rank of the job with exit status `code` (MPI_Abort on MPI_COMM_WORLD); for a
  // failure after which the ranks cannot agree on anything any more. Works without an
  // environment object and before MPI was initialised (then it only exits this process).
  [[noreturn]] static void abort_all(int code) noexcept;

 private:
  void start(int* argc, char*** argv);
  std::unique_ptr<Communicator> world_;
  int rank_ = 0;
  int size_ = 1;
  bool owns_ = false;
};

}  // namespace aesweep
