#include "aesweep/dist/mpi_communicator.hpp"

#include <string>

#include "aesweep/core/error.hpp"

namespace aesweep {
namespace {
void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(std::string(call) + " failed: " + std::string(text, std::size_t(length)));
}
}  // namespace

MpiEnvironment::MpiEnvironment(int& argc, char**& argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    owns_ = true;
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

void MpiEnvironment::finalize() {
  if (!owns_) return;
  owns_ = false;
  MPI_Finalize();
}

void MpiEnvironment::abort_all(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this keeps [[noreturn]] honest
}

bool any_rank(bool value, MPI_Comm comm) {
  int local = value ? 1 : 0, global = 0;
  check(MPI_Allreduce(&local, &global, 1, MPI_INT, MPI_LOR, comm), "MPI_Allreduce");
  return global != 0;
}

long broadcast_from_root(long value, MPI_Comm comm) {
  check(MPI_Bcast(&value, 1, MPI_LONG, 0, comm), "MPI_Bcast");
  return value;
}

MpiCommunicator::MpiCommunicator(MPI_Comm comm) : comm_(comm) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

void MpiCommunicator::send(int destination, int tag, const std::vector<double>& payload) {
  check(MPI_Send(payload.data(), int(payload.size()), MPI_DOUBLE, destination, tag, comm_), "MPI_Send");
}

Message MpiCommunicator::receive_probed(const MPI_Status& status) {
  int count = 0;
  MPI_Get_count(&status, MPI_DOUBLE, &count);
  Message m;
  m.source = status.MPI_SOURCE;
  m.tag = status.MPI_TAG;
  m.payload.resize(std::size_t(count));
  check(MPI_Recv(m.payload.data(), count, MPI_DOUBLE, status.MPI_SOURCE, status.MPI_TAG, comm_, MPI_STATUS_IGNORE),
        "MPI_Recv");
  return m;
}

std::optional<Message> MpiCommunicator::poll() {
  int flag = 0;
  MPI_Status status;
  check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &flag, &status), "MPI_Iprobe");
  if (!flag) return std::nullopt;
  return receive_probed(status);
}

Message MpiCommunicator::receive() {
  MPI_Status status;
  check(MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &status), "MPI_Probe");
  return receive_probed(status);
}

}  // namespace aesweep
