#pragma once
// Communication between ranks behind a small interface: MPI in production (mpi_communicator.hpp),
// a fake in one process in the tests (tests/dist/fake_communicator.hpp), so the scheduling
// protocols of the sweep and the analysis are unit-tested without mpiexec. No MPI type appears
// here; every MPI call of aesweep is in src/dist/mpi_communicator.cpp.
//
// COLLECTIVE calls must be made by every rank of the communicator, in the same order, with the
// same root; a rank that skips one leaves the others waiting. The point-to-point calls (send,
// poll, receive) are never collective.
#include <cstdint>
#include <optional>
#include <string>

#include "aesweep/core/bytes.hpp"

namespace aesweep {

struct Message {
  int source = -1;
  int tag = 0;
  Bytes payload;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  [[nodiscard]] virtual int rank() const = 0;
  [[nodiscard]] virtual int size() const = 0;
  // False once the transport is shut down (MPI finalized): no call may be made any more.
  [[nodiscard]] virtual bool usable() const noexcept = 0;

  // ---- point to point
  // Starts sending and returns without waiting for the receiver: two ranks sending each other
  // large payloads at once cannot deadlock, and the sender goes on working while its message
  // travels. Messages from one rank to another arrive in the order they were sent.
  virtual void send(int destination, int tag, Bytes payload) = 0;
  // A message if one is waiting (any source, any tag); never blocks.
  [[nodiscard]] virtual std::optional<Message> poll() = 0;
  // Blocks until a message arrives (any source, any tag).
  [[nodiscard]] virtual Message receive() = 0;
  // Blocks until every message this rank sent has been received (their buffers are released).
  // Call before shutting the transport down.
  virtual void complete_sends() = 0;

  // ---- collectives (COLLECTIVE)
  virtual void barrier() = 0;
  // The smallest `value` passed by any rank, on every rank.
  [[nodiscard]] virtual std::int64_t min_over_ranks(std::int64_t value) = 0;
  // Rank `root`'s bytes on every rank (what the other ranks pass is ignored).
  [[nodiscard]] virtual Bytes broadcast(Bytes bytes, int root) = 0;

  // COLLECTIVE. Each rank passes its own error, if it had one; every rank returns the message
  // of the lowest-numbered failing rank, or nothing when no rank failed. Lets every rank take
  // the same branch after a step that may fail on some ranks only.
  [[nodiscard]] std::optional<std::string> agree_on_error(const std::optional<std::string>& local_error) {
    const std::int64_t first = min_over_ranks(local_error ? rank() : size());
    if (first == size()) return std::nullopt;
    Bytes text;
    if (rank() == first) text = ByteWriter().put(*local_error).take();
    const Bytes agreed = broadcast(std::move(text), int(first));
    return ByteReader(agreed, "error message").get_string();
  }
  // COLLECTIVE: true on every rank if any rank passed true.
  [[nodiscard]] bool any(bool value) { return min_over_ranks(value ? 0 : 1) == 0; }
  // COLLECTIVE: true on every rank if every rank passed true.
  [[nodiscard]] bool all(bool value) { return min_over_ranks(value ? 1 : 0) == 1; }
  // COLLECTIVE: rank `root`'s value on every rank.
  [[nodiscard]] std::int64_t broadcast_int(std::int64_t value, int root = 0) {
    const Bytes bytes = broadcast(rank() == root ? ByteWriter().put(value).take() : Bytes{}, root);
    return ByteReader(bytes, "broadcast integer").get<std::int64_t>();
  }
  [[nodiscard]] std::string broadcast_string(const std::string& text, int root = 0) {
    const Bytes bytes = broadcast(rank() == root ? ByteWriter().put(text).take() : Bytes{}, root);
    return ByteReader(bytes, "broadcast text").get_string();
  }
};

}  // namespace aesweep
