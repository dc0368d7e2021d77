#pragma once
// MPI behind the Communicator interface, and the process-wide MPI environment.
#include <mpi.h>

#include "aesweep/dist/communicator.hpp"

namespace aesweep {

// Initialises MPI (MPI_THREAD_FUNNELED: only the main thread calls MPI) unless someone already
// did. Finalize is explicit, never from a destructor: on an error path the program calls
// abort_all() instead, because a rank stuck in MPI_Finalize waits forever for the others.
class MpiEnvironment {
 public:
  MpiEnvironment(int& argc, char**& argv);
  MpiEnvironment(const MpiEnvironment&) = delete;
  MpiEnvironment& operator=(const MpiEnvironment&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }
  void finalize();                              // collective
  [[noreturn]] static void abort_all(int code);  // ends every rank of MPI_COMM_WORLD

 private:
  int rank_ = 0;
  int size_ = 1;
  bool owns_ = false;
};

// Logical OR over all ranks (collective): true if any rank passed true.
bool any_rank(bool value, MPI_Comm comm = MPI_COMM_WORLD);

// Rank 0's value on every rank (collective).
long broadcast_from_root(long value, MPI_Comm comm = MPI_COMM_WORLD);

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm comm = MPI_COMM_WORLD);
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void send(int destination, int tag, const std::vector<double>& payload) override;
  [[nodiscard]] std::optional<Message> poll() override;
  [[nodiscard]] Message receive() override;

 private:
  Message receive_probed(const MPI_Status& status);
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace aesweep
