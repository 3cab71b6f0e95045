// Many threads in one guest, and three guest processes on one agent, each checking every
// result (noop, exec and sgemm on interleaved sessions).
#include <gtest/gtest.h>

#include <stdlib.h>

#include <string>
#include <vector>

#include "agent_util.h"

namespace {

struct Env {
	e2e::Agent agent;
	std::vector<std::string> env;
	std::string lib;
	Env()
	    : agent({"--plugins",
		     e2e::Abs(e2e::Runfile("PLUGIN_BLAS")) + ":" + e2e::Abs(e2e::Runfile("PLUGIN_EXEC")) + ":" +
			     e2e::Abs(e2e::Runfile("PLUGIN_NOOP")),
		     "--pool", "4k:256,64k:64,1m:8", "--exec-allow",
		     e2e::Abs(e2e::Runfile("TESTLIB"))})
	{
		lib = e2e::Abs(e2e::Runfile("TESTLIB"));
		env = {"VACCEL_PLUGINS=" + e2e::Abs(e2e::Runfile("PLUGIN_SHM")),
		       "VACCEL_SHM_SOCKET=" + agent.socket(), "OPENBLAS_NUM_THREADS=1"};
	}
};

TEST(E2eMulti, ManyThreadsInOneGuest)
{
	Env e;
	ASSERT_TRUE(e.agent.ok()) << e.agent.Log();
	std::string out;
	// 8 threads on 4 queue pairs: 3 threads own a pair, the other 5 share the last one.
	int rc = e2e::Run({e2e::Abs(e2e::Runfile("GUEST_PROG")), "60", "8", e.lib}, e.env, 120, &out);
	EXPECT_EQ(rc, 0) << out;
	EXPECT_NE(out.find("ok: 8 thread(s) x 60 rounds"), std::string::npos) << out;
	EXPECT_EQ(e.agent.Stop(), 0) << e.agent.Log();
}

TEST(E2eMulti, ThreeGuestProcessesOnOneAgent)
{
	Env e;
	ASSERT_TRUE(e.agent.ok()) << e.agent.Log();
	std::vector<pid_t> pids;
	for (int i = 0; i < 3; i++)
		pids.push_back(e2e::Spawn({e2e::Abs(e2e::Runfile("GUEST_PROG")), "80", "2", e.lib}, e.env,
					  e2e::TmpPath("guest" + std::to_string(i) + ".log")));
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(e2e::Wait(pids[i], 120), 0) << "guest " << i << " failed; agent log:\n"
						       << e.agent.Log();
	EXPECT_EQ(e.agent.Stop(), 0);
	std::string log = e.agent.Log();
	size_t gone = 0;
	for (size_t at = 0; (at = log.find(": gone (", at)) != std::string::npos; at++)
		gone++;
	EXPECT_EQ(gone, 3u) << "each guest got its own region and was released:\n" << log;
	EXPECT_EQ(log.find("handshake failed"), std::string::npos) << log;
}

} // namespace
