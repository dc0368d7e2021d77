// The collectives built on the Communicator interface (agree_on_error, any, all, broadcasts)
// and the byte helpers, over the fake communicator: simulated ranks as threads.
#include "aesweep/dist/communicator.hpp"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <atomic>
#include <cstring>

#include "dist/fake_communicator.hpp"

namespace aesweep {
namespace {

using testing::FakeNetwork;
using testing::run_ranks;

TEST(AgreeOnError, EveryRankGetsTheMessageOfTheLowestFailingRank) {
  FakeNetwork net(4);
  std::vector<std::optional<std::string>> agreed(4);
  run_ranks(net, [&](Communicator& comm) {
    std::optional<std::string> mine;
    if (comm.rank() == 2 || comm.rank() == 3) mine = "disk full on rank " + std::to_string(comm.rank());
    agreed[std::size_t(comm.rank())] = comm.agree_on_error(mine);
  });
  for (const auto& a : agreed) EXPECT_EQ(a, std::optional<std::string>("disk full on rank 2"));
}

TEST(AgreeOnError, NothingWhenNoRankFailedAndEmptyMessagesSurvive) {
  FakeNetwork net(3);
  std::vector<std::optional<std::string>> none(3), empty(3);
  run_ranks(net, [&](Communicator& comm) {
    none[std::size_t(comm.rank())] = comm.agree_on_error(std::nullopt);
    // A failure with an empty message is still a failure.
    empty[std::size_t(comm.rank())] = comm.agree_on_error(comm.rank() == 1 ? std::optional<std::string>("") : std::nullopt);
  });
  for (int r = 0; r < 3; ++r) {
    EXPECT_FALSE(none[std::size_t(r)].has_value()) << r;
    EXPECT_EQ(empty[std::size_t(r)], std::optional<std::string>("")) << r;
  }
}

TEST(AgreeOnError, OneRankAlone) {
  FakeNetwork net(1);
  run_ranks(net, [&](Communicator& comm) {
    EXPECT_EQ(comm.agree_on_error(std::string("bad")), std::optional<std::string>("bad"));
    EXPECT_FALSE(comm.agree_on_error(std::nullopt).has_value());
  });
}

TEST(Collectives, AnyAllAndBroadcastsAgreeOnEveryRank) {
  constexpr int ranks = 5;
  FakeNetwork net(ranks);
  std::atomic<int> wrong{0};
  run_ranks(net, [&](Communicator& comm) {
    const int r = comm.rank();
    auto expect = [&](bool ok) { wrong += ok ? 0 : 1; };
    expect(comm.any(r == 3));
    expect(!comm.any(false));
    expect(comm.all(true));
    expect(!comm.all(r != 4));
    expect(comm.min_over_ranks(10 - r) == 10 - (ranks - 1));
    expect(comm.broadcast_int(r == 0 ? -42 : r) == -42);
    expect(comm.broadcast_int(r * 100, 2) == 200);
    const std::string big(100000, 'q');
    expect(comm.broadcast_string(r == 1 ? big : "not me", 1) == big);
    expect(comm.broadcast_string(r == 0 ? "" : "x").empty());
    comm.barrier();
  });
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(net.collectives(), 10);
}

TEST(Bytes, RoundTripOfEveryKindOfValue) {
  Eigen::MatrixXf m(3, 2);
  m << 1, 2, 3, 4, 5, 6;
  const Eigen::MatrixXd empty(0, 4);
  const Bytes bytes = ByteWriter()
                          .put(std::int64_t(-5))
                          .put(0.25)
                          .put(std::string("text with \\0 \0 inside", 22))
                          .put_vector(std::vector<int>{3, 1, 2})
                          .put_matrix(m)
                          .put_matrix(empty)
                          .put(std::array<double, 2>{1.5, -2.5})
                          .take();
  ByteReader in(bytes);
  EXPECT_EQ(in.get<std::int64_t>(), -5);
  EXPECT_EQ(in.get<double>(), 0.25);
  EXPECT_EQ(in.get_string(), std::string("text with \\0 \0 inside", 22));
  EXPECT_EQ(in.get_vector<int>(), (std::vector<int>{3, 1, 2}));
  EXPECT_EQ(in.get_matrix<Eigen::MatrixXf>(), m);
  const auto e = in.get_matrix<Eigen::MatrixXd>();
  EXPECT_EQ(e.rows(), 0);
  EXPECT_EQ(e.cols(), 4);
  EXPECT_EQ((in.get<std::array<double, 2>>()), (std::array<double, 2>{1.5, -2.5}));
  EXPECT_EQ(in.remaining(), 0u);
  EXPECT_THROW((void)in.get<char>(), Error);
}

TEST(Bytes, RawBytesRoundTripWithoutALengthAndAShortReadThrows) {
  const std::array<float, 3> values{1.5f, -0.0f, 3e38f};
  const Bytes bytes = ByteWriter().put(std::int32_t(7)).put_raw(std::as_bytes(std::span(values))).put_raw({}).take();
  ASSERT_EQ(bytes.size(), 4u + sizeof values);  // no length in front
  ByteReader in(bytes, "checkpoint");
  EXPECT_EQ(in.get<std::int32_t>(), 7);
  EXPECT_TRUE(in.get_raw(0).empty());
  const auto raw = in.get_raw(sizeof values);
  EXPECT_EQ(std::memcmp(raw.data(), values.data(), sizeof values), 0);
  EXPECT_EQ(in.remaining(), 0u);
  try {
    (void)in.get_raw(1);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("truncated checkpoint"), std::string::npos) << e.what();
  }
}

TEST(Bytes, ATruncatedOrLyingMessageThrowsInsteadOfReadingPastItsEnd) {
  const Bytes text = ByteWriter().put(std::string("hello")).take();
  for (std::size_t cut = 0; cut < text.size(); ++cut) {
    ByteReader in(std::span<const std::byte>(text).first(cut), "work item");
    EXPECT_THROW((void)in.get_string(), Error) << cut;
  }
  // A matrix header claiming far more elements than the message holds.
  const Bytes lying = ByteWriter().put(std::int64_t(1) << 40).put(std::int64_t(1) << 40).put(1.0f).take();
  ByteReader in(lying, "latent codes");
  try {
    (void)in.get_matrix<Eigen::MatrixXf>();
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("truncated latent codes"), std::string::npos) << e.what();
  }
  const Bytes negative = ByteWriter().put(std::int64_t(-1)).put(std::int64_t(2)).take();
  ByteReader neg(negative);
  EXPECT_THROW((void)neg.get_matrix<Eigen::MatrixXf>(), Error);
}

}  // namespace
}  // namespace aesweep
