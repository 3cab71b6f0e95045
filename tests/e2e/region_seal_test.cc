// A guest cannot take the agent down by resizing the region fd it was handed: before the
// seals, ftruncate(fd, 0) made the poller's next read of the region raise SIGBUS, which
// killed the agent and every other guest with it.
#include <gtest/gtest.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "agent_util.h"
#include "hostile_client.h"

namespace {

TEST(RegionSeal, TruncatingTheRegionIsRefusedAndOthersKeepWorking)
{
	e2e::Agent agent({"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_NOOP"))});
	ASSERT_TRUE(agent.ok()) << agent.Log();
	e2e::Hostile bad;
	ASSERT_TRUE(bad.Connect(agent.socket())) << agent.Log();
	EXPECT_EQ(ftruncate(bad.cli.shm_fd, 0), -1) << "the region's size must be sealed";
	EXPECT_EQ(errno, EPERM);
	EXPECT_EQ(ftruncate(bad.cli.shm_fd, 1 << 30), -1);
	// Whatever the attempt did, the agent serves this guest and a new one.
	vtr_sqe s{};
	s.opcode = VTR_OP_NOP;
	EXPECT_EQ(bad.Call(s), 0) << agent.Log();
	e2e::Hostile good;
	ASSERT_TRUE(good.Connect(agent.socket())) << agent.Log();
	EXPECT_EQ(good.Call(s), 0) << agent.Log();
	EXPECT_EQ(agent.Stop(), 0) << "agent must exit 0 on SIGTERM\n" << agent.Log();
}

} // namespace
