#include "aesweep/dist/scheduler.hpp"

#include <algorithm>
#include <numeric>

namespace aesweep {
namespace {

// Tags and payloads of the protocol.
constexpr int request_tag = 1;  // worker -> 0: {has_report, run, status, test_mse, density, seconds}
constexpr int assign_tag = 2;   // 0 -> worker: {run} or {-1} for stop

std::vector<double> encode(const std::optional<RunReport>& report) {
  if (!report) return {0, 0, 0, 0, 0, 0};
  return {1, double(report->run), double(int(report->status)), report->test_mse, report->latent_density,
          report->seconds};
}

std::optional<RunReport> decode(const Message& m) {
  if (m.payload.size() < 6 || m.payload[0] == 0) return std::nullopt;
  RunReport r;
  r.run = std::size_t(m.payload[1]);
  r.status = RunStatus(int(m.payload[2]));
  r.test_mse = m.payload[3];
  r.latent_density = m.payload[4];
  r.seconds = m.payload[5];
  r.rank = m.source;
  return r;
}

}  // namespace

WorkQueue::WorkQueue(std::vector<std::size_t> pending, const std::vector<double>& cost, int ranks)
    : in_flight_(std::size_t(std::max(ranks, 1))) {
  std::vector<std::size_t> by_cost(pending.size());
  std::iota(by_cost.begin(), by_cost.end(), std::size_t(0));
  // Most expensive first; ties keep config order, so the hand-out is deterministic.
  std::stable_sort(by_cost.begin(), by_cost.end(), [&](std::size_t a, std::size_t b) {
    return (a < cost.size() ? cost[a] : 0.0) > (b < cost.size() ? cost[b] : 0.0);
  });
  for (std::size_t i : by_cost) order_.push_back(pending[i]);
}

std::optional<std::size_t> WorkQueue::assign(int rank) {
  auto& slot = in_flight_[std::size_t(rank)];
  slot.reset();
  if (stopped_ || next_ >= order_.size()) return std::nullopt;
  slot = order_[next_++];
  return slot;
}

void WorkQueue::finish(int rank) { in_flight_[std::size_t(rank)].reset(); }

int WorkQueue::busy_ranks() const {
  return int(std::count_if(in_flight_.begin(), in_flight_.end(), [](const auto& r) { return r.has_value(); }));
}

void coordinate(Communicator& comm, WorkQueue& queue, const RunFunction& train, const SweepEvents& events) {
  const int workers = comm.size() - 1;
  int stopped_workers = 0;

  auto serve = [&](const Message& m) {
    if (m.tag != request_tag) return;
    if (auto report = decode(m)) {
      queue.finish(m.source);
      if (events.on_finish) events.on_finish(*report, queue);
    }
    const auto next = queue.assign(m.source);
    comm.send(m.source, assign_tag, {next ? double(*next) : -1.0});
    if (!next) ++stopped_workers;
  };
  auto check_stop = [&] {
    if (events.stop_requested && events.stop_requested()) queue.stop();
  };
  const std::function<void()> poll = [&] {
    check_stop();
    while (auto m = comm.poll()) serve(*m);
  };

  // Rank 0 trains too, serving requests between its minibatches and runs.
  while (true) {
    poll();
    const auto run = queue.assign(0);
    if (!run) break;
    RunReport report = train(*run, poll);
    report.rank = 0;
    queue.finish(0);
    if (events.on_finish) events.on_finish(report, queue);
  }
  while (stopped_workers < workers) {
    serve(comm.receive());
    check_stop();
  }
}

void work(Communicator& comm, const RunFunction& train) {
  std::optional<RunReport> last;
  const std::function<void()> no_poll = [] {};
  while (true) {
    comm.send(0, request_tag, encode(last));
    Message reply = comm.receive();
    while (reply.tag != assign_tag) reply = comm.receive();
    if (reply.payload.empty() || reply.payload[0] < 0) return;
    last = train(std::size_t(reply.payload[0]), no_poll);
    last->rank = comm.rank();
  }
}

}  // namespace aesweep
