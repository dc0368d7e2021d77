#pragma once
// MPI behind the Communicator interface. Only code that must name an MPI communicator includes
// this header (tests on MPI_COMM_SELF, the MPI-IO junction below); everything else uses
// MpiEnvironment::world() through communicator.hpp.
#include <mpi.h>

#include <list>
#include <utility>

#include "aesweep/dist/communicator.hpp"
#include "aesweep/dist/mpi_environment.hpp"  // MpiEnvironment makes the MpiCommunicator of world()

namespace aesweep {

// Move-only view of an MPI communicator (not duplicated, not freed: the caller keeps `comm`
// alive for as long as this object). Sends are non-blocking (MPI_Isend); the payload is kept
// until MPI reports the send complete.
class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm comm = MPI_COMM_WORLD);
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;
  // Never blocks: sends still in flight are left to MPI with their buffers (see the .cpp).
  ~MpiCommunicator() override;

  [[nodiscard]] int rank() const override { return rank_; }
  [[nodiscard]] int size() const override { return size_; }
  [[nodiscard]] bool usable() const noexcept override;
  void send(int destination, int tag, Bytes payload) override;
  [[nodiscard]] std::optional<Message> poll() override;
  [[nodiscard]] Message receive() override;
  void complete_sends() override;
  void barrier() override;
  [[nodiscard]] std::int64_t min_over_ranks(std::int64_t value) override;
  [[nodiscard]] Bytes broadcast(Bytes bytes, int root) override;

  [[nodiscard]] MPI_Comm native() const noexcept { return comm_; }

 private:
  Message receive_probed(const MPI_Status& status);
  void release_completed_sends();

  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  std::list<std::pair<Bytes, MPI_Request>> sending_;
};

// ---- The one junction between dist and the archive.
// HDF5's MPI-IO file driver (H5Pset_fapl_mpio, called only in src/archive/h5.cpp) needs the raw
// MPI communicator a Communicator stands for. This is the only way to get it: h5::FileAccess::mpio
// takes a Communicator&, asks for its handle here and passes it straight to HDF5, so the archive
// makes no MPI call and names no MPI type, and dist makes no HDF5 call.
struct MpiIoHandle {
  MPI_Comm comm;
  MPI_Info info;
};
// Throws Error when `comm` is not an MpiCommunicator (a test's fake cannot open a file with MPI-IO).
[[nodiscard]] MpiIoHandle mpi_io_handle(const Communicator& comm);

}  // namespace aesweep
