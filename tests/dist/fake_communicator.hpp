#pragma once
// A Communicator for tests: every simulated rank is a thread of this process and messages are
// queued in memory. Collectives really synchronise the threads, and a rank that calls a
// different collective than the others fails the test run (a protocol bug that MPI would
// answer with a hang). Header-only so any test (dist, analysis) can use it.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "aesweep/dist/communicator.hpp"

namespace aesweep::testing {

// Mailboxes and collective rounds shared by the simulated ranks.
class FakeNetwork {
 public:
  explicit FakeNetwork(int ranks) : ranks_(ranks), boxes_(std::size_t(ranks)), contributions_(std::size_t(ranks)) {}
  int ranks() const { return ranks_; }

  void deliver(int to, Message m) {
    if (to < 0 || to >= ranks_) throw std::logic_error("message to rank " + std::to_string(to) + " of " + std::to_string(ranks_));
    {
      std::lock_guard lock(mutex_);
      bytes_sent_ += m.payload.size();
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
  // One collective round: every rank contributes; the last to arrive combines the contributions
  // (in rank order) and every rank gets the combined bytes. `kind` names the collective; ranks
  // that disagree on it fail the test.
  Bytes collective(int rank, const std::string& kind, Bytes contribution,
                   const std::function<Bytes(const std::vector<Bytes>&)>& combine) {
    std::unique_lock lock(mutex_);
    const std::uint64_t round = round_;
    if (arrived_ == 0) round_kind_ = kind;
    if (round_kind_ != kind) {
      ADD_FAILURE() << "rank " << rank << " called " << kind << " while another rank is in " << round_kind_;
      throw std::logic_error("mismatched collectives");
    }
    contributions_[std::size_t(rank)] = std::move(contribution);
    if (++arrived_ == ranks_) {
      results_[round] = {combine(contributions_), 0};
      arrived_ = 0;
      ++round_;
      ++collectives_;
      ready_.notify_all();
    } else {
      ready_.wait(lock, [&] { return round_ != round; });
    }
    auto& [result, readers] = results_.at(round);
    Bytes mine = result;
    if (++readers == ranks_) results_.erase(round);
    return mine;
  }
  int messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  std::size_t bytes_sent() const {
    std::lock_guard lock(mutex_);
    return bytes_sent_;
  }
  int collectives() const {
    std::lock_guard lock(mutex_);
    return collectives_;
  }
  // Messages sent but never received, over every mailbox.
  std::size_t undelivered() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& box : boxes_) n += box.size();
    return n;
  }

 private:
  const int ranks_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<std::deque<Message>> boxes_;
  int messages_ = 0;
  std::size_t bytes_sent_ = 0;
  // collectives
  std::vector<Bytes> contributions_;
  int arrived_ = 0;
  std::uint64_t round_ = 0;
  std::string round_kind_;
  std::map<std::uint64_t, std::pair<Bytes, int>> results_;
  int collectives_ = 0;
};

class FakeCommunicator final : public Communicator {
 public:
  FakeCommunicator(FakeNetwork& net, int rank) : net_(net), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return net_.ranks(); }
  bool usable() const noexcept override { return true; }
  void send(int to, int tag, Bytes payload) override { net_.deliver(to, {rank_, tag, std::move(payload)}); }
  std::optional<Message> poll() override { return net_.take(rank_, false); }
  Message receive() override { return *net_.take(rank_, true); }
  void complete_sends() override {}  // delivery is immediate
  void barrier() override {
    (void)net_.collective(rank_, "barrier", {}, [](const std::vector<Bytes>&) { return Bytes{}; });
  }
  std::int64_t min_over_ranks(std::int64_t value) override {
    const Bytes out = net_.collective(rank_, "min_over_ranks", ByteWriter().put(value).take(), [](const auto& all) {
      std::int64_t least = ByteReader(all.front()).get<std::int64_t>();
      for (const auto& b : all) least = std::min(least, ByteReader(b).get<std::int64_t>());
      return ByteWriter().put(least).take();
    });
    return ByteReader(out).get<std::int64_t>();
  }
  Bytes broadcast(Bytes bytes, int root) override {
    return net_.collective(rank_, "broadcast from " + std::to_string(root), std::move(bytes),
                           [root](const std::vector<Bytes>& all) { return all[std::size_t(root)]; });
  }

 private:
  FakeNetwork& net_;
  int rank_;
};

// Runs body(comm) on `ranks` simulated ranks, rank 0 on the calling thread, and joins them. An
// exception on any rank is rethrown here (the first one, by rank) after every thread ended.
inline void run_ranks(FakeNetwork& net, const std::function<void(Communicator&)>& body) {
  const int ranks = net.ranks();
  std::vector<std::unique_ptr<FakeCommunicator>> comms;
  for (int r = 0; r < ranks; ++r) comms.push_back(std::make_unique<FakeCommunicator>(net, r));
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(ranks));
  auto guarded = [&](int r) {
    try {
      body(*comms[std::size_t(r)]);
    } catch (...) {
      errors[std::size_t(r)] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (int r = 1; r < ranks; ++r) threads.emplace_back(guarded, r);
  guarded(0);
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace aesweep::testing
