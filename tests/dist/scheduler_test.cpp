// The scheduling protocol in one process: each simulated rank is a thread with a fake
// communicator; runs "train" by sleeping for their cost, so uneven costs really overlap.
#include "aesweep/dist/scheduler.hpp"

#include <gtest/gtest.h>

#include "dist/fake_communicator.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>

namespace aesweep {
namespace {

using testing::FakeCommunicator;
using testing::FakeNetwork;

struct SweepLog {
  std::mutex mutex;
  std::map<std::size_t, int> trained_by;  // run -> rank
  std::vector<RunReport> finished;        // as rank 0 saw them
};

// Runs a sweep of runs with the given costs (milliseconds) over `ranks` simulated ranks.
void simulate(const std::vector<double>& cost_ms, int ranks, SweepLog& log, double* makespan_ms = nullptr,
              std::function<bool()> stop = {}) {
  FakeNetwork net(ranks);
  std::vector<std::size_t> pending(cost_ms.size());
  std::iota(pending.begin(), pending.end(), std::size_t(0));
  WorkQueue queue(pending, cost_ms, ranks);
  auto make_train = [&](int rank) {
    return [&, rank](std::size_t run, const std::function<void()>& poll) {
      {
        std::lock_guard lock(log.mutex);
        EXPECT_EQ(log.trained_by.count(run), 0u) << "run " << run << " handed out twice";
        log.trained_by[run] = rank;
      }
      // Train in slices, polling between them like the trainer does between minibatches.
      const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(long(cost_ms[run] * 1000));
      while (std::chrono::steady_clock::now() < end) {
        poll();
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      RunReport r;
      r.run = run;
      r.test_mse = double(run);
      return std::vector<RunReport>{r};
    };
  };
  SweepEvents events;
  events.on_finish = [&](const RunReport& r, const WorkQueue&) {
    std::lock_guard lock(log.mutex);
    log.finished.push_back(r);
  };
  events.stop_requested = stop;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  std::vector<std::unique_ptr<FakeCommunicator>> comms;
  for (int r = 0; r < ranks; ++r) comms.push_back(std::make_unique<FakeCommunicator>(net, r));
  for (int r = 1; r < ranks; ++r) workers.emplace_back([&, r] { work(*comms[std::size_t(r)], make_train(r)); });
  coordinate(*comms[0], queue, make_train(0), events);
  for (auto& t : workers) t.join();
  if (makespan_ms)
    *makespan_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

TEST(WorkQueue, HandsOutMostExpensiveFirstAndTracksInFlight) {
  WorkQueue queue({10, 11, 12, 13}, {1.0, 50.0, 5.0, 50.0}, 3);
  EXPECT_EQ(queue.total(), 4u);
  EXPECT_EQ(queue.assign(1), std::optional<std::size_t>(11));  // ties keep config order
  EXPECT_EQ(queue.assign(2), std::optional<std::size_t>(13));
  EXPECT_EQ(queue.assign(0), std::optional<std::size_t>(12));
  EXPECT_EQ(queue.busy_ranks(), 3);
  EXPECT_EQ(queue.in_flight(2), std::optional<std::size_t>(13));
  queue.finish(2);
  EXPECT_EQ(queue.busy_ranks(), 2);
  EXPECT_EQ(queue.remaining(), 1u);
  EXPECT_EQ(queue.assign(2), std::optional<std::size_t>(10));
  EXPECT_EQ(queue.assign(1), std::nullopt);
  EXPECT_FALSE(queue.in_flight(1).has_value());
}

TEST(WorkQueue, StopEndsHandOut) {
  WorkQueue queue({0, 1, 2}, {}, 2);
  EXPECT_TRUE(queue.assign(0).has_value());
  queue.stop();
  EXPECT_EQ(queue.remaining(), 0u);
  EXPECT_EQ(queue.assign(1), std::nullopt);
}

TEST(Scheduler, EveryRunTrainedExactlyOnceWithOneRank) {
  SweepLog log;
  simulate({1, 2, 1, 3}, 1, log);
  EXPECT_EQ(log.trained_by.size(), 4u);
  EXPECT_EQ(log.finished.size(), 4u);
  for (const auto& [run, rank] : log.trained_by) EXPECT_EQ(rank, 0) << run;
}

TEST(Scheduler, UnevenCostsAreBalancedDynamically) {
  // One run costs 100x the others (hidden 1568 vs 8): the expensive run goes out first and the
  // other ranks, rank 0 included, take the cheap ones meanwhile.
  std::vector<double> cost(31, 4.0);
  cost[17] = 400.0;
  SweepLog log;
  simulate(cost, 3, log);
  ASSERT_EQ(log.trained_by.size(), cost.size());
  EXPECT_EQ(log.finished.size(), cost.size());
  const int expensive_rank = log.trained_by[17];
  int cheap_on_expensive_rank = 0;
  std::set<int> ranks_used;
  for (const auto& [run, rank] : log.trained_by) {
    ranks_used.insert(rank);
    if (run != 17 && rank == expensive_rank) ++cheap_on_expensive_rank;
  }
  EXPECT_EQ(ranks_used.size(), 3u) << "rank 0 must train too";
  // The other two ranks finish all 30 cheap runs (120 ms of work) long before the 400 ms run.
  EXPECT_LE(cheap_on_expensive_rank, 2);
  // Reports carry the rank that trained the run.
  for (const auto& r : log.finished) EXPECT_EQ(r.rank, log.trained_by[r.run]) << "run " << r.run;
}

TEST(Scheduler, StopRequestEndsHandOutButFinishesRunsInFlight) {
  std::vector<double> cost(40, 3.0);
  SweepLog log;
  std::atomic<int> polls{0};
  simulate(cost, 3, log, nullptr, [&] { return ++polls > 20; });
  EXPECT_LT(log.trained_by.size(), cost.size());
  EXPECT_GT(log.trained_by.size(), 0u);
  // Everything handed out was finished and reported.
  EXPECT_EQ(log.finished.size(), log.trained_by.size());
}

TEST(Scheduler, AnItemOfSeveralRunsReportsEachOfThemOnce) {
  // Items are groups of runs trained together: item i holds runs 3i, 3i+1, 3i+2.
  constexpr int ranks = 3;
  constexpr std::size_t items = 10;
  FakeNetwork net(ranks);
  std::vector<std::size_t> pending(items);
  std::iota(pending.begin(), pending.end(), std::size_t(0));
  WorkQueue queue(pending, {}, ranks);
  auto make_train = [](int) {
    return [](std::size_t item, const std::function<void()>& poll) {
      poll();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      std::vector<RunReport> reports(3);
      for (std::size_t k = 0; k < 3; ++k) {
        reports[k].run = 3 * item + k;
        reports[k].test_mse = 0.5 * double(3 * item + k);
        reports[k].status = k == 1 ? RunStatus::diverged : RunStatus::complete;
      }
      return reports;
    };
  };
  std::vector<RunReport> seen;
  SweepEvents events;
  events.on_finish = [&](const RunReport& r, const WorkQueue&) { seen.push_back(r); };
  std::vector<std::unique_ptr<FakeCommunicator>> comms;
  for (int r = 0; r < ranks; ++r) comms.push_back(std::make_unique<FakeCommunicator>(net, r));
  std::vector<std::thread> workers;
  for (int r = 1; r < ranks; ++r) workers.emplace_back([&, r] { work(*comms[std::size_t(r)], make_train(r)); });
  coordinate(*comms[0], queue, make_train(0), events);
  for (auto& t : workers) t.join();
  ASSERT_EQ(seen.size(), 3 * items);
  std::set<std::size_t> runs;
  for (const auto& r : seen) {
    runs.insert(r.run);
    EXPECT_EQ(r.test_mse, 0.5 * double(r.run));  // every field survives the message
    EXPECT_EQ(r.status, r.run % 3 == 1 ? RunStatus::diverged : RunStatus::complete);
  }
  EXPECT_EQ(runs.size(), 3 * items);
  EXPECT_EQ(queue.busy_ranks(), 0);
}

TEST(Scheduler, MoreRanksThanRuns) {
  SweepLog log;
  simulate({2, 2}, 4, log);
  EXPECT_EQ(log.trained_by.size(), 2u);
  EXPECT_EQ(log.finished.size(), 2u);
}

// The protocol with payloads, as the analysis uses it: rank 0 ships each item's input (large,
// so both directions carry big messages at once), two items per worker, byte results back.
struct ItemRecord {
  int rank = -1;
  Bytes result;
};

std::map<std::size_t, ItemRecord> run_payload_protocol(int ranks, std::size_t items, int per_worker,
                                                       std::size_t payload_floats, std::size_t* most_held = nullptr) {
  FakeNetwork net(ranks);
  std::vector<std::size_t> pending(items);
  std::iota(pending.begin(), pending.end(), std::size_t(0));
  WorkQueue queue(pending, {}, ranks);
  std::map<std::size_t, ItemRecord> seen;
  std::size_t held_max = 0;
  static thread_local int current_rank = 0;  // each fake rank runs on a thread of its own
  // Item i's input: payload_floats floats of value i; its result: the input's sum and the rank.
  const ComputeFunction compute = [&](std::size_t item, std::span<const std::byte> payload, const PollFunction& poll) {
    ByteReader in(payload, "test payload");
    const auto values = in.get_vector<float>();
    EXPECT_EQ(in.remaining(), 0u);
    double sum = 0;
    for (float v : values) sum += v;
    poll();
    // Workers take far longer than rank 0 needs to serve a result (a 200 KB payload, slow under a
    // sanitizer), so rank 0's poll drains and it computes items of its own while they work; with
    // workers as fast as its serving, rank 0 would only serve (which is what it should do then).
    std::this_thread::sleep_for(std::chrono::microseconds(current_rank == 0 ? 300 : 20000));
    return ByteWriter().put(std::uint64_t(item)).put(sum).put(std::string(item % 3, 'x')).take();
  };
  ItemProtocol protocol;
  protocol.items_per_worker = per_worker;
  protocol.payload = [&](std::size_t item) {
    return ByteWriter().put_vector(std::vector<float>(payload_floats, float(item))).take();
  };
  protocol.on_result = [&](int rank, std::size_t item, std::span<const std::byte> result, const WorkQueue& q) {
    EXPECT_EQ(seen.count(item), 0u) << "item " << item << " reported twice";
    seen[item] = {rank, Bytes(result.begin(), result.end())};
    for (int r = 0; r < ranks; ++r) held_max = std::max(held_max, q.held(r));
  };
  testing::run_ranks(net, [&](Communicator& comm) {
    current_rank = comm.rank();
    if (comm.rank() == 0) coordinate_items(comm, queue, compute, protocol);
    else serve_items(comm, compute);
  });
  EXPECT_EQ(net.undelivered(), 0u) << "every message sent was received";
  EXPECT_EQ(queue.items_in_flight(), 0u);
  if (most_held) *most_held = held_max;
  return seen;
}

TEST(ItemProtocol, PayloadsReachTheWorkerAndResultsComeBackIntact) {
  constexpr std::size_t items = 23, floats = 50000;
  std::size_t most_held = 0;
  const auto seen = run_payload_protocol(4, items, 2, floats, &most_held);
  ASSERT_EQ(seen.size(), items);
  std::set<int> ranks_used;
  for (const auto& [item, record] : seen) {
    ByteReader in(record.result, "result");
    EXPECT_EQ(in.get<std::uint64_t>(), item);
    EXPECT_EQ(in.get<double>(), double(floats) * double(item));
    EXPECT_EQ(in.get_string(), std::string(item % 3, 'x'));
    ranks_used.insert(record.rank);
  }
  std::string used;
  for (int r : ranks_used) used += " " + std::to_string(r);
  EXPECT_EQ(ranks_used.size(), 4u) << "rank 0 computes its share too; ranks that computed:" << used;
  EXPECT_EQ(most_held, 2u) << "a worker holds two items, never more";
}

// Items known only when earlier ones have reported (a schedule's rungs): stage k + 1's items are
// added when every item of stage k has reported. Every item is computed once, at every rank count,
// ranks that wait for a stage are counted idle, and the protocol ends only when nothing is left.
CoordinationStats run_staged(int ranks, std::map<std::size_t, int>& computed_by, std::vector<std::size_t>& stage_order) {
  FakeNetwork net(ranks);
  // Stage 0: items 0..8; stage 1: 100..102; stage 2: 200. Each stage's items cost 5 ms.
  const std::vector<std::vector<std::size_t>> stages = {{0, 1, 2, 3, 4, 5, 6, 7, 8}, {100, 101, 102}, {200}};
  WorkQueue queue(stages[0], {}, ranks);
  std::mutex mutex;
  std::size_t reported_in_stage = 0, stage = 0;
  const ComputeFunction compute = [&](std::size_t item, std::span<const std::byte>, const PollFunction& poll) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(5);
    while (std::chrono::steady_clock::now() < end) {
      poll();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return ByteWriter().put(std::uint64_t(item)).take();
  };
  ItemProtocol protocol;
  protocol.on_result = [&](int rank, std::size_t item, std::span<const std::byte>, WorkQueue& q) {
    std::lock_guard lock(mutex);
    EXPECT_EQ(computed_by.count(item), 0u) << item << " twice";
    computed_by[item] = rank;
    stage_order.push_back(item);
    EXPECT_EQ(item / 100, stage) << "item " << item << " of a later stage before stage " << stage << " was complete";
    if (++reported_in_stage == stages[stage].size() && stage + 1 < stages.size()) {
      ++stage;
      reported_in_stage = 0;
      q.add(stages[stage], {});
    }
  };
  CoordinationStats stats;
  testing::run_ranks(net, [&](Communicator& comm) {
    if (comm.rank() == 0) stats = coordinate_items(comm, queue, compute, protocol);
    else serve_items(comm, compute);
  });
  EXPECT_EQ(net.undelivered(), 0u);
  EXPECT_EQ(queue.items_in_flight(), 0u);
  return stats;
}

// Idle times measured by the ranks can pass the coordinator's elapsed time by a hair when there
// was nothing to do (a resumed, finished sweep printed "idle 100.4% of the time"): the fraction
// stays within [0, 1].
TEST(CoordinationStats, IdleFractionStaysAFraction) {
  CoordinationStats stats;
  stats.elapsed = 0.010;
  stats.idle_seconds = {0.0101, 0.0100};
  EXPECT_EQ(stats.idle_fraction(), 1.0);
  stats.idle_seconds = {0.005, 0.0};
  EXPECT_DOUBLE_EQ(stats.idle_fraction(), 0.25);
  stats.elapsed = 0;
  EXPECT_EQ(stats.idle_fraction(), 0.0);
}

TEST(ItemProtocol, ItemsAddedWhileRunningReachIdleRanksAndAreCountedIdleMeanwhile) {
  for (int ranks : {1, 2, 3, 5}) {
    SCOPED_TRACE(ranks);
    std::map<std::size_t, int> computed_by;
    std::vector<std::size_t> order;
    const CoordinationStats stats = run_staged(ranks, computed_by, order);
    EXPECT_EQ(computed_by.size(), 13u);
    for (std::size_t item : {0, 8, 100, 102, 200}) EXPECT_EQ(computed_by.count(item), 1u) << item;
    ASSERT_EQ(stats.idle_seconds.size(), std::size_t(ranks));
    EXPECT_GT(stats.elapsed, 0.0);
    EXPECT_GE(stats.idle_fraction(), 0.0);
    EXPECT_LT(stats.idle_fraction(), 1.0);
    if (ranks == 5) {
      // Stage 2 has one item: at least three of five ranks wait it out (about 5 ms each), and the
      // stage of three items leaves at least two idle.
      EXPECT_GT(stats.idle_fraction(), 0.2);
      std::set<int> used;
      for (const auto& [item, rank] : computed_by) used.insert(rank);
      EXPECT_GE(used.size(), 3u) << "added items went to waiting ranks";
    }
  }
}

TEST(WorkQueue, AddedItemsComeAfterTheQueuedOnesMostExpensiveFirst) {
  WorkQueue queue({1, 2}, {1.0, 2.0}, 2);
  EXPECT_EQ(queue.hand_out(0), 2u);
  queue.add({7, 8, 9}, {1.0, 5.0, 1.0});
  EXPECT_EQ(queue.remaining(), 4u);
  EXPECT_EQ(queue.hand_out(1), 1u);
  EXPECT_EQ(queue.hand_out(1), 8u);
  EXPECT_EQ(queue.hand_out(1), 7u);
  EXPECT_EQ(queue.hand_out(1), 9u);
  EXPECT_EQ(queue.hand_out(1), std::nullopt);
  queue.stop();
  queue.add({10}, {});
  EXPECT_EQ(queue.hand_out(0), std::nullopt) << "a stopped queue hands out nothing, added or not";
}

TEST(ItemProtocol, OneRankComputesEverythingItself) {
  const auto seen = run_payload_protocol(1, 5, 2, 10);
  ASSERT_EQ(seen.size(), 5u);
  for (const auto& [item, record] : seen) EXPECT_EQ(record.rank, 0) << item;
}

TEST(ItemProtocol, MoreWorkersThanItemsAndNoItems) {
  EXPECT_EQ(run_payload_protocol(5, 3, 2, 4).size(), 3u);
  EXPECT_EQ(run_payload_protocol(3, 0, 2, 4).size(), 0u);
}

TEST(ItemProtocol, AResultForAnItemTheRankDoesNotHoldIsAProtocolError) {
  FakeNetwork net(2);
  WorkQueue queue({0, 1, 2}, {}, 2);
  const ComputeFunction compute = [](std::size_t item, std::span<const std::byte>, const PollFunction&) {
    return ByteWriter().put(std::uint64_t(item)).take();
  };
  testing::run_ranks(net, [&](Communicator& comm) {
    if (comm.rank() == 0) {
      EXPECT_THROW(coordinate_items(comm, queue, compute, {}), Error);
      comm.send(1, 3, {});  // let the worker go
    } else {
      (void)comm.receive();                                              // its item (0)
      comm.send(0, 1, ByteWriter().put(std::uint64_t(2)).take());  // claims item 2
      Message rest = comm.receive();
      while (rest.tag != 3) rest = comm.receive();
    }
  });
}

TEST(RunReports, SurviveTheirBytesAndRefuseTruncation) {
  std::vector<RunReport> reports(2);
  reports[0] = {7, RunStatus::diverged, 0.25, 0.5, 12.5, 0};
  reports[1] = {9, RunStatus::pending, -1.0, 0.0, 0.125, 0, 2, 0.0625};  // paused at rung 2
  const Bytes bytes = encode_reports(reports);
  const auto back = decode_reports(bytes, 3);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].rung, -1);
  EXPECT_EQ(back[1].status, RunStatus::pending);
  EXPECT_EQ(back[1].rung, 2);
  EXPECT_EQ(back[1].metric, 0.0625);
  EXPECT_EQ(back[0].run, 7u);
  EXPECT_EQ(back[0].status, RunStatus::diverged);
  EXPECT_EQ(back[1].seconds, 0.125);
  EXPECT_EQ(back[1].rank, 3);
  EXPECT_THROW((void)decode_reports(std::span(bytes).first(bytes.size() - 1), 3), Error);
  Bytes lying = bytes;
  lying[0] = std::byte{0xff};  // claims 255 reports
  EXPECT_THROW((void)decode_reports(lying, 3), Error);
}

}  // namespace
}  // namespace aesweep
