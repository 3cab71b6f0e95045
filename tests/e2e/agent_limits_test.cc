// The agent's limits and robustness against a guest that misbehaves on purpose (each test
// guards a finding of the security review): no libc function runs as an exec symbol, the
// guest limit holds under a connect/close flood, a guest that never reaps does not keep the
// poller awake, SIGTERM ends the agent even while a guest floods it, and releasing a session
// gives back its resources' quota.
#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include <vaccel.h>
}

#include "agent_util.h"
#include "hostile_client.h"

namespace {

using e2e::Hostile;

double CpuSeconds(pid_t pid)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
	std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
	size_t p = all.rfind(')');
	if (p == std::string::npos)
		return -1;
	std::vector<std::string> fields;
	std::string cur;
	for (size_t i = p + 2; i < all.size(); i++) {
		if (all[i] == ' ') {
			fields.push_back(cur);
			cur.clear();
		} else {
			cur += all[i];
		}
	}
	// utime and stime are fields 14 and 15 of the file, 12 and 13 after the name.
	return (std::stod(fields[11]) + std::stod(fields[12])) / sysconf(_SC_CLK_TCK);
}

long RssKb(pid_t pid)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/status");
	std::string line;
	while (std::getline(f, line))
		if (line.rfind("VmRSS:", 0) == 0)
			return std::stol(line.substr(6));
	return -1;
}

int Connect(const std::string &path)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_un a{};
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path.c_str());
	if (connect(s, (sockaddr *)&a, sizeof(a)) != 0) {
		close(s);
		return -1;
	}
	return s;
}

TEST(AgentLimits, ExecRefusesSymbolsTheLibraryDoesNotDefine)
{
	std::string lib = e2e::Abs(e2e::Runfile("TESTLIB"));
	e2e::Agent agent({"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_EXEC")), "--pool", "4k:64,64k:8",
			  "--exec-allow", lib});
	ASSERT_TRUE(agent.ok()) << agent.Log();
	vaccel_cleanup();
	setenv("VACCEL_PLUGINS", e2e::Abs(e2e::Runfile("PLUGIN_SHM")).c_str(), 1);
	setenv("VACCEL_SHM_SOCKET", agent.socket().c_str(), 1);
	ASSERT_EQ(vaccel_bootstrap(), VACCEL_OK);
	vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, VACCEL_PLUGIN_REMOTE), VACCEL_OK);
	int x = 3, out = 0;
	vaccel_arg rd[1] = {{&x, sizeof(x), VACCEL_ARG_RAW, 0, false}};
	vaccel_arg wr[1] = {{&out, sizeof(out), VACCEL_ARG_RAW, 0, false}};
	ASSERT_EQ(vaccel_exec(&s, lib.c_str(), "mytestfunc", rd, 1, wr, 1), VACCEL_OK);
	EXPECT_EQ(out, 6);
	// libc is a dependency of the allowed library: its functions must not be reachable.
	for (const char *sym : {"exit", "abort", "getpid", "free"})
		EXPECT_EQ(vaccel_exec(&s, lib.c_str(), sym, rd, 1, wr, 1), VACCEL_ENOENT) << sym;
	EXPECT_EQ(kill(agent.pid(), 0), 0) << "agent must still be alive";
	EXPECT_EQ(vaccel_exec(&s, lib.c_str(), "mytestfunc", rd, 1, wr, 1), VACCEL_OK);
	// A relative name would be resolved by dlopen's own search: refused.
	EXPECT_EQ(vaccel_exec(&s, "libmytestlib.so", "mytestfunc", rd, 1, wr, 1), VACCEL_EPERM);
	vaccel_session_release(&s);
	vaccel_cleanup();
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
}

TEST(AgentLimits, GuestLimitHoldsUnderAConnectFlood)
{
	e2e::Agent agent({"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_NOOP")), "--pool", "4k:64,1m:8",
			  "--max-guests", "3"});
	ASSERT_TRUE(agent.ok()) << agent.Log();
	std::vector<Hostile *> held;
	for (int i = 0; i < 3; i++) {
		held.push_back(new Hostile);
		ASSERT_TRUE(held.back()->Connect(agent.socket())) << agent.Log();
	}
	Hostile extra;
	EXPECT_FALSE(extra.Connect(agent.socket())) << "a fourth guest must be refused";
	long rss0 = RssKb(agent.pid());
	for (int i = 0; i < 300; i++) {
		int s = Connect(agent.socket());
		if (s >= 0)
			close(s);
	}
	// The agent accepts in order: once a probe after the flood is refused, it has handled
	// every connection of the flood.
	Hostile probe;
	EXPECT_FALSE(probe.Connect(agent.socket())) << "still full after the flood";
	EXPECT_EQ(kill(agent.pid(), 0), 0);
	long rss1 = RssKb(agent.pid());
	EXPECT_LT(rss1 - rss0, 64 * 1024) << "regions piled up: " << rss0 << " kB -> " << rss1 << " kB";
	for (auto *h : held)
		delete h;
	// The slots come back once the pollers have released the guests: poll for that.
	EXPECT_TRUE(e2e::WaitFor([&] { return Hostile().Connect(agent.socket()); }, 30))
		<< "slots come back when guests leave\n" << agent.Log();
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
}

TEST(AgentLimits, AGuestThatNeverReapsDoesNotKeepThePollerAwake)
{
	e2e::Agent agent({"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_NOOP")), "--pool", "4k:64",
			  "--cq-entries", "8", "--sq-entries", "64", "--spin-us", "50"});
	ASSERT_TRUE(agent.ok()) << agent.Log();
	Hostile h;
	ASSERT_TRUE(h.Connect(agent.socket()));
	// Bypass the in-flight limit: 40 requests for an 8-entry completion ring, never reaped.
	for (int i = 0; i < 40; i++) {
		vtr_sqe s{};
		s.opcode = VTR_OP_NOP;
		s.user_data = i;
		ASSERT_EQ(vtr_ring_push(&h.qp.sq, &s), 1);
	}
	uint64_t one = 1;
	ASSERT_EQ(write(vivs_client_peer(&h.cli, 0)->fds[0], &one, 8), 8);
	ASSERT_TRUE(e2e::WaitFor([&] { return vtr_ring_count(&h.qp.cq) == 8; }, 30))
		<< "the completion ring should fill up\n" << agent.Log();
	// A window to measure the agent's CPU use over (not a synchronization): a loaded
	// machine can only give the agent less CPU, never make it look busier.
	double c0 = CpuSeconds(agent.pid());
	usleep(1000000);
	double used = CpuSeconds(agent.pid()) - c0;
	EXPECT_LT(used, 0.2) << "the poller spun on work it cannot do (" << used << " s of CPU in 1 s)";
	EXPECT_EQ(vtr_ring_count(&h.qp.cq), 8u) << "exactly the completion ring's worth was answered";
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
}

TEST(AgentLimits, SigtermEndsTheAgentWhileAGuestFloodsIt)
{
	e2e::Agent agent({"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_NOOP")), "--pool", "4k:64"});
	ASSERT_TRUE(agent.ok()) << agent.Log();
	Hostile h;
	ASSERT_TRUE(h.Connect(agent.socket()));
	std::atomic<bool> stop{false};
	std::atomic<long> reaped{0};
	std::thread flood([&] {
		vtr_sqe s{};
		s.opcode = VTR_OP_NOP;
		vtr_cqe c[64];
		while (!stop) {
			vtr_qp_submit(&h.qp, &s, 1);
			int n = vtr_qp_reap(&h.qp, c, 64);
			if (n > 0)
				reaped += n;
		}
	});
	// SIGTERM once the flood is in full swing: the agent has answered a good many.
	EXPECT_TRUE(e2e::WaitFor([&] { return reaped >= 1000; }, 30)) << agent.Log();
	int rc = agent.Stop(); // waits up to 20 s
	stop = true;
	flood.join();
	EXPECT_EQ(rc, 0) << "the agent must exit 0 on SIGTERM even under load\n" << agent.Log();
}

TEST(AgentLimits, ReleasingASessionGivesBackItsResources)
{
	e2e::Agent agent({"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_EXEC")), "--pool", "4k:64,64k:8",
			  "--max-resources", "2"});
	ASSERT_TRUE(agent.ok()) << agent.Log();
	Hostile h;
	ASSERT_TRUE(h.Connect(agent.socket()));
	for (int round = 0; round < 3; round++) {
		vtr_sqe s{};
		s.opcode = VTR_OP_SESS_INIT;
		int32_t sess = h.Call(s);
		ASSERT_GT(sess, 0);
		for (int r = 0; r < 2; r++) {
			// One file per resource: its name and its bytes, in the pool.
			auto *args = reinterpret_cast<vtr_arg *>(h.At(h.pool_off));
			strcpy(h.At(h.pool_off + 512), "data.bin");
			memset(h.At(h.pool_off + 1024), 0x5a, 100);
			args[0] = {h.pool_off + 512, 9, 0, VTR_ARG_IN};
			args[1] = {h.pool_off + 1024, 100, 0, VTR_ARG_IN};
			vtr_sqe rs{};
			rs.opcode = VTR_OP_RES_REGISTER;
			rs.sess_id = (uint32_t)sess;
			rs.op = 1; // VACCEL_RESOURCE_DATA
			rs.args_off = h.pool_off;
			rs.nr_args = 2;
			EXPECT_GT(h.Call(rs), 0) << "round " << round << " resource " << r
						 << ": the quota of released sessions must come back";
		}
		vtr_sqe rel{};
		rel.opcode = VTR_OP_SESS_RELEASE;
		rel.sess_id = (uint32_t)sess;
		EXPECT_EQ(h.Call(rel), 0);
	}
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
}

} // namespace

namespace {

// Plugin libraries start threads of their own (OpenBLAS: one per core, from the loader)
// that block no signal: SIGTERM must still reach the agent's orderly shutdown.
TEST(AgentLimits, SigtermExitsZeroWithOpenblasThreads)
{
	std::string sock = e2e::SockPath("blas-threads.sock");
	std::string log = e2e::TmpPath("blas-threads.log");
	pid_t pid = e2e::Spawn({e2e::Abs(e2e::Runfile("AGENT")), "--socket", sock, "--plugins",
				e2e::Abs(e2e::Runfile("PLUGIN_BLAS")), "--pool", "4k:64"},
			       {"OPENBLAS_NUM_THREADS=2", "VACCEL_PLUGINS="}, log);
	ASSERT_GT(pid, 0);
	std::string text;
	e2e::WaitFor(
		[&] {
			std::ifstream f(log);
			text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
			return text.find("listening on") != std::string::npos;
		},
		30);
	ASSERT_NE(text.find("listening on"), std::string::npos) << text;
	kill(pid, SIGTERM);
	EXPECT_EQ(e2e::Wait(pid, 20), 0) << "SIGTERM must end the agent with status 0, not kill it";
}

} // namespace

namespace {

// vaccel_exec naming a FIFO (or a device) must be refused at once, not block the poller in
// open() and with it every other guest.
TEST(AgentLimits, ExecOfAFifoDoesNotHangThePoller)
{
	std::string dir = e2e::TmpPath("fifo-dir");
	mkdir(dir.c_str(), 0755);
	std::string fifo = dir + "/lib.so";
	ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
	e2e::Agent agent({"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_EXEC")) + ":" +
					       e2e::Abs(e2e::Runfile("PLUGIN_NOOP")) + ":" +
					       e2e::Abs(e2e::Runfile("PLUGIN_BLAS")),
			  "--pool", "4k:64,64k:8", "--exec-allow", dir});
	ASSERT_TRUE(agent.ok()) << agent.Log();
	std::vector<std::string> env = {"VACCEL_PLUGINS=" + e2e::Abs(e2e::Runfile("PLUGIN_SHM")),
					"VACCEL_SHM_SOCKET=" + agent.socket(), "OPENBLAS_NUM_THREADS=1"};
	std::string out;
	// guest_prog's exec round names the FIFO: its calls fail, but they must come back.
	int rc = e2e::Run({e2e::Abs(e2e::Runfile("GUEST_PROG")), "1", "1", fifo}, env, 60, &out);
	EXPECT_NE(rc, -1) << "the guest hung: the poller is stuck in open()\n" << agent.Log();
	EXPECT_TRUE(agent.WaitLog("refused")) << "the exec must be refused\n" << agent.Log();
	EXPECT_EQ(kill(agent.pid(), 0), 0);
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
}

} // namespace
