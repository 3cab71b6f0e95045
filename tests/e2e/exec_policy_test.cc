// Issue 14.1 and 14.2 through a real agent: a guest that names a data symbol as the
// function to run, or asks a serializing function for a larger output than it writes,
// gets an error completion; the agent neither crashes nor copies its own memory out,
// and keeps serving.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <string>
#include <vector>

extern "C" {
#include <vaccel.h>
}

#include "agent_util.h"

namespace {

class ExecPolicy : public testing::Test {
      protected:
	static void SetUpTestSuite()
	{
		lib_ = new std::string(e2e::Abs(e2e::Runfile("TESTLIB")));
		std::string dir = lib_->substr(0, lib_->rfind('/'));
		agent_ = new e2e::Agent({"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_EXEC")), "--exec-allow", dir});
	}
	static void TearDownTestSuite()
	{
		vaccel_cleanup();
		EXPECT_EQ(agent_->Stop(), 0) << "agent must exit 0 on SIGTERM\n" << agent_->Log();
		delete agent_;
		delete lib_;
	}
	void SetUp() override
	{
		ASSERT_TRUE(agent_->ok()) << agent_->Log();
		vaccel_cleanup();
		setenv("VACCEL_PLUGINS", e2e::Abs(e2e::Runfile("PLUGIN_SHM")).c_str(), 1);
		setenv("VACCEL_SHM_SOCKET", agent_->socket().c_str(), 1);
		ASSERT_EQ(vaccel_bootstrap(), VACCEL_OK);
		ASSERT_EQ(vaccel_session_init(&s_, VACCEL_PLUGIN_REMOTE), VACCEL_OK) << agent_->Log();
	}
	void TearDown() override
	{
		vaccel_session_release(&s_);
	}
	// The agent still serves: a good exec gives the right answer.
	void ExpectStillServing()
	{
		int x = 21, y = 0;
		vaccel_arg rd[1] = {{&x, sizeof(x), VACCEL_ARG_INT32, 0, false}};
		vaccel_arg wr[1] = {{&y, sizeof(y), VACCEL_ARG_INT32, 0, false}};
		ASSERT_EQ(vaccel_exec(&s_, lib_->c_str(), "mytestfunc", rd, 1, wr, 1), VACCEL_OK)
			<< agent_->Log();
		EXPECT_EQ(y, 42);
	}
	static e2e::Agent *agent_;
	static std::string *lib_;
	vaccel_session s_{};
};
e2e::Agent *ExecPolicy::agent_;
std::string *ExecPolicy::lib_;

TEST_F(ExecPolicy, DataSymbolsAreNotCalled)
{
	// Linker-defined markers, a read-only table and a variable: all data, none callable.
	for (const char *sym : {"__bss_start", "_edata", "_end", "mytestlib_table", "mytestlib_counter"}) {
		int x = 1, y = 0;
		vaccel_arg rd[1] = {{&x, sizeof(x), VACCEL_ARG_INT32, 0, false}};
		vaccel_arg wr[1] = {{&y, sizeof(y), VACCEL_ARG_INT32, 0, false}};
		int ret = vaccel_exec(&s_, lib_->c_str(), sym, rd, 1, wr, 1);
		EXPECT_NE(ret, VACCEL_OK) << sym;
		EXPECT_EQ(y, 0) << sym;
		ExpectStillServing();
	}
}

TEST_F(ExecPolicy, SerialOutputNeverLargerThanWhatWasWritten)
{
	// 4 KiB asked of a function that writes one int: before the fix the agent answered
	// with ~4 KiB of its stack; 1 MiB read past the stack and crashed it.
	for (size_t size : {size_t(4096), size_t(1) << 20}) {
		int x = 5;
		std::vector<unsigned char> out(size, 0);
		vaccel_arg rd[1] = {{&x, sizeof(x), VACCEL_ARG_INT32, 0, false}};
		vaccel_arg wr[1] = {{out.data(), out.size(), VACCEL_ARG_RAW, 0, false}};
		EXPECT_EQ(vaccel_exec(&s_, lib_->c_str(), "mytestfunc_serial", rd, 1, wr, 1), VACCEL_EINVAL);
		size_t nonzero = 0;
		for (unsigned char c : out)
			nonzero += c != 0;
		EXPECT_EQ(nonzero, 0u) << "no byte of the agent's memory may reach the guest";
		ExpectStillServing();
	}
	// The right size still works.
	int x = 5, y = 0;
	vaccel_arg rd[1] = {{&x, sizeof(x), VACCEL_ARG_INT32, 0, false}};
	vaccel_arg wr[1] = {{&y, sizeof(y), VACCEL_ARG_INT32, 0, false}};
	EXPECT_EQ(vaccel_exec(&s_, lib_->c_str(), "mytestfunc_serial", rd, 1, wr, 1), VACCEL_OK);
	EXPECT_EQ(y, 10);
}

} // namespace
