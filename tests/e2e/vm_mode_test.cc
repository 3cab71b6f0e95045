// The guest plugin's VM path (VACCEL_SHM_DEVICE) on this host, without QEMU: a fake sysfs
// device folder whose resource2 is the agent's --plain-region file stands for the ivshmem
// BAR, so the same code that runs inside a VM (device scan, BAR mapping, reset handshake,
// polling without doorbells, heartbeat and epoch) runs here under the sanitizers too.
// tests/vm/vm_vaccel_test.sh does the same through a real QEMU guest.
#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <vector>

extern "C" {
#include <vaccel.h>
}

#include "agent_util.h"

namespace {

struct FakeDevice {
	std::string region, sysfs, dev;
	FakeDevice()
	{
		region = e2e::TmpPath("plain.region");
		sysfs = e2e::TmpPath("sys");
		dev = sysfs + "/0000:00:04.0";
		unlink(region.c_str());
		mkdir(sysfs.c_str(), 0755);
		mkdir(dev.c_str(), 0755);
		std::ofstream(dev + "/vendor") << "0x1af4\n";
		std::ofstream(dev + "/device") << "0x1110\n";
		unlink((dev + "/resource2").c_str());
		// The agent creates the file; the "BAR" is that file, as QEMU maps it.
		EXPECT_EQ(symlink(region.c_str(), (dev + "/resource2").c_str()), 0);
	}
};

std::vector<std::string> AgentArgs(const FakeDevice &d)
{
	std::string lib = e2e::Abs(e2e::Runfile("TESTLIB"));
	return {"--plugins",
		e2e::Abs(e2e::Runfile("PLUGIN_BLAS")) + ":" + e2e::Abs(e2e::Runfile("PLUGIN_EXEC")) + ":" +
			e2e::Abs(e2e::Runfile("PLUGIN_NOOP")),
		"--pool", "4k:256,64k:16,1m:16", "--exec-allow", lib, "--plain-region", d.region};
}

std::vector<std::string> GuestEnv(const FakeDevice &d)
{
	return {"VACCEL_PLUGINS=" + e2e::Abs(e2e::Runfile("PLUGIN_SHM")), "VACCEL_SHM_DEVICE=" + d.dev,
		"VACCEL_SHM_LOCK_DIR=" + e2e::TmpPath(""), "OPENBLAS_NUM_THREADS=1",
		// No socket in a VM: a wrong one proves it is not used.
		"VACCEL_SHM_SOCKET=/nonexistent/socket"};
}

TEST(VmMode, OpsThroughThePlainRegionAreRight)
{
	FakeDevice d;
	e2e::Agent agent(AgentArgs(d), "plain");
	ASSERT_TRUE(agent.ok()) << agent.Log();
	std::string out;
	// noop, exec and sgemm of random sizes, each checked; 2 threads.
	EXPECT_EQ(e2e::Run({e2e::Abs(e2e::Runfile("GUEST_PROG")), "30", "2", e2e::Abs(e2e::Runfile("TESTLIB"))},
			   GuestEnv(d), 60, &out),
		  0)
		<< out << "\n" << agent.Log();
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
	struct stat st;
	EXPECT_EQ(stat(d.region.c_str(), &st), 0) << "a plain region outlives the agent (QEMU maps it)";
}

TEST(VmMode, OneProcessPerDeviceAndAKilledOneIsCleanedUpByTheNext)
{
	FakeDevice d;
	e2e::Agent agent(AgentArgs(d), "plain-kill");
	ASSERT_TRUE(agent.ok()) << agent.Log();
	// The long-running guest says when it has made its first calls: it holds the device
	// and has sessions on the host then.
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	std::vector<std::string> env = GuestEnv(d);
	env.push_back("GUEST_PROG_READY_FD=" + std::to_string(p[1]));
	pid_t g = e2e::Spawn({e2e::Abs(e2e::Runfile("GUEST_PROG")), "100000", "1"}, env, e2e::TmpPath("long.log"));
	close(p[1]);
	std::string said = e2e::ReadLine(p[0], 60);
	close(p[0]);
	ASSERT_EQ(said, "ready") << "the long-running guest did not start working\n" << agent.Log();
	std::string out;
	EXPECT_NE(e2e::Run({e2e::Abs(e2e::Runfile("GUEST_PROG")), "1"}, GuestEnv(d), 30, &out), 0);
	EXPECT_NE(out.find("in use by another vAccel process"), std::string::npos) << out;
	kill(g, SIGKILL);
	e2e::Wait(g, 10);
	size_t before = e2e::Count(agent.Log(), "released ");
	EXPECT_EQ(e2e::Run({e2e::Abs(e2e::Runfile("GUEST_PROG")), "5", "1"}, GuestEnv(d), 60, &out), 0)
		<< "the next process must take the device over: " << out << "\n" << agent.Log();
	EXPECT_TRUE(agent.WaitLog("released ", before + 1))
		<< "the killed process's sessions must be released:\n" << agent.Log();
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
}

TEST(VmMode, AgentGoneThenRestartedOnTheSameFile)
{
	FakeDevice d;
	auto agent = std::make_unique<e2e::Agent>(AgentArgs(d), "plain-first");
	ASSERT_TRUE(agent->ok()) << agent->Log();
	vaccel_cleanup();
	for (const std::string &kv : GuestEnv(d)) {
		size_t eq = kv.find('=');
		setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
	}
	ASSERT_EQ(vaccel_bootstrap(), VACCEL_OK);
	vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG), VACCEL_OK);
	ASSERT_EQ(vaccel_noop(&s), VACCEL_OK);

	// No socket tells us: the heartbeat stops, and the call fails instead of hanging.
	kill(agent->pid(), SIGKILL);
	// The heartbeat goes stale after 3 s; the bound only tells that from a hang.
	auto call = std::async(std::launch::async, [&] { return vaccel_noop(&s); });
	ASSERT_EQ(call.wait_for(std::chrono::seconds(30)), std::future_status::ready)
		<< "the call hangs after the agent died";
	EXPECT_EQ(call.get(), VACCEL_ESESS);
	vaccel_session_release(&s);
	agent.reset();

	// A new agent rewrites the same file in place (the mapping QEMU holds stays valid),
	// with a new epoch; a new session reconnects.
	e2e::Agent again(AgentArgs(d), "plain-again");
	ASSERT_TRUE(again.ok()) << again.Log();
	ASSERT_EQ(vaccel_session_init(&s, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG), VACCEL_OK);
	EXPECT_EQ(vaccel_noop(&s), VACCEL_OK) << again.Log();
	vaccel_session_release(&s);

	// A restart while connected: the new epoch is noticed without waiting for staleness.
	ASSERT_EQ(vaccel_session_init(&s, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG), VACCEL_OK);
	ASSERT_EQ(vaccel_noop(&s), VACCEL_OK);
	EXPECT_EQ(again.Stop(), 0) << again.Log();
	e2e::Agent third(AgentArgs(d), "plain-third");
	ASSERT_TRUE(third.ok()) << third.Log();
	EXPECT_EQ(vaccel_noop(&s), VACCEL_ESESS);
	vaccel_session_release(&s);
	ASSERT_EQ(vaccel_session_init(&s, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG), VACCEL_OK);
	EXPECT_EQ(vaccel_noop(&s), VACCEL_OK) << third.Log();
	vaccel_session_release(&s);
	vaccel_cleanup();
	EXPECT_EQ(third.Stop(), 0) << third.Log();
}

} // namespace
