#pragma once
// Dynamic hand-out of work over the ranks of a Communicator, used by the sweep (training runs)
// and by the analysis (analysing them). Rank 0 coordinates and also computes: between steps of
// its own work it answers the other ranks, so no core idles while items of a hundredfold
// different cost finish at different times. Items are handed out longest-first (LPT) by an
// estimated cost; results must not depend on the order (a run's seed comes from its spec).
//
// Two layers:
//   - coordinate_items / serve_items: the protocol. An item carries a payload from rank 0 to the
//     rank that computes it and brings a result back, both as bytes; each worker holds up to
//     `items_per_worker` items so it can start the next while its last result travels.
//   - coordinate / work: the sweep's use of it. An item is one run or a group of runs trained
//     together (train_together); it reports one RunReport per run.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "aesweep/core/run_result.hpp"
#include "aesweep/dist/communicator.hpp"

namespace aesweep {

// The coordinator's bookkeeping, free of any communication: which item goes next, which rank has
// what in flight. Not thread-safe; owned by rank 0.
class WorkQueue {
 public:
  // `pending`: work items still to do; `cost[i]`: estimated cost of item pending[i].
  WorkQueue(std::vector<std::size_t> pending, const std::vector<double>& cost, int ranks);

  // `rank` has finished whatever it held and takes the next item (nullopt when nothing is left or
  // hand-out was stopped); marks it in flight. For a rank that works on one item at a time.
  std::optional<std::size_t> assign(int rank);
  // Hands `rank` one more item on top of those it holds (nullopt as for assign).
  std::optional<std::size_t> hand_out(int rank);
  // `rank` finished the oldest item it holds (ranks finish their items in the order received).
  void finish(int rank);
  // More items, known only now (a schedule's rung was decided): queued after those not yet
  // handed out, most expensive first among themselves (ties in the order given).
  void add(const std::vector<std::size_t>& items, const std::vector<double>& cost);
  // No further hand-out (e.g. the job got its termination signal).
  void stop() { stopped_ = true; }

  std::size_t remaining() const { return stopped_ ? 0 : next_ < order_.size() ? order_.size() - next_ : 0; }
  std::size_t total() const { return order_.size(); }
  // The item `rank` is working on: the oldest it holds.
  std::optional<std::size_t> in_flight(int rank) const;
  // How many items `rank` holds.
  std::size_t held(int rank) const { return in_flight_[std::size_t(rank)].size(); }
  int busy_ranks() const;
  std::size_t items_in_flight() const;

 private:
  std::vector<std::size_t> order_;  // pending items, most expensive first
  std::size_t next_ = 0;
  std::vector<std::deque<std::size_t>> in_flight_;
  bool stopped_ = false;
};

// ---------------------------------------------------------------------------------- the protocol

// Called often by long computations on rank 0 (between minibatches) so it can serve the others;
// does nothing on other ranks.
using PollFunction = std::function<void()>;

// Computes `item` from the payload rank 0 made for it; returns the result for rank 0. Runs on
// every rank. An exception ends the protocol on that rank (the caller aborts the job).
using ComputeFunction =
    std::function<Bytes(std::size_t item, std::span<const std::byte> payload, const PollFunction& poll)>;

struct ItemProtocol {
  // Rank 0: what `item` carries to whichever rank computes it. Unset: nothing.
  std::function<Bytes(std::size_t item)> payload;
  // Rank 0: one finished item's result, as it arrives; `queue` already counts it as finished. It
  // may add items (WorkQueue::add): ranks with nothing to do get them at once.
  std::function<void(int rank, std::size_t item, std::span<const std::byte> result, WorkQueue& queue)> on_result;
  // Polled by rank 0; true stops hand-out (items in flight still finish and report).
  std::function<bool()> stop_requested;
  // Items each worker holds at once: 1 = one at a time; 2 = the next one is there when it
  // finishes one (worth it when results or payloads are large).
  int items_per_worker = 1;
};

// How busy the ranks were: per rank, the seconds it held no item (workers: between handing back
// a result and getting the next, and after their last one until the end; rank 0: waiting for
// results with nothing of its own to compute), over `elapsed` seconds of coordination.
struct CoordinationStats {
  double elapsed = 0;
  std::vector<double> idle_seconds;
  // Idle rank-seconds, summed over the ranks.
  double idle_total() const;
  // All rank-seconds: elapsed times the number of ranks.
  double rank_seconds() const { return elapsed * double(idle_seconds.size()); }
  // Idle rank-seconds over all rank-seconds (0 when nothing ran).
  double idle_fraction() const;
};

// Rank 0: hands out every item of `queue` to ranks 1.. and computes its own share, until every
// item handed out has reported and none is left (items on_result adds included); then tells the
// other ranks to stop. Sends never block, so rank 0 and a worker sending each other large
// messages cannot deadlock.
CoordinationStats coordinate_items(Communicator& comm, WorkQueue& queue, const ComputeFunction& compute,
                                   const ItemProtocol& protocol);

// Ranks > 0: compute the items rank 0 sends, in the order received, until told to stop.
void serve_items(Communicator& comm, const ComputeFunction& compute);

// ---------------------------------------------------------------------------------- the sweep

// What a finished run reports to the coordinator (the full result goes to the archive).
struct RunReport {
  std::size_t run = 0;
  RunStatus status = RunStatus::complete;  // pending: paused at a rung of a schedule
  double test_mse = 0;
  double latent_density = 0;
  double seconds = 0;
  int rank = 0;
  // With a schedule: the rung the segment trained to, and the schedule's metric at its epoch.
  std::int32_t rung = -1;
  double metric = 0;
};

// Trains work item `item` and reports each of its runs; calls `poll` often (between minibatches)
// so rank 0 can serve requests. Must not throw: failures are reported as RunStatus::failed.
using RunFunction = std::function<std::vector<RunReport>(std::size_t item, const PollFunction& poll)>;

struct SweepEvents {
  // Rank 0 only, once per run (with a schedule, once per segment); may add items to the queue.
  std::function<void(const RunReport&, WorkQueue&)> on_finish;
  std::function<bool()> stop_requested;  // polled by rank 0; true stops hand-out
};

// Rank 0: hands out every item of `queue`, trains its share, returns when every rank is done.
CoordinationStats coordinate(Communicator& comm, WorkQueue& queue, const RunFunction& train, const SweepEvents& events);

// Ranks > 0: train the work items rank 0 hands out until told to stop.
void work(Communicator& comm, const RunFunction& train);

// The reports of one work item as they travel to rank 0.
[[nodiscard]] Bytes encode_reports(const std::vector<RunReport>& reports);
[[nodiscard]] std::vector<RunReport> decode_reports(std::span<const std::byte> bytes, int rank);

}  // namespace aesweep
