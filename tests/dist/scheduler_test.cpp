// The scheduling protocol in one process: each simulated rank is a thread with a fake
// communicator; runs "train" by sleeping for their cost, so uneven costs really overlap.
#include "aesweep/dist/scheduler.hpp"

#include <gtest/gtest.h>

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

// Mailboxes shared by the simulated ranks.
class FakeNetwork {
 public:
  explicit FakeNetwork(int ranks) : boxes_(std::size_t(ranks)) {}
  void deliver(int to, Message m) {
    {
      std::lock_guard lock(mutex_);
      boxes_[std::size_t(to)].push_back(std::move(m));
      ++messages_;
    }
    ready_.notify_all();
  }
  std::optional<Message> take(int rank, bool block) {
    std::unique_lock lock(mutex_);
    auto& box = boxes_[std::size_t(rank)];
    if (block) ready_.wait(lock, [&] { return !box.empty(); });
    if (box.empty()) return std::nullopt;
    Message m = std::move(box.front());
    box.pop_front();
    return m;
  }
  int messages() const { return messages_; }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<std::deque<Message>> boxes_;
  int messages_ = 0;
};

class FakeCommunicator final : public Communicator {
 public:
  FakeCommunicator(FakeNetwork& net, int rank, int size) : net_(net), rank_(rank), size_(size) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void send(int to, int tag, const std::vector<double>& payload) override { net_.deliver(to, {rank_, tag, payload}); }
  std::optional<Message> poll() override { return net_.take(rank_, false); }
  Message receive() override { return *net_.take(rank_, true); }

 private:
  FakeNetwork& net_;
  int rank_, size_;
};

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
  for (int r = 0; r < ranks; ++r) comms.push_back(std::make_unique<FakeCommunicator>(net, r, ranks));
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
  for (int r = 0; r < ranks; ++r) comms.push_back(std::make_unique<FakeCommunicator>(net, r, ranks));
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

}  // namespace
}  // namespace aesweep
