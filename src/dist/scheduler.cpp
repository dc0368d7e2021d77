#include "aesweep/dist/scheduler.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>

namespace aesweep {
namespace {

// Tags and payloads of the protocol.
constexpr int result_tag = 1;  // worker -> 0: {u64 item, result bytes}
constexpr int item_tag = 2;    // 0 -> worker: {u64 item, payload bytes}
constexpr int stop_tag = 3;    // 0 -> worker: nothing; no more items

Bytes tagged(std::size_t item, std::span<const std::byte> bytes) {
  return ByteWriter().put(std::uint64_t(item)).put_raw(bytes).take();
}

}  // namespace

WorkQueue::WorkQueue(std::vector<std::size_t> pending, const std::vector<double>& cost, int ranks)
    : in_flight_(std::size_t(std::max(ranks, 1))) {
  add(pending, cost);
}

std::optional<std::size_t> WorkQueue::assign(int rank) {
  in_flight_[std::size_t(rank)].clear();
  return hand_out(rank);
}

std::optional<std::size_t> WorkQueue::hand_out(int rank) {
  if (stopped_ || next_ >= order_.size()) return std::nullopt;
  in_flight_[std::size_t(rank)].push_back(order_[next_]);
  return order_[next_++];
}

void WorkQueue::add(const std::vector<std::size_t>& items, const std::vector<double>& cost) {
  std::vector<std::size_t> by_cost(items.size());
  std::iota(by_cost.begin(), by_cost.end(), std::size_t(0));
  // Most expensive first; ties keep their order, so the hand-out is deterministic.
  std::stable_sort(by_cost.begin(), by_cost.end(), [&](std::size_t a, std::size_t b) {
    return (a < cost.size() ? cost[a] : 0.0) > (b < cost.size() ? cost[b] : 0.0);
  });
  for (std::size_t i : by_cost) order_.push_back(items[i]);
}

double CoordinationStats::idle_total() const {
  double idle = 0;
  for (double s : idle_seconds) idle += s;
  return idle;
}

double CoordinationStats::idle_fraction() const {
  if (elapsed <= 0 || idle_seconds.empty()) return 0.0;
  // Each rank's idle time and the coordinator's elapsed time come from separate clock readings,
  // so with nothing to do their ratio can pass 1 by a hair (100.4% was printed): a fraction stays
  // within [0, 1].
  return std::clamp(idle_total() / rank_seconds(), 0.0, 1.0);
}

void WorkQueue::finish(int rank) {
  auto& held = in_flight_[std::size_t(rank)];
  if (!held.empty()) held.pop_front();
}

std::optional<std::size_t> WorkQueue::in_flight(int rank) const {
  const auto& held = in_flight_[std::size_t(rank)];
  if (held.empty()) return std::nullopt;
  return held.front();
}

int WorkQueue::busy_ranks() const {
  return int(std::count_if(in_flight_.begin(), in_flight_.end(), [](const auto& held) { return !held.empty(); }));
}

std::size_t WorkQueue::items_in_flight() const {
  std::size_t n = 0;
  for (const auto& held : in_flight_) n += held.size();
  return n;
}

CoordinationStats coordinate_items(Communicator& comm, WorkQueue& queue, const ComputeFunction& compute,
                                   const ItemProtocol& protocol) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  CoordinationStats stats;
  stats.idle_seconds.assign(std::size_t(comm.size()), 0.0);
  // Idle from `idle_from[rank]` while it holds nothing (rank 0: while it waits for results).
  std::vector<std::optional<Clock::time_point>> idle_from(std::size_t(comm.size()), start);
  auto busy = [&](int rank) {
    auto& from = idle_from[std::size_t(rank)];
    if (from) stats.idle_seconds[std::size_t(rank)] += since(*from);
    from.reset();
  };
  auto idle = [&](int rank) {
    if (!idle_from[std::size_t(rank)]) idle_from[std::size_t(rank)] = Clock::now();
  };
  auto payload_of = [&](std::size_t item) { return protocol.payload ? protocol.payload(item) : Bytes{}; };
  auto send_next = [&](int worker) {
    if (const auto item = queue.hand_out(worker)) {
      busy(worker);
      comm.send(worker, item_tag, tagged(*item, payload_of(*item)));
    }
  };
  const int per_worker = std::max(protocol.items_per_worker, 1);
  // Every worker holding less than its share gets more (after a result, or items added).
  auto feed = [&](int first) {
    for (int k = 0; k + 1 < comm.size(); ++k) {
      const int worker = 1 + (first - 1 + k) % (comm.size() - 1);
      while (queue.remaining() > 0 && queue.held(worker) < std::size_t(per_worker)) send_next(worker);
    }
  };
  auto report = [&](int rank, std::size_t item, std::span<const std::byte> result) {
    if (protocol.on_result) protocol.on_result(rank, item, result, queue);
  };
  auto serve = [&](const Message& m) {
    const std::string from = "result from rank " + std::to_string(m.source);
    if (m.tag != result_tag || m.source <= 0 || m.source >= comm.size())
      throw Error("scheduler: unexpected message (tag " + std::to_string(m.tag) + ") from rank " +
                  std::to_string(m.source));
    ByteReader reader(m.payload, from);
    const auto item = std::size_t(reader.get<std::uint64_t>());
    if (queue.in_flight(m.source) != item)
      throw Error("scheduler: " + from + " is for item " + std::to_string(item) + ", which it was not working on");
    queue.finish(m.source);
    if (queue.held(m.source) == 0) idle(m.source);
    report(m.source, item, reader.rest());
    feed(m.source);
  };
  auto check_stop = [&] {
    if (protocol.stop_requested && protocol.stop_requested()) queue.stop();
  };
  const PollFunction poll = [&] {
    check_stop();
    while (auto m = comm.poll()) serve(*m);
  };

  // Deal the first items round by round, so the most expensive ones go to different ranks.
  for (int round = 0; round < per_worker; ++round)
    for (int worker = 1; worker < comm.size(); ++worker) send_next(worker);
  // Rank 0 computes too, serving the others between its items (and within them, through poll).
  // With nothing of its own it waits for results, which may bring new items (a decided rung),
  // until nothing is left and nothing is in flight.
  while (true) {
    poll();
    if (const auto item = queue.assign(0)) {
      busy(0);
      const Bytes result = compute(*item, payload_of(*item), poll);
      queue.finish(0);
      idle(0);
      report(0, *item, result);
      feed(1);
      continue;
    }
    if (queue.items_in_flight() == 0) break;
    serve(comm.receive());
    check_stop();
  }
  for (int worker = 1; worker < comm.size(); ++worker) comm.send(worker, stop_tag, {});
  comm.complete_sends();
  stats.elapsed = since(start);
  for (int rank = 0; rank < comm.size(); ++rank) busy(rank);
  return stats;
}

void serve_items(Communicator& comm, const ComputeFunction& compute) {
  const PollFunction no_poll = [] {};
  while (true) {
    const Message m = comm.receive();
    if (m.source == 0 && m.tag == stop_tag) break;
    if (m.source != 0 || m.tag != item_tag)
      throw Error("scheduler: rank " + std::to_string(comm.rank()) + " got an unexpected message (tag " +
                  std::to_string(m.tag) + ") from rank " + std::to_string(m.source));
    ByteReader reader(m.payload, "work item from rank 0");
    const auto item = std::size_t(reader.get<std::uint64_t>());
    comm.send(0, result_tag, tagged(item, compute(item, reader.rest(), no_poll)));
  }
  comm.complete_sends();
}

// ---------------------------------------------------------------------------------- the sweep

Bytes encode_reports(const std::vector<RunReport>& reports) {
  ByteWriter out;
  out.put(std::uint64_t(reports.size()));
  for (const auto& r : reports)
    out.put(std::uint64_t(r.run)).put(std::int32_t(r.status)).put(r.test_mse).put(r.latent_density).put(r.seconds)
        .put(r.rung).put(r.metric);
  return out.take();
}

std::vector<RunReport> decode_reports(std::span<const std::byte> bytes, int rank) {
  ByteReader in(bytes, "run reports from rank " + std::to_string(rank));
  constexpr std::size_t report_bytes = 8 + 4 + 3 * 8 + 4 + 8;
  const auto count = in.get<std::uint64_t>();
  if (count > in.remaining() / report_bytes)
    throw Error("run reports from rank " + std::to_string(rank) + ": " + std::to_string(count) + " reports in " +
                std::to_string(bytes.size()) + " bytes");
  std::vector<RunReport> reports(static_cast<std::size_t>(count));
  for (auto& r : reports) {
    r.run = std::size_t(in.get<std::uint64_t>());
    r.status = RunStatus(in.get<std::int32_t>());
    r.test_mse = in.get<double>();
    r.latent_density = in.get<double>();
    r.seconds = in.get<double>();
    r.rung = in.get<std::int32_t>();
    r.metric = in.get<double>();
    r.rank = rank;
  }
  return reports;
}

CoordinationStats coordinate(Communicator& comm, WorkQueue& queue, const RunFunction& train, const SweepEvents& events) {
  ItemProtocol protocol;
  protocol.stop_requested = events.stop_requested;
  protocol.on_result = [&](int rank, std::size_t, std::span<const std::byte> result, WorkQueue& q) {
    for (const auto& report : decode_reports(result, rank))
      if (events.on_finish) events.on_finish(report, q);
  };
  return coordinate_items(
      comm, queue,
      [&](std::size_t item, std::span<const std::byte>, const PollFunction& poll) {
        return encode_reports(train(item, poll));
      },
      protocol);
}

void work(Communicator& comm, const RunFunction& train) {
  serve_items(comm, [&](std::size_t item, std::span<const std::byte>, const PollFunction& poll) {
    return encode_reports(train(item, poll));
  });
}

}  // namespace aesweep
