// Every MPI call of aesweep: the environment (init, finalize, abort), the communicator's
// point-to-point messages and collectives, and the handle HDF5's MPI-IO driver needs.
#include "aesweep/dist/mpi_communicator.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "aesweep/dist/mpi_environment.hpp"

namespace aesweep {
namespace {

void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(std::string(call) + " failed: " + std::string(text, std::size_t(length)));
}

bool mpi_running() noexcept {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized;
}

// MPI counts are ints: larger messages are refused (a point-to-point payload) or split (a broadcast).
int message_count(std::size_t bytes, const char* what) {
  if (bytes > std::size_t(INT_MAX))
    throw Error(std::string(what) + " of " + std::to_string(bytes) + " bytes is larger than one MPI message (" +
                std::to_string(INT_MAX) + " bytes)");
  return int(bytes);
}

// Set while an MpiEnvironment that initialised MPI has not finalized it (see leave_mpi_at_exit).
bool environment_owns_mpi = false;

// Registered with atexit by the first MpiEnvironment that initialises MPI: a rank that leaves
// without finalize() must not leave the other ranks waiting for it.
void leave_mpi_at_exit() {
  if (!environment_owns_mpi || !mpi_running()) return;
  int size = 1, rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (size > 1) {
    std::fprintf(stderr, "aesweep: rank %d is ending without shutting MPI down; aborting every rank\n", rank);
    MpiEnvironment::abort_all(1);
  }
  MPI_Finalize();
}

}  // namespace

// ---------------------------------------------------------------------------------- environment

MpiEnvironment::MpiEnvironment(int& argc, char**& argv) { start(&argc, &argv); }

MpiEnvironment::MpiEnvironment() { start(nullptr, nullptr); }

void MpiEnvironment::start(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    owns_ = true;
    environment_owns_mpi = true;
    static const bool registered = std::atexit(leave_mpi_at_exit) == 0;
    (void)registered;
  }
  world_ = std::make_unique<MpiCommunicator>(MPI_COMM_WORLD);
  rank_ = world_->rank();
  size_ = world_->size();
}

MpiEnvironment::~MpiEnvironment() = default;

Communicator& MpiEnvironment::world() {
  if (!world_) throw Error("MPI was already shut down (MpiEnvironment::finalize)");
  return *world_;
}

void MpiEnvironment::finalize() {
  if (!world_) return;
  if (mpi_running()) world_->complete_sends();
  world_.reset();
  if (!owns_) return;
  owns_ = false;
  environment_owns_mpi = false;
  MPI_Finalize();
}

void MpiEnvironment::abort_all(int code) noexcept {
  std::fflush(nullptr);  // the message that explains the abort must not stay in a buffer
  if (mpi_running()) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this keeps [[noreturn]] honest without MPI
}

// ---------------------------------------------------------------------------------- communicator

MpiCommunicator::MpiCommunicator(MPI_Comm comm) : comm_(comm) {
  check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

MpiCommunicator::~MpiCommunicator() {
  if (!mpi_running()) return;
  // Waiting here could hang a rank that is unwinding an error. A send still in flight keeps its
  // buffer (deliberately leaked: MPI may still read it) and MPI completes it on its own.
  for (auto& [buffer, request] : sending_) {
    int done = 0;
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) continue;
    MPI_Request_free(&request);
    new Bytes(std::move(buffer));
  }
}

bool MpiCommunicator::usable() const noexcept { return mpi_running(); }

void MpiCommunicator::release_completed_sends() {
  for (auto it = sending_.begin(); it != sending_.end();) {
    int done = 0;
    check(MPI_Test(&it->second, &done, MPI_STATUS_IGNORE), "MPI_Test");
    it = done ? sending_.erase(it) : std::next(it);
  }
}

void MpiCommunicator::send(int destination, int tag, Bytes payload) {
  const int count = message_count(payload.size(), "a message");
  auto& [buffer, request] = sending_.emplace_back(std::move(payload), MPI_REQUEST_NULL);
  check(MPI_Isend(buffer.data(), count, MPI_BYTE, destination, tag, comm_, &request), "MPI_Isend");
  release_completed_sends();
}

Message MpiCommunicator::receive_probed(const MPI_Status& status) {
  int count = 0;
  check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
  Message m;
  m.source = status.MPI_SOURCE;
  m.tag = status.MPI_TAG;
  m.payload.resize(std::size_t(count));
  check(MPI_Recv(m.payload.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, comm_, MPI_STATUS_IGNORE),
        "MPI_Recv");
  return m;
}

std::optional<Message> MpiCommunicator::poll() {
  release_completed_sends();
  int flag = 0;
  MPI_Status status;
  check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &flag, &status), "MPI_Iprobe");
  if (!flag) return std::nullopt;
  return receive_probed(status);
}

Message MpiCommunicator::receive() {
  release_completed_sends();
  MPI_Status status;
  check(MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &status), "MPI_Probe");
  return receive_probed(status);
}

void MpiCommunicator::complete_sends() {
  while (!sending_.empty()) {
    check(MPI_Wait(&sending_.front().second, MPI_STATUS_IGNORE), "MPI_Wait");
    sending_.pop_front();
  }
}

void MpiCommunicator::barrier() { check(MPI_Barrier(comm_), "MPI_Barrier"); }

std::int64_t MpiCommunicator::min_over_ranks(std::int64_t value) {
  std::int64_t result = value;
  check(MPI_Allreduce(&value, &result, 1, MPI_INT64_T, MPI_MIN, comm_), "MPI_Allreduce");
  return result;
}

Bytes MpiCommunicator::broadcast(Bytes bytes, int root) {
  std::uint64_t n = bytes.size();
  check(MPI_Bcast(&n, 1, MPI_UINT64_T, root, comm_), "MPI_Bcast");
  bytes.resize(std::size_t(n));
  for (std::size_t at = 0; at < bytes.size();) {  // in pieces MPI's int counts can say
    const int piece = int(std::min<std::size_t>(bytes.size() - at, std::size_t(INT_MAX)));
    check(MPI_Bcast(bytes.data() + at, piece, MPI_BYTE, root, comm_), "MPI_Bcast");
    at += std::size_t(piece);
  }
  return bytes;
}

MpiIoHandle mpi_io_handle(const Communicator& comm) {
  const auto* mpi = dynamic_cast<const MpiCommunicator*>(&comm);
  if (!mpi) throw Error("MPI-IO needs an MPI communicator, and this one is not (a test's fake?)");
  return {mpi->native(), MPI_INFO_NULL};
}

}  // namespace aesweep
