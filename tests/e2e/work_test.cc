// Issue 16.2 through a real agent: long ops run on worker threads. A guest's op that is
// still running (work_testlib's work_block, held on a FIFO the test controls) does not hold
// another guest; a guest killed meanwhile is released only after its op ends; SIGTERM
// waits for the op and exits 0; --max-queued refuses the op beyond the cap with EAGAIN;
// two workers run two ops at once. And inline runs (poller.c): a guest whose ops have been
// quick gets its next one run on the poller; if that one blocks, the poller's second
// thread takes over and serves the others.
#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

extern "C" {
#include <vaccel.h>
}

#include "agent_util.h"
#include "work_util.h"

namespace {

// Ops of 50 ms or less (on average) run inline here, so that the quick calls count as
// short under the sanitizers and on a busy machine too: a blocked run is taken over after
// 100 to 200 ms.
const char *const kInlineUs = "50000";

class Work : public testing::Test {
      protected:
	void SetUp() override
	{
		lib_ = e2e::Abs(e2e::Runfile("WORK_TESTLIB"));
		vaccel_cleanup();
	}
	void TearDown() override { vaccel_cleanup(); }
	// exec first: guest sessions bind to it; noop is routed to the noop plugin.
	void StartAgent(std::vector<std::string> extra = {})
	{
		std::vector<std::string> args = {
			"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_EXEC")) + ":" + e2e::Abs(e2e::Runfile("PLUGIN_NOOP")),
			"--exec-allow", lib_.substr(0, lib_.rfind('/'))};
		args.insert(args.end(), extra.begin(), extra.end());
		agent_.reset(new e2e::Agent(args, "work"));
		ASSERT_TRUE(agent_->ok()) << agent_->Log();
	}
	std::vector<std::string> GuestEnv()
	{
		return {"VACCEL_PLUGINS=" + e2e::Abs(e2e::Runfile("PLUGIN_SHM")),
			"VACCEL_SHM_SOCKET=" + agent_->socket()};
	}
	// Guest A: a process whose threads each run work_block.
	pid_t SpawnBlocker(const e2e::BlockedOp &op, int threads, const std::string &out, int warm = 0)
	{
		return e2e::Spawn({e2e::Runfile("WORK_GUEST"), lib_, op.path(), std::to_string(threads),
				   std::to_string(warm)},
				  GuestEnv(), out);
	}
	// Guest B: this process.
	void ConnectHere()
	{
		setenv("VACCEL_PLUGINS", e2e::Abs(e2e::Runfile("PLUGIN_SHM")).c_str(), 1);
		setenv("VACCEL_SHM_SOCKET", agent_->socket().c_str(), 1);
		ASSERT_EQ(vaccel_bootstrap(), VACCEL_OK);
		ASSERT_EQ(vaccel_session_init(&s_, VACCEL_PLUGIN_REMOTE), VACCEL_OK) << agent_->Log();
	}
	std::string Stat()
	{
		std::string out;
		e2e::Run({e2e::Runfile("AGENT"), "stat", "--socket", agent_->socket()}, {}, 30, &out);
		return out;
	}
	static bool Alive(pid_t pid) { return waitpid(pid, nullptr, WNOHANG) == 0; }
	// Inline runs need CAP_SYS_NICE: without it the agent runs with them off (and says so).
	void SkipUnlessInline()
	{
		if (Stat().find("inline on ") == std::string::npos)
			GTEST_SKIP() << "inline runs are off here (no CAP_SYS_NICE?)\n" << Stat();
	}
	// The number after key (e.g. "inline_runs ") in the stat text, 0 if missing.
	uint64_t StatCount(const std::string &key)
	{
		std::string st = Stat();
		size_t at = st.find(key);
		return at == std::string::npos ? 0 : std::stoull(st.substr(at + key.size()));
	}
	uint64_t InlineRuns() { return StatCount("inline_runs "); }
	// An agent with inline runs, and guest *a: 50 quick calls (so that its ops are
	// expected short), then one that blocks on op. False when skipped (inline runs off
	// here) or when the op never started.
	bool StartInlineBlocker(e2e::BlockedOp &op, const std::string &out, pid_t *a)
	{
		StartAgent({"--inline-us", kInlineUs});
		SkipUnlessInline();
		if (IsSkipped())
			return false;
		*a = SpawnBlocker(op, 1, out, 50);
		if (op.WaitStarted())
			return true;
		ADD_FAILURE() << "its op never started\n" << agent_->Log() << e2e::ReadFile(out);
		return false;
	}
	// A guest of 50 quick calls only.
	pid_t SpawnQuick(const e2e::BlockedOp &op, const std::string &out)
	{
		return e2e::Spawn({e2e::Runfile("WORK_GUEST"), lib_, op.path(), "0", "50"}, GuestEnv(), out);
	}
	// SIGTERM while guest a's op blocks: the agent waits for the op, completes it to a
	// (which prints it to out) and exits 0.
	void TermWhileBlocked(e2e::BlockedOp &op, pid_t a, const std::string &out)
	{
		kill(agent_->pid(), SIGTERM);
		auto log = [&] { return agent_->Log(); };
		ASSERT_TRUE(e2e::WaitFor(log, "finishing in-flight requests")) << agent_->Log();
		EXPECT_TRUE(Alive(agent_->pid())) << "the agent left with an op running\n" << agent_->Log();
		ASSERT_TRUE(op.Release());
		EXPECT_EQ(agent_->Stop(), 0) << agent_->Log();
		EXPECT_EQ(e2e::Wait(a, 60), 0) << e2e::ReadFile(out) << agent_->Log();
		EXPECT_NE(e2e::ReadFile(out).find("ret 0 out 7"), std::string::npos) << e2e::ReadFile(out);
	}

	std::string lib_;
	std::unique_ptr<e2e::Agent> agent_;
	vaccel_session s_{};
};

TEST_F(Work, LongOpOfOneGuestDoesNotHoldAnother)
{
	StartAgent();
	e2e::BlockedOp op(e2e::TmpPath("order"));
	std::string out = e2e::TmpPath("order-a.log");
	pid_t a = SpawnBlocker(op, 1, out);
	ASSERT_TRUE(op.WaitStarted()) << "guest A's op never started\n" << agent_->Log() << e2e::ReadFile(out);
	ConnectHere();
	// A's op is running (it has not been released): B's noops complete all the same.
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(vaccel_noop(&s_), VACCEL_OK) << agent_->Log();
	EXPECT_TRUE(Alive(a)) << "A returned before its op was released";
	std::string st = Stat();
	EXPECT_NE(st.find("workers: queued 0 running 1"), std::string::npos) << st;
	EXPECT_NE(st.find("route noop -> noop"), std::string::npos) << st;
	ASSERT_TRUE(op.Release());
	EXPECT_EQ(e2e::Wait(a, 60), 0) << e2e::ReadFile(out);
	EXPECT_NE(e2e::ReadFile(out).find("ret 0 out 7"), std::string::npos) << e2e::ReadFile(out);
	vaccel_session_release(&s_);
	EXPECT_EQ(agent_->Stop(), 0) << agent_->Log();
}

// A guest whose only request is on a worker is parked by its poller (no requests for the
// spin budget); the result must still be completed to it (work_drain does not walk the
// active list) and wake it.
TEST_F(Work, ParkedGuestGetsItsWorkerResult)
{
	StartAgent();
	e2e::BlockedOp op(e2e::TmpPath("parked"));
	std::string out = e2e::TmpPath("parked-a.log");
	pid_t a = SpawnBlocker(op, 1, out);
	ASSERT_TRUE(op.WaitStarted()) << agent_->Log() << e2e::ReadFile(out);
	auto stat = [&] { return Stat(); };
	ASSERT_TRUE(e2e::WaitFor(stat, "parked 1")) << Stat();
	EXPECT_NE(Stat().find("workers: queued 0 running 1"), std::string::npos) << Stat();
	ASSERT_TRUE(op.Release());
	EXPECT_EQ(e2e::Wait(a, 60), 0) << e2e::ReadFile(out) << agent_->Log();
	EXPECT_NE(e2e::ReadFile(out).find("ret 0 out 7"), std::string::npos) << e2e::ReadFile(out);
	EXPECT_EQ(agent_->Stop(), 0) << agent_->Log();
}

TEST_F(Work, GuestKilledWhileItsOpRunsIsReleasedAfterTheOp)
{
	StartAgent();
	e2e::BlockedOp op(e2e::TmpPath("death"));
	std::string out = e2e::TmpPath("death-a.log");
	pid_t a = SpawnBlocker(op, 1, out);
	ASSERT_TRUE(op.WaitStarted()) << agent_->Log() << e2e::ReadFile(out);
	kill(a, SIGKILL);
	e2e::Wait(a, 30);
	auto log = [&] { return agent_->Log(); };
	ASSERT_TRUE(e2e::WaitFor(log, "left with 0 op(s) queued (dropped) and 1 running")) << agent_->Log();
	ConnectHere();
	EXPECT_EQ(vaccel_noop(&s_), VACCEL_OK) << agent_->Log();
	// Not released yet: its op still runs.
	EXPECT_EQ(agent_->Log().find("dropped 1 result(s)"), std::string::npos) << agent_->Log();
	ASSERT_TRUE(op.Release());
	ASSERT_TRUE(e2e::WaitFor(log, "dropped 1 result(s) of ops that ended after it left")) << agent_->Log();
	EXPECT_EQ(vaccel_noop(&s_), VACCEL_OK) << agent_->Log();
	vaccel_session_release(&s_);
	EXPECT_EQ(agent_->Stop(), 0) << agent_->Log();
}

TEST_F(Work, SigtermWaitsForBusyWorkersThenExitsZero)
{
	StartAgent();
	e2e::BlockedOp op(e2e::TmpPath("term"));
	std::string out = e2e::TmpPath("term-a.log");
	pid_t a = SpawnBlocker(op, 1, out);
	ASSERT_TRUE(op.WaitStarted()) << agent_->Log() << e2e::ReadFile(out);
	TermWhileBlocked(op, a, out);
}

// Which worker takes a call is a choice (the one that ran the last, when it is free); with
// two workers and two ops, both must run at once all the same, and a third, queued
// behind them, on whichever comes free first.
TEST_F(Work, TwoWorkersRunTwoOpsAtOnceAndThenTheThird)
{
	StartAgent({"--workers", "2"});
	e2e::BlockedOp op(e2e::TmpPath("two"));
	std::string out = e2e::TmpPath("two-a.log");
	pid_t a = SpawnBlocker(op, 3, out);
	ASSERT_TRUE(op.WaitStarted()) << agent_->Log() << e2e::ReadFile(out);
	ASSERT_TRUE(op.WaitStarted()) << "the second op did not start while the first ran\n"
				      << Stat() << agent_->Log();
	auto stat = [&] { return Stat(); };
	ASSERT_TRUE(e2e::WaitFor(stat, "workers 2: queued 1 running 2")) << Stat();
	ASSERT_TRUE(op.Release());
	ASSERT_TRUE(op.WaitStarted()) << "the third op never ran\n" << Stat() << agent_->Log();
	// Two ops wait on one FIFO now: a release byte can be lost to one that saw the
	// previous writer's EOF and closes as the byte arrives. Release until all three
	// have answered.
	auto done = [&] {
		std::string o = e2e::ReadFile(out);
		size_t ok = 0;
		for (size_t p = o.find("ret 0 out 7"); p != std::string::npos; p = o.find("ret 0 out 7", p + 1))
			ok++;
		return ok;
	};
	for (time_t end = time(nullptr) + 60; done() < 3 && time(nullptr) < end;) {
		size_t before = done();
		op.Release(1);
		// Its answer; after 1 s without one, the byte may have been lost: again.
		e2e::WaitFor([&] { return done() > before; }, 1.0);
	}
	EXPECT_EQ(done(), 3u) << e2e::ReadFile(out) << agent_->Log();
	EXPECT_EQ(e2e::Wait(a, 60), 0) << e2e::ReadFile(out) << agent_->Log();
	EXPECT_EQ(agent_->Stop(), 0) << agent_->Log();
}

TEST_F(Work, OpsBeyondTheCapGetEagain)
{
	StartAgent({"--workers", "1", "--max-queued", "2"});
	e2e::BlockedOp op(e2e::TmpPath("cap"));
	std::string out = e2e::TmpPath("cap-a.log");
	pid_t a = SpawnBlocker(op, 3, out);
	ASSERT_TRUE(op.WaitStarted()) << agent_->Log() << e2e::ReadFile(out);
	// One running, one queued behind it on the single worker: the third is refused.
	auto text = [&] { return e2e::ReadFile(out); };
	ASSERT_TRUE(e2e::WaitFor(text, "ret " + std::to_string(VACCEL_EAGAIN) + " out 0"))
		<< e2e::ReadFile(out) << agent_->Log();
	EXPECT_NE(agent_->Log().find("(--max-queued)"), std::string::npos) << agent_->Log();
	ASSERT_TRUE(op.Release());
	ASSERT_TRUE(op.WaitStarted()) << "the queued op never ran\n" << agent_->Log();
	ASSERT_TRUE(op.Release()) << e2e::ReadFile(out) << agent_->Log();
	EXPECT_EQ(e2e::Wait(a, 60), 1) << e2e::ReadFile(out);
	std::string o = e2e::ReadFile(out);
	size_t ok = 0;
	for (size_t p = o.find("ret 0 out 7"); p != std::string::npos; p = o.find("ret 0 out 7", p + 1))
		ok++;
	EXPECT_EQ(ok, 2u) << o;
	EXPECT_EQ(agent_->Stop(), 0) << agent_->Log();
}

// 50 quick calls first: the guest's ops are expected short, so its blocking op runs on the
// poller itself (a solo run: the guest is alone). Another guest connects: the watchdog,
// woken by the news, takes the poller's role over, and the newcomer is served while that
// op still blocks.
TEST_F(Work, InlineRunThatBlocksIsTakenOver)
{
	e2e::BlockedOp op(e2e::TmpPath("inline"));
	std::string out = e2e::TmpPath("inline-a.log");
	pid_t a;
	if (!StartInlineBlocker(op, out, &a))
		return;
	ConnectHere();
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(vaccel_noop(&s_), VACCEL_OK) << agent_->Log();
	EXPECT_TRUE(Alive(a)) << "A returned before its op was released";
	std::string st = Stat();
	EXPECT_NE(st.find("inline on inline_runs "), std::string::npos) << st;
	EXPECT_NE(st.find(" takeovers 1\n"), std::string::npos) << st;
	EXPECT_NE(st.find("workers: queued 0 running 0"), std::string::npos) << st; // not a worker's
	ASSERT_TRUE(op.Release());
	EXPECT_EQ(e2e::Wait(a, 60), 0) << e2e::ReadFile(out) << agent_->Log();
	EXPECT_NE(e2e::ReadFile(out).find("ret 0 out 7"), std::string::npos) << e2e::ReadFile(out);
	// The thread that ran it watches again: another guest's quick calls run inline once
	// more (none would without a watchdog waiting).
	uint64_t before = InlineRuns();
	std::string out2 = e2e::TmpPath("inline-c.log");
	pid_t c = SpawnQuick(op, out2);
	EXPECT_EQ(e2e::Wait(c, 60), 0) << e2e::ReadFile(out2) << agent_->Log();
	EXPECT_GT(InlineRuns(), before + 10) << Stat();
	vaccel_session_release(&s_);
	EXPECT_EQ(agent_->Stop(), 0) << agent_->Log();
}

// A guest alone on its poller stalls no one: after the first op of a kind (a worker's),
// its ops run on the poller itself whatever their length, unwatched (solo runs: no
// hand-over to a worker and back, no watchdog ticks).
TEST_F(Work, ALoneGuestsOpsRunOnThePoller)
{
	StartAgent();
	SkipUnlessInline();
	e2e::BlockedOp op(e2e::TmpPath("solo"));
	std::string out = e2e::TmpPath("solo-a.log");
	pid_t a = SpawnQuick(op, out);
	EXPECT_EQ(e2e::Wait(a, 60), 0) << e2e::ReadFile(out) << agent_->Log();
	// All but the first, unless the watchdog was not yet waiting (a busy machine).
	EXPECT_GE(StatCount("solo_runs "), 25u) << Stat();
	EXPECT_EQ(StatCount("takeovers "), 0u) << Stat();
	EXPECT_EQ(agent_->Stop(), 0) << agent_->Log();
}

// SIGTERM with a taken-over run still blocked: the agent waits for it, completes it to its
// guest, and both poller threads end (exit 0).
TEST_F(Work, SigtermWaitsForATakenOverRun)
{
	e2e::BlockedOp op(e2e::TmpPath("inline-term"));
	std::string out = e2e::TmpPath("inline-term-a.log");
	pid_t a;
	if (!StartInlineBlocker(op, out, &a))
		return;
	auto stat = [&] { return Stat(); };
	ASSERT_TRUE(e2e::WaitFor(stat, " takeovers 1\n")) << Stat();
	TermWhileBlocked(op, a, out);
}

} // namespace
