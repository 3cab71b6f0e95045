// Issue 16.4: hundreds of connected idle guests. The agent holds 256 of them, parks them
// (they cost its poller no pass time), and serves an active guest among them.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <memory>
#include <vector>

#include "agent_probe.h"
#include "agent_util.h"
#include "hostile_client.h"

namespace {

using e2e::Hostile;

TEST(IdleGuests, TwoHundredFiftySixIdleAndOneActive)
{
	// Each guest holds about twenty fds here.
	rlimit rl;
	ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	e2e::Agent agent({"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_NOOP")), "--pool", "4k:64,1m:64"});
	ASSERT_TRUE(agent.ok()) << agent.Log();
	std::vector<std::unique_ptr<Hostile>> idle;
	for (int i = 0; i < 256; i++) {
		idle.emplace_back(new Hostile);
		ASSERT_TRUE(idle.back()->Connect(agent.socket())) << "guest " << i << "\n" << agent.Log();
	}
	Hostile active;
	ASSERT_TRUE(active.Connect(agent.socket())) << agent.Log();
	for (int i = 0; i < 200; i++)
		ASSERT_EQ(active.Call(e2e::UnknownOpSqe()), -ENOSYS) << "call " << i << "\n" << agent.Log();
	// Every idle guest ends up parked (the poller parks a guest idle for its spin budget).
	std::string out;
	bool parked = false;
	for (double end = e2e::NowS() + 20; e2e::NowS() < end && !parked;) {
		ASSERT_EQ(e2e::Run({e2e::Runfile("AGENT"), "stat", "--socket", agent.socket()}, {}, 20, &out), 0)
			<< out;
		size_t at = out.find("parked_guests ");
		parked = at != std::string::npos && std::stoul(out.substr(at + 14)) >= 256;
	}
	EXPECT_TRUE(parked) << out.substr(0, 2000);
	EXPECT_NE(out.find("guests_connected 257"), std::string::npos) << out.substr(0, 300);
	// A parked guest's doorbell brings it back.
	EXPECT_EQ(idle[17]->Call(e2e::UnknownOpSqe()), -ENOSYS) << agent.Log();
	// Region memory: 257 regions of 512 MiB mapped, only a little resident.
	long shmem = e2e::StatusKb(agent.pid(), "RssShmem");
	EXPECT_LT(shmem, 256 * 1024) << "RssShmem kB";
	idle.clear();
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
}

} // namespace
