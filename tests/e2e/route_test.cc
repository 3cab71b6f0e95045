// Issue 16.1 through a real agent: each op of a guest session goes to a plugin that
// implements it (the session's own first, then --plugins order, --route overriding), and
// the README's "Running it" commands work exactly as written.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern "C" {
#include <vaccel.h>
}

#include "agent_util.h"

namespace {

std::string Stat(const e2e::Agent &a)
{
	std::string out;
	e2e::Run({e2e::Runfile("AGENT"), "stat", "--socket", a.socket()}, {}, 30, &out);
	return out;
}

// vaccel_exec(mytestfunc, 21) through an agent; *y is what came back.
int Exec21(const e2e::Agent &a, int *y)
{
	std::string lib = e2e::Abs(e2e::Runfile("TESTLIB"));
	vaccel_session s{};
	int x = 21;
	vaccel_cleanup();
	setenv("VACCEL_PLUGINS", e2e::Abs(e2e::Runfile("PLUGIN_SHM")).c_str(), 1);
	setenv("VACCEL_SHM_SOCKET", a.socket().c_str(), 1);
	if (vaccel_bootstrap() || vaccel_session_init(&s, VACCEL_PLUGIN_REMOTE))
		return -1;
	vaccel_arg rd[1] = {{&x, sizeof(x), VACCEL_ARG_INT32, 0, false}};
	vaccel_arg wr[1] = {{y, sizeof(*y), VACCEL_ARG_INT32, 0, false}};
	int ret = vaccel_exec(&s, lib.c_str(), "mytestfunc", rd, 1, wr, 1);
	vaccel_session_release(&s);
	vaccel_cleanup();
	return ret;
}

std::vector<std::string> Plugins(const std::vector<const char *> &names)
{
	std::string list;
	for (const char *n : names)
		list += (list.empty() ? "" : ":") + e2e::Abs(e2e::Runfile(n));
	return {"--plugins", list};
}

TEST(Route, ExecGoesToThePluginThatHasIt)
{
	std::string lib = e2e::Abs(e2e::Runfile("TESTLIB"));
	std::vector<std::string> args = Plugins({"PLUGIN_BLAS", "PLUGIN_EXEC"});
	args.insert(args.end(), {"--exec-allow", lib.substr(0, lib.rfind('/'))});
	e2e::Agent a(args, "route");
	ASSERT_TRUE(a.ok()) << a.Log();
	int y = 0;
	// The session binds to blas (first); exec is not in it, but in exec.
	EXPECT_EQ(Exec21(a, &y), VACCEL_OK) << a.Log();
	EXPECT_EQ(y, 42);
	std::string st = Stat(a);
	EXPECT_NE(st.find("route exec -> exec\n"), std::string::npos) << st;
	EXPECT_NE(st.find("route blas_sgemm -> blas\n"), std::string::npos) << st;
	EXPECT_EQ(a.Stop(), 0) << a.Log();
}

TEST(Route, OverrideSendsTheOpWhereTheOperatorSays)
{
	std::string lib = e2e::Abs(e2e::Runfile("TESTLIB"));
	std::vector<std::string> args = Plugins({"PLUGIN_EXEC", "PLUGIN_NOOP"});
	args.insert(args.end(), {"--exec-allow", lib.substr(0, lib.rfind('/')), "--route", "exec=noop"});
	e2e::Agent a(args, "route");
	ASSERT_TRUE(a.ok()) << a.Log();
	int y = 0;
	// The noop plugin's exec succeeds without calling the library: no 42.
	EXPECT_EQ(Exec21(a, &y), VACCEL_OK) << a.Log();
	EXPECT_NE(y, 42) << "exec ran on the exec plugin despite --route exec=noop";
	std::string st = Stat(a);
	EXPECT_NE(st.find("route exec -> noop (forced by --route)"), std::string::npos) << st;
	EXPECT_NE(st.find("route noop -> noop\n"), std::string::npos) << st;
	EXPECT_EQ(a.Stop(), 0) << a.Log();
}

TEST(Route, AnOpNoPluginHasIsNotSupported)
{
	e2e::Agent a(Plugins({"PLUGIN_BLAS"}), "route");
	ASSERT_TRUE(a.ok()) << a.Log();
	vaccel_session s{};
	int x = 21, y = 0;
	vaccel_cleanup();
	setenv("VACCEL_PLUGINS", e2e::Abs(e2e::Runfile("PLUGIN_SHM")).c_str(), 1);
	setenv("VACCEL_SHM_SOCKET", a.socket().c_str(), 1);
	ASSERT_EQ(vaccel_bootstrap(), VACCEL_OK);
	ASSERT_EQ(vaccel_session_init(&s, VACCEL_PLUGIN_REMOTE), VACCEL_OK) << a.Log();
	EXPECT_EQ(vaccel_noop(&s), VACCEL_ENOTSUP);
	vaccel_arg rd[1] = {{&x, sizeof(x), VACCEL_ARG_INT32, 0, false}};
	vaccel_arg wr[1] = {{&y, sizeof(y), VACCEL_ARG_INT32, 0, false}};
	std::string lib = e2e::Abs(e2e::Runfile("TESTLIB"));
	EXPECT_EQ(vaccel_exec(&s, lib.c_str(), "mytestfunc", rd, 1, wr, 1), VACCEL_ENOTSUP);
	vaccel_session_release(&s);
	vaccel_cleanup();
	EXPECT_EQ(a.Stop(), 0) << a.Log();
}

TEST(Route, BadRoutesAreRefusedAtStart)
{
	struct {
		const char *route, *msg;
	} cases[] = {
		{"nosuchop=exec", "no such op"},
		{"exec=nosuchplugin", "no loaded plugin is called 'nosuchplugin'"},
		{"blas_sgemm=exec", "plugin exec does not implement blas_sgemm"},
		{"exec", "--route wants OP=PLUGIN"},
	};
	for (const auto &c : cases) {
		std::string out;
		std::vector<std::string> argv = {e2e::Runfile("AGENT"), "--socket", e2e::SockPath("bad.sock")};
		for (const auto &p : Plugins({"PLUGIN_EXEC"}))
			argv.push_back(p);
		argv.insert(argv.end(), {"--route", c.route});
		EXPECT_EQ(e2e::Run(argv, {"VACCEL_PLUGINS="}, 30, &out), 2) << c.route << "\n" << out;
		EXPECT_NE(out.find(c.msg), std::string::npos) << c.route << "\n" << out;
	}
}

// The README's block, run as a shell script with $B the runfiles tree (which has the
// same layout as bazel-bin) instead of building, and a socket of this test's own.
TEST(Route, ReadmeRunningItCommandsWorkAsWritten)
{
	std::ifstream f(e2e::Runfile("README"));
	ASSERT_TRUE(f.good()) << "README.md not in the runfiles";
	std::string line, script;
	bool in = false;
	while (std::getline(f, line)) {
		if (line == "    B=$PWD/bazel-bin") {
			in = true;
			continue;
		}
		if (in && line.empty())
			break;
		if (in)
			script += line.substr(line.compare(0, 4, "    ") ? 0 : 4) + "\n";
	}
	ASSERT_NE(script.find("vaccel-agent --socket /tmp/vaccel.sock"), std::string::npos) << script;
	std::string sock = e2e::SockPath("readme.sock");
	for (size_t p; (p = script.find("/tmp/vaccel.sock")) != std::string::npos;)
		script.replace(p, 16, sock);
	// The agent is started in the background: wait for its socket before the guest lines
	// (a reader types slower than a script), and stop it at the end.
	size_t amp = script.find("&\n");
	ASSERT_NE(amp, std::string::npos) << script;
	script.insert(amp + 2, "AGENT=$!\nfor i in $(seq 300); do [ -S " + sock +
				       " ] && break; sleep 0.1; done\n");
	std::string agent = e2e::Abs(e2e::Runfile("AGENT"));
	std::string root = agent.substr(0, agent.size() - std::string("/runtime/agent/vaccel-agent").size());
	script = "set -e\nB=" + root + "\n" + script + "kill -TERM $AGENT\nwait $AGENT\n";
	std::string out;
	EXPECT_EQ(e2e::Run({"/bin/bash", "-c", script}, {"OPENBLAS_NUM_THREADS=1"}, 120, &out), 0)
		<< script << "\n" << out;
	EXPECT_NE(out.find("check OK"), std::string::npos) << out;
	EXPECT_NE(out.find("mytestfunc(21) = 42"), std::string::npos) << out;
	EXPECT_EQ(out.find("failed"), std::string::npos) << out;
}

} // namespace
