#include "aesweep/dist/scheduler.hpp"

#include <algorithm>
#include <numeric>

namespace aesweep {
namespace {

// Tags and payloads of the protocol.
constexpr int request_tag = 1;  // worker -> 0: {n, then per report: run, status, test_mse, density, seconds}
constexpr int assign_tag = 2;   // 0 -> worker: {item} or {-1} for stop
constexpr std::size_t report_fields = 5;

std::vector<double> encode(const std::vector<RunReport>& reports) {
  std::vector<double> payload{double(reports.size())};
  for (const auto& r : reports)
    payload.insert(payload.end(), {double(r.run), double(int(r.status)), r.test_mse, r.latent_density, r.seconds});
  return payload;
}

std::vector<RunReport> decode(const Message& m) {
  std::vector<RunReport> reports;
  if (m.payload.empty()) return reports;
  const auto n = std::size_t(m.payload[0]);
  if (m.payload.size() < 1 + n * report_fields) return reports;
  for (std::size_t i = 0; i < n; ++i) {
    const double* f = m.payload.data() + 1 + i * report_fields;
    RunReport r;
    r.run = std::size_t(f[0]);
    r.status = RunStatus(int(f[1]));
    r.test_mse = f[2];
    r.latent_density = f[3];
    r.seconds = f[4];
    r.rank = m.source;
    reports.push_back(r);
  }
  return reports;
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
    if (queue.in_flight(m.source)) {  // the request reports the rank's finished item
      queue.finish(m.source);
      for (const auto& report : decode(m))
        if (events.on_finish) events.on_finish(report, queue);
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
    const auto item = queue.assign(0);
    if (!item) break;
    std::vector<RunReport> reports = train(*item, poll);
    queue.finish(0);
    for (auto& report : reports) {
      report.rank = 0;
      if (events.on_finish) events.on_finish(report, queue);
    }
  }
  while (stopped_workers < workers) {
    serve(comm.receive());
    check_stop();
  }
}

void work(Communicator& comm, const RunFunction& train) {
  std::vector<RunReport> last;
  const std::function<void()> no_poll = [] {};
  while (true) {
    comm.send(0, request_tag, encode(last));
    Message reply = comm.receive();
    while (reply.tag != assign_tag) reply = comm.receive();
    if (reply.payload.empty() || reply.payload[0] < 0) return;
    last = train(std::size_t(reply.payload[0]), no_poll);
  }
}

}  // namespace aesweep
