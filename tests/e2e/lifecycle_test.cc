// Lifecycle: a guest killed mid-call is cleaned up and a new guest works; an agent that dies
// fails in-flight and new calls with VACCEL_ESESS instead of hanging, and a guest can
// reconnect to a restarted agent; SIGTERM completes what the agent already accepted.
#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <string>
#include <vector>

extern "C" {
#include <vaccel.h>
}

#include "agent_util.h"

namespace {

std::vector<std::string> AgentArgs()
{
	return {"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_NOOP")) + ":" + e2e::Abs(e2e::Runfile("PLUGIN_BLAS")),
		"--pool", "4k:256,64k:16,1m:16,4m:4"};
}

// SIGSTOP takes effect asynchronously: wait until the process is really stopped.
bool Freeze(pid_t pid)
{
	kill(pid, SIGSTOP);
	return e2e::WaitFor(
		[&] {
			FILE *f = fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
			char buf[512] = {};
			size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
			if (f)
				fclose(f);
			const char *p = n ? strrchr(buf, ')') : nullptr;
			return p && (p[2] == 'T' || p[2] == 't');
		},
		10);
}

bool Exists(const std::string &path)
{
	return access(path.c_str(), F_OK) == 0;
}

void Boot(const std::string &sock)
{
	vaccel_cleanup();
	std::string plugins = e2e::Abs(e2e::Runfile("PLUGIN_SHM"));
	setenv("VACCEL_PLUGINS", plugins.c_str(), 1);
	setenv("VACCEL_SHM_SOCKET", sock.c_str(), 1);
	ASSERT_EQ(vaccel_bootstrap(), VACCEL_OK);
}

// Each guest announces over a pipe that it is about to make a call that blocks on the host
// (block_until_told), and the function itself announces that it runs: only then is the guest
// killed, so the kill lands mid-call whatever connecting or scheduling takes. The call is
// then let go, so the agent finishes a request whose guest is gone.
TEST(Lifecycle, GuestKilledMidCallIsCleanedUp)
{
	std::string lib = e2e::Abs(e2e::Runfile("BLOCK_TESTLIB"));
	std::vector<std::string> args = AgentArgs();
	args[1] += ":" + e2e::Abs(e2e::Runfile("PLUGIN_EXEC"));
	args.insert(args.end(), {"--exec-allow", lib});
	e2e::Agent agent(args);
	ASSERT_TRUE(agent.ok()) << agent.Log();
	std::vector<std::string> env = {"VACCEL_PLUGINS=" + e2e::Abs(e2e::Runfile("PLUGIN_SHM")),
					"VACCEL_SHM_SOCKET=" + agent.socket(), "OPENBLAS_NUM_THREADS=1"};
	for (int round = 0; round < 3; round++) {
		SCOPED_TRACE("round " + std::to_string(round));
		std::string dir = e2e::TmpPath("midcall" + std::to_string(round));
		ASSERT_EQ(mkdir(dir.c_str(), 0755), 0) << dir;
		int p[2];
		ASSERT_EQ(pipe(p), 0);
		std::string glog = e2e::TmpPath("killed" + std::to_string(round) + ".log");
		pid_t g = e2e::Spawn({e2e::Abs(e2e::Runfile("MIDCALL_GUEST")), std::to_string(p[1]), lib, dir},
				     env, glog);
		close(p[1]);
		std::string said = e2e::ReadLine(p[0], 60);
		close(p[0]);
		auto guest_log = [&] {
			std::ifstream f(glog);
			return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
		};
		ASSERT_EQ(said, "calling block_until_told") << "guest: " << guest_log() << "\n" << agent.Log();
		ASSERT_TRUE(e2e::WaitFor([&] { return Exists(dir + "/entered"); }, 60))
			<< "the call never started on the host\n" << agent.Log();
		ASSERT_EQ(kill(g, SIGKILL), 0);
		EXPECT_EQ(e2e::Wait(g, 10), 128 + SIGKILL) << "the guest died mid-call, killed: " << guest_log();
		EXPECT_FALSE(Exists(dir + "/left")) << "the call must still have been in flight";
		// Let the call finish on the host: its completion goes to a guest that is gone.
		std::ofstream(dir + "/go").flush();
		EXPECT_TRUE(e2e::WaitFor([&] { return Exists(dir + "/left"); }, 60)) << agent.Log();
		EXPECT_TRUE(agent.WaitLog("released ", round + 1, 60))
			<< "each killed guest's sessions must be released:\n" << agent.Log();
		EXPECT_EQ(kill(agent.pid(), 0), 0) << "the agent died:\n" << agent.Log();
	}
	std::string log = agent.Log();
	EXPECT_EQ(e2e::Count(log, "released 3 session(s)"), 3u) << "three sessions per guest:\n" << log;
	std::string out;
	EXPECT_EQ(e2e::Run({e2e::Abs(e2e::Runfile("GUEST_PROG")), "50", "2"}, env, 60, &out), 0)
		<< "a new guest must work: " << out << "\n" << agent.Log();
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
}

TEST(Lifecycle, DeadAgentMeansEsessNotAHangAndAGuestCanReconnect)
{
	auto agent = std::make_unique<e2e::Agent>(AgentArgs(), "dying");
	ASSERT_TRUE(agent->ok()) << agent->Log();
	std::string sock = agent->socket();
	Boot(sock);
	vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG), VACCEL_OK);
	ASSERT_EQ(vaccel_noop(&s), VACCEL_OK);
	for (int i = 0; i < 10; i++)
		ASSERT_EQ(vaccel_noop_async(&s, i, 0), VACCEL_OK);

	// Freeze the agent, start a call that must wait for it, then kill it.
	ASSERT_TRUE(Freeze(agent->pid()));
	auto inflight = std::async(std::launch::async, [&] { return vaccel_noop(&s); });
	EXPECT_EQ(inflight.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout)
		<< "the call should be waiting on the frozen agent";
	kill(agent->pid(), SIGKILL);
	// The socket's hang-up tells the guest at once; the bound only tells that from a hang.
	ASSERT_EQ(inflight.wait_for(std::chrono::seconds(20)), std::future_status::ready)
		<< "the in-flight call hangs after the agent died";
	EXPECT_EQ(inflight.get(), VACCEL_ESESS);
	EXPECT_EQ(vaccel_noop(&s), VACCEL_ESESS) << "new calls fail at once";
	std::vector<vaccel_completion> c(16);
	unsigned n = 0;
	int r = vaccel_async_reap(&s, c.data(), 16, 16, 20000, &n);
	EXPECT_TRUE(r == VACCEL_ESESS || (r == VACCEL_OK && n == 10))
		<< "async completions either arrived before the kill or fail with ESESS: " << r;
	agent.reset();

	// A new agent on the same socket: a new session reconnects; the old one stays dead.
	e2e::Agent again(AgentArgs(), "again", sock);
	ASSERT_TRUE(again.ok()) << again.Log();
	ASSERT_EQ(again.socket(), sock);
	vaccel_session s2;
	ASSERT_EQ(vaccel_session_init(&s2, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG), VACCEL_OK);
	EXPECT_EQ(vaccel_noop(&s2), VACCEL_OK);
	EXPECT_EQ(vaccel_noop(&s), VACCEL_ESESS) << "a session of the lost connection";
	EXPECT_EQ(vaccel_session_release(&s), VACCEL_OK);
	EXPECT_EQ(vaccel_session_release(&s2), VACCEL_OK);
	vaccel_cleanup();
	EXPECT_EQ(again.Stop(), 0) << again.Log();
}

TEST(Lifecycle, SigtermCompletesWhatWasAccepted)
{
	e2e::Agent agent(AgentArgs());
	ASSERT_TRUE(agent.ok()) << agent.Log();
	Boot(agent.socket());
	vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG), VACCEL_OK);
	ASSERT_TRUE(Freeze(agent.pid()));
	for (int i = 0; i < 20; i++)
		ASSERT_EQ(vaccel_noop_async(&s, 100 + i, 0), VACCEL_OK);
	kill(agent.pid(), SIGTERM);
	kill(agent.pid(), SIGCONT);
	std::vector<vaccel_completion> c(32);
	unsigned n = 0;
	EXPECT_EQ(vaccel_async_reap(&s, c.data(), 20, 32, 20000, &n), VACCEL_OK);
	EXPECT_EQ(n, 20u) << "requests queued before SIGTERM are completed";
	for (unsigned i = 0; i < n; i++)
		EXPECT_EQ(c[i].ret, VACCEL_OK);
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
	EXPECT_EQ(vaccel_noop(&s), VACCEL_ESESS);
	vaccel_session_release(&s);
	vaccel_cleanup();
}

} // namespace
