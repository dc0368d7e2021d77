// The MPI transport itself, in one process (an MPI singleton; also run under mpiexec with three
// ranks, see tests/dist/CMakeLists.txt): messages to itself that would deadlock a blocking send,
// the collectives, the environment and the MPI-IO junction.
#include "aesweep/dist/mpi_communicator.hpp"

#include <gtest/gtest.h>

#include "aesweep/dist/mpi_environment.hpp"
#include "dist/fake_communicator.hpp"

namespace aesweep {
namespace {

MpiEnvironment* environment = nullptr;

class MpiSetUp : public ::testing::Environment {
 public:
  void SetUp() override { environment = new MpiEnvironment(); }
  void TearDown() override { environment->finalize(); }
};
[[maybe_unused]] const auto* registered = ::testing::AddGlobalTestEnvironment(new MpiSetUp);

TEST(MpiCommunicator, LargeMessagesToItselfDoNotBlockTheSender) {
  // 64 MiB twice: far beyond any eager limit, so a blocking MPI_Send to itself would never return.
  MpiCommunicator self(MPI_COMM_SELF);
  const Bytes big(std::size_t(64) << 20, std::byte{7});
  self.send(0, 5, big);
  self.send(0, 6, ByteWriter().put(std::string("second")).take());
  const Message first = self.receive();
  EXPECT_EQ(first.source, 0);
  EXPECT_EQ(first.tag, 5);
  EXPECT_EQ(first.payload, big);
  const auto second = self.poll();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->tag, 6);
  EXPECT_EQ(ByteReader(second->payload).get_string(), "second");
  EXPECT_FALSE(self.poll().has_value());
  self.complete_sends();
}

TEST(MpiCommunicator, CollectivesOverTheWholeJob) {
  Communicator& world = environment->world();
  const int r = world.rank(), n = world.size();
  EXPECT_EQ(world.min_over_ranks(100 + r), 100);
  EXPECT_EQ(world.any(r == n - 1), true);
  EXPECT_FALSE(world.all(r != n - 1));
  EXPECT_EQ(world.broadcast_int(r == 0 ? 77 : -1), 77);
  const std::string text(3000000, 'z');
  EXPECT_EQ(world.broadcast_string(r == n - 1 ? text : "", n - 1), text);
  const std::optional<std::string> mine = r == n - 1 ? std::optional<std::string>("last rank failed") : std::nullopt;
  EXPECT_EQ(world.agree_on_error(mine), std::optional<std::string>("last rank failed"));
  EXPECT_FALSE(world.agree_on_error(std::nullopt).has_value());
  world.barrier();
  EXPECT_TRUE(world.usable());
}

TEST(MpiCommunicator, EmptyMessagesAndAnEmptyBroadcast) {
  MpiCommunicator self(MPI_COMM_SELF);
  self.send(0, 9, {});
  const Message m = self.receive();
  EXPECT_EQ(m.tag, 9);
  EXPECT_TRUE(m.payload.empty());
  EXPECT_TRUE(self.broadcast({}, 0).empty());
}

TEST(MpiIoHandle, OnlyAnMpiCommunicatorHasOne) {
  MpiCommunicator self(MPI_COMM_SELF);
  EXPECT_EQ(mpi_io_handle(self).comm, MPI_COMM_SELF);
  testing::FakeNetwork net(1);
  testing::FakeCommunicator fake(net, 0);
  EXPECT_THROW((void)mpi_io_handle(fake), Error);
}

TEST(MpiEnvironment, ASecondEnvironmentLeavesMpiToTheFirst) {
  MpiEnvironment inner;  // MPI is already up: this one must not finalize it
  EXPECT_EQ(inner.rank(), environment->rank());
  inner.finalize();
  EXPECT_TRUE(environment->world().usable());
  EXPECT_THROW((void)inner.world(), Error);
}

}  // namespace
}  // namespace aesweep
