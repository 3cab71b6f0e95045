// `vaccel-agent stat`: a real agent, this process as a live guest (and a copy of it as a
// guest that comes and goes), then the stat subcommand's output: the numbers are there and
// add up (queue pairs to guest, results to requests, kinds to errors, wake-ups by cause).
// Under TSan this also checks that reading the poller's counters for display is race-free.
#include <gtest/gtest.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

extern "C" {
#include <vaccel.h>
}

namespace {

std::string Abs(const char *env)
{
	const char *p = getenv(env);
	if (!p)
		return "";
	char *r = realpath(p, nullptr);
	std::string s = r ? r : p;
	free(r);
	return s;
}

double Now()
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

std::string ReadFile(const std::string &path)
{
	std::ifstream f(path);
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

// Runs argv with stdout and stderr into out; returns the exit status (128+signal if killed).
int RunProg(const std::vector<std::string> &argv, std::string *out, const std::string &tmp)
{
	std::string path = tmp + "/run.out";
	pid_t pid = fork();
	if (pid == 0) {
		FILE *f = fopen(path.c_str(), "w");
		if (f) {
			dup2(fileno(f), 1);
			dup2(fileno(f), 2);
		}
		std::vector<char *> a;
		for (const auto &s : argv)
			a.push_back(const_cast<char *>(s.c_str()));
		a.push_back(nullptr);
		execv(a[0], a.data());
		_exit(127);
	}
	int st = 0;
	double end = Now() + 30;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (Now() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		usleep(2000);
	}
	*out = ReadFile(path);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// "key value" pairs of the first line matching prefix (a regex), as numbers.
std::map<std::string, double> Fields(const std::string &text, const std::string &prefix)
{
	std::map<std::string, double> m;
	std::istringstream in(text);
	std::string line;
	std::regex start("^\\s*" + prefix);
	while (std::getline(in, line)) {
		std::smatch sm;
		if (!std::regex_search(line, sm, start))
			continue;
		std::istringstream w(sm.suffix().str());
		std::string k, v;
		while (w >> k >> v) {
			char *end;
			double d = strtod(v.c_str(), &end);
			if (*end == 0)
				m[k] = d;
		}
		return m;
	}
	return m;
}

// The guest role: set up the transport towards $STAT_TEST_SOCKET.
void Boot(const std::string &sock)
{
	vaccel_cleanup();
	setenv("VACCEL_PLUGINS", Abs("PLUGIN_SHM").c_str(), 1);
	setenv("VACCEL_SHM_SOCKET", sock.c_str(), 1);
	ASSERT_EQ(vaccel_bootstrap(), VACCEL_OK);
}

// A copy of this binary started with STAT_TEST_GUEST=N makes N noops as a guest and exits.
__attribute__((constructor)) void GuestMode()
{
	const char *n = getenv("STAT_TEST_GUEST");
	if (!n)
		return;
	vaccel_cleanup();
	setenv("VACCEL_PLUGINS", getenv("STAT_TEST_SHM"), 1);
	if (vaccel_bootstrap())
		_exit(3);
	struct vaccel_session s;
	if (vaccel_session_init(&s, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG))
		_exit(4);
	for (int i = 0; i < atoi(n); i++)
		if (vaccel_noop(&s))
			_exit(5);
	vaccel_session_release(&s);
	vaccel_cleanup();
	_exit(0);
}

class AgentStat : public ::testing::Test {
      protected:
	void SetUp() override
	{
		tmp_ = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
		// sun_path is short: the socket lives in a folder of its own under /tmp.
		dir_ = "/tmp/vaccel-stat-" + std::to_string(getpid());
		mkdir(dir_.c_str(), 0700);
		sock_ = dir_ + "/a.sock";
		log_ = tmp_ + "/agent.log";
		// Each test starts its own agent: an earlier test's log must not look like ours.
		unlink(log_.c_str());
		agent_ = Abs("AGENT");
		std::string plugins = Abs("PLUGIN_NOOP") + ":" + Abs("PLUGIN_BLAS") + ":" + Abs("PLUGIN_EXEC");
		pid_ = fork();
		if (pid_ == 0) {
			FILE *f = fopen(log_.c_str(), "w");
			if (f) {
				dup2(fileno(f), 1);
				dup2(fileno(f), 2);
			}
			setenv("OPENBLAS_NUM_THREADS", "1", 1);
			unsetenv("VACCEL_PLUGINS");
			// Two queue pairs; no --exec-allow, so vaccel_exec is refused (EPERM).
			execl(agent_.c_str(), agent_.c_str(), "--socket", sock_.c_str(), "--plugins",
			      plugins.c_str(), "--qps", "2", "--pool", "4k:256,64k:16", (char *)nullptr);
			_exit(127);
		}
		double end = Now() + 30;
		while (Now() < end && ReadFile(log_).find("listening on") == std::string::npos)
			usleep(5000);
		ASSERT_NE(ReadFile(log_).find("listening on"), std::string::npos) << ReadFile(log_);
	}

	void TearDown() override
	{
		vaccel_cleanup();
		if (pid_ > 0) {
			int st = 0;
			kill(pid_, SIGTERM);
			waitpid(pid_, &st, 0);
			EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << ReadFile(log_);
		}
		rmdir(dir_.c_str());
	}

	std::string Stat()
	{
		std::string out;
		int rc = RunProg({agent_, "stat", "--socket", sock_}, &out, tmp_);
		EXPECT_EQ(rc, 0) << out;
		return out;
	}

	std::string tmp_, dir_, sock_, log_, agent_;
	pid_t pid_ = -1;
};

TEST_F(AgentStat, NumbersAppearAndAddUp)
{
	// A guest that comes and goes first: its requests end up in the poller's retired totals.
	std::string out;
	std::string self = "/proc/self/exe";
	pid_t g = fork();
	if (g == 0) {
		setenv("STAT_TEST_GUEST", "200", 1);
		setenv("STAT_TEST_SHM", Abs("PLUGIN_SHM").c_str(), 1);
		setenv("VACCEL_SHM_SOCKET", sock_.c_str(), 1);
		char exe[4096];
		ssize_t n = readlink(self.c_str(), exe, sizeof(exe) - 1);
		if (n <= 0)
			_exit(126);
		exe[n] = 0;
		execl(exe, exe, (char *)nullptr);
		_exit(127);
	}
	int st = 0;
	ASSERT_EQ(waitpid(g, &st, 0), g);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "guest exit " << st << "\n" << ReadFile(log_);

	// This process: a live guest with noops, sgemms and one refused exec.
	Boot(sock_);
	struct vaccel_session dbg, cpu, gen;
	ASSERT_EQ(vaccel_session_init(&dbg, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG), VACCEL_OK);
	ASSERT_EQ(vaccel_session_init(&cpu, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_CPU), VACCEL_OK);
	ASSERT_EQ(vaccel_session_init(&gen, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_GENERIC), VACCEL_OK);
	const int noops = 100, sgemms = 10;
	for (int i = 0; i < noops; i++)
		ASSERT_EQ(vaccel_noop(&dbg), VACCEL_OK);
	float a[16], b[16], c[16];
	for (int i = 0; i < 16; i++)
		a[i] = b[i] = c[i] = 1;
	for (int i = 0; i < sgemms; i++)
		ASSERT_EQ(vaccel_sgemm(&cpu, 4, 4, 4, 1.0f, a, 4, b, 4, 0.0f, c, 4), VACCEL_OK);
	EXPECT_EQ(c[0], 4.0f);
	int x = 1, y = 0;
	struct vaccel_arg rd[1] = {{.buf = &x, .size = sizeof(x)}};
	struct vaccel_arg wr[1] = {{.buf = &y, .size = sizeof(y)}};
	std::string lib = Abs("TESTLIB");
	EXPECT_NE(vaccel_exec(&gen, lib.c_str(), "mytestfunc", rd, 1, wr, 1), VACCEL_OK);

	// The retired guest is counted once its poller has released it.
	for (double end = Now() + 30; Now() < end; usleep(20000)) {
		out = Stat();
		if (std::regex_search(out, std::regex("retired_guests [1-9]")))
			break;
	}
	SCOPED_TRACE(out);
	std::smatch sm;
	ASSERT_TRUE(std::regex_search(out, sm, std::regex("retired_guests ([0-9]+) requests ([0-9]+)")));
	EXPECT_EQ(std::stoul(sm[1]), 1u);
	EXPECT_GE(std::stoul(sm[2]), 200u);

	auto head = Fields(out, "vaccel-agent pid [0-9]+");
	EXPECT_EQ(head["pollers"], 1);
	EXPECT_EQ(head["guests_connected"], 1);
	auto pol = Fields(out, "(?=passes )");
	ASSERT_FALSE(pol.empty());
	double passes = pol["passes"];
	EXPECT_GT(passes, 0);
	EXPECT_LE(pol["busy_passes"], passes);
	EXPECT_GT(pol["busy_passes"], 0);
	EXPECT_EQ(pol["wakeups"], pol["doorbell_wakeups"] + pol["control_wakeups"]);
	EXPECT_GE(pol["control_wakeups"], 0);
	EXPECT_GE(pol["asleep_pct"], 0);
	EXPECT_LE(pol["asleep_pct"], 100.5);
	EXPECT_LE(pol["sleeps"] + 0.0, passes);

	auto guest = Fields(out, "guest [0-9]+:");
	ASSERT_FALSE(guest.empty());
	double requests = guest["requests"], errors = guest["errors"];
	// Session inits, the calls themselves; one exec refused by the policy (a runtime error).
	EXPECT_GE(requests, noops + sgemms + 1 + 3);
	EXPECT_GE(errors, 1);
	EXPECT_EQ(guest["refused"], 0);
	EXPECT_EQ(guest["refused"] + guest["runtime_errors"], errors);
	EXPECT_EQ(guest["broken"], 0);

	auto res = Fields(out, "results");
	double sum = 0, errsum = 0;
	for (const auto &kv : res) {
		sum += kv.second;
		if (kv.first != "ok")
			errsum += kv.second;
	}
	EXPECT_EQ(sum, requests);
	EXPECT_EQ(errsum, errors);
	EXPECT_GE(res["EPERM"], 1);

	std::regex qp("qp ([0-9]+): requests ([0-9]+) errors ([0-9]+) sq_pending ([0-9]+) sq_size ([0-9]+) "
		      "cq_pending ([0-9]+) cq_size ([0-9]+)");
	double qreq = 0, qerr = 0;
	int nqp = 0;
	for (auto it = std::sregex_iterator(out.begin(), out.end(), qp); it != std::sregex_iterator(); ++it) {
		nqp++;
		qreq += std::stod((*it)[2]);
		qerr += std::stod((*it)[3]);
		// Nothing in flight now: every call above returned.
		EXPECT_EQ((*it)[4], "0");
		EXPECT_EQ((*it)[6], "0");
		EXPECT_EQ((*it)[5], "256");
	}
	EXPECT_EQ(nqp, 2);
	EXPECT_EQ(qreq, requests);
	EXPECT_EQ(qerr, errors);
	EXPECT_NE(out.find("\"unknown opcode\" 0"), std::string::npos);

	vaccel_session_release(&dbg);
	vaccel_session_release(&cpu);
	vaccel_session_release(&gen);
}

TEST_F(AgentStat, FlagsAndNoAgent)
{
	std::string out;
	EXPECT_EQ(RunProg({agent_, "stat", "--help"}, &out, tmp_), 0);
	EXPECT_NE(out.find("usage: vaccel-agent stat"), std::string::npos) << out;
	EXPECT_EQ(RunProg({agent_, "stat", "--bogus"}, &out, tmp_), 2);
	EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
	EXPECT_EQ(RunProg({agent_, "stat", "--socket", dir_ + "/nobody.sock"}, &out, tmp_), 1);
	EXPECT_NE(out.find("no agent answers"), std::string::npos) << out;
	EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
	EXPECT_EQ(RunProg({agent_, "--bogus"}, &out, tmp_), 2);
	EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

} // namespace
