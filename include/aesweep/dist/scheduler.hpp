#pragma once
// Dynamic hand-out of sweep work. Rank 0 coordinates and also trains: between minibatches of its
// own work it answers requests, so no core idles while runs of a hundredfold different cost finish
// at different times. Work items are handed out longest-first (LPT) by an estimated cost; results
// do not depend on the order because every run's seed comes from its spec. A work item is one run
// or a group of runs trained together (train_together); it reports one RunReport per run.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "aesweep/core/run_result.hpp"
#include "aesweep/dist/communicator.hpp"

namespace aesweep {

// What a finished run reports to the coordinator (the full result goes to the archive).
struct RunReport {
  std::size_t run = 0;
  RunStatus status = RunStatus::complete;
  double test_mse = 0;
  double latent_density = 0;
  double seconds = 0;
  int rank = 0;
};

// The coordinator's bookkeeping, free of any communication: which run goes next, which rank has
// what in flight. Not thread-safe; owned by rank 0.
class WorkQueue {
 public:
  // `pending`: work items still to do; `cost[i]`: estimated cost of item pending[i].
  WorkQueue(std::vector<std::size_t> pending, const std::vector<double>& cost, int ranks);

  // The next item for `rank` (nullopt when nothing is left or hand-out was stopped); marks it in flight.
  std::optional<std::size_t> assign(int rank);
  // `rank` finished its item in flight.
  void finish(int rank);
  // No further hand-out (e.g. the job got its termination signal).
  void stop() { stopped_ = true; }

  std::size_t remaining() const { return stopped_ ? 0 : next_ < order_.size() ? order_.size() - next_ : 0; }
  std::size_t total() const { return order_.size(); }
  std::optional<std::size_t> in_flight(int rank) const { return in_flight_[std::size_t(rank)]; }
  int busy_ranks() const;

 private:
  std::vector<std::size_t> order_;  // pending items, most expensive first
  std::size_t next_ = 0;
  std::vector<std::optional<std::size_t>> in_flight_;
  bool stopped_ = false;
};

// Trains work item `item` and reports each of its runs; calls `poll` often (between minibatches)
// so rank 0 can serve requests. Must not throw: failures are reported as RunStatus::failed.
using RunFunction = std::function<std::vector<RunReport>(std::size_t item, const std::function<void()>& poll)>;

struct SweepEvents {
  std::function<void(const RunReport&, const WorkQueue&)> on_finish;  // rank 0 only, once per run
  std::function<bool()> stop_requested;  // polled by rank 0; true stops hand-out
};

// Rank 0: hands out every item of `queue`, trains its share, returns when every rank is done.
void coordinate(Communicator& comm, WorkQueue& queue, const RunFunction& train, const SweepEvents& events);

// Ranks > 0: ask for work items and train them until told to stop.
void work(Communicator& comm, const RunFunction& train);

}  // namespace aesweep
