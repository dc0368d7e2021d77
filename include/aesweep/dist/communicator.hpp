#pragma once
// Point-to-point messaging behind a small interface, so the scheduling protocol can be tested in
// one process with a fake (tests/dist) and runs over MPI in production (mpi_communicator.hpp).
#include <optional>
#include <vector>

namespace aesweep {

struct Message {
  int source = -1;
  int tag = 0;
  std::vector<double> payload;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual void send(int destination, int tag, const std::vector<double>& payload) = 0;
  // A message if one is waiting (any source, any tag); never blocks.
  [[nodiscard]] virtual std::optional<Message> poll() = 0;
  // Blocks until a message arrives (any source, any tag).
  [[nodiscard]] virtual Message receive() = 0;
};

}  // namespace aesweep
