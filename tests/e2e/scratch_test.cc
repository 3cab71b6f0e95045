// Issue 14.3 through a real agent: the bytes a request's op sees in a small input are that
// request's only. Before the fix, an exec with a 0-byte input was handed the agent's
// scratch as left by the previous request: another guest's sgemm arguments (its k).
#include <gtest/gtest.h>

#include <stdlib.h>

#include <string>

extern "C" {
#include <vaccel.h>
}

#include "agent_util.h"

namespace {

TEST(Scratch, ZeroByteInputShowsNothingOfAnotherGuestsRequest)
{
	std::string lib = e2e::Abs(e2e::Runfile("WORK_TESTLIB"));
	e2e::Agent agent({"--plugins",
			  e2e::Abs(e2e::Runfile("PLUGIN_EXEC")) + ":" + e2e::Abs(e2e::Runfile("PLUGIN_BLAS")),
			  "--exec-allow", lib.substr(0, lib.rfind('/'))});
	ASSERT_TRUE(agent.ok()) << agent.Log();
	std::vector<std::string> env = {"VACCEL_PLUGINS=" + e2e::Abs(e2e::Runfile("PLUGIN_SHM")),
					"VACCEL_SHM_SOCKET=" + agent.socket()};
	vaccel_cleanup();
	setenv("VACCEL_PLUGINS", e2e::Abs(e2e::Runfile("PLUGIN_SHM")).c_str(), 1);
	setenv("VACCEL_SHM_SOCKET", agent.socket().c_str(), 1);
	ASSERT_EQ(vaccel_bootstrap(), VACCEL_OK);
	vaccel_session s{};
	ASSERT_EQ(vaccel_session_init(&s, VACCEL_PLUGIN_REMOTE), VACCEL_OK) << agent.Log();
	for (int round = 0; round < 5; round++) {
		// Another guest (a process of its own) runs a small sgemm: its m, n, k pass
		// through the agent's copies of small inputs.
		std::string out;
		// EXPECT: an agent without routing runs it on the exec plugin (ENOTSUP), after
		// copying its arguments all the same; what the exec below sees is the point.
		EXPECT_EQ(e2e::Run({e2e::Runfile("SGEMM_EXAMPLE"), "-m", "3", "-n", "5", "-k", "7", "--iterations", "1"},
				   env, 60, &out), 0)
			<< out << agent.Log();
		unsigned char seen[64];
		memset(seen, 0xee, sizeof(seen));
		char nothing = 0;
		vaccel_arg rd[1] = {{&nothing, 0, VACCEL_ARG_RAW, 0, false}};
		vaccel_arg wr[1] = {{seen, sizeof(seen), VACCEL_ARG_RAW, 0, false}};
		ASSERT_EQ(vaccel_exec(&s, lib.c_str(), "work_peek", rd, 1, wr, 1), VACCEL_OK) << agent.Log();
		size_t nonzero = 0;
		for (unsigned char c : seen)
			nonzero += c != 0;
		EXPECT_EQ(nonzero, 0u) << "round " << round << ": a 0-byte input showed " << nonzero
				       << " bytes of an earlier request";
	}
	vaccel_session_release(&s);
	vaccel_cleanup();
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
}

} // namespace
