// Issue 14.4: each guest rings the host through an eventfd of its own, and the host never
// blocks on one. A guest that reads its doorbell in a loop, makes it blocking, or fills the
// host's doorbell to it until a write would block, delays nobody but itself.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "agent_util.h"
#include "hostile_client.h"

namespace {

using e2e::Hostile;

double Now()
{
	timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

std::vector<std::string> Args()
{
	return {"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_NOOP")), "--pool", "4k:64"};
}

// Waits (up to 10 s) until the poller has announced sleep on h's SQ: its next request must
// ring the doorbell, which is what these tests are about.
bool WaitHostAsleep(Hostile &h)
{
	for (double end = Now() + 10; Now() < end;) {
		if (__atomic_load_n(&h.qp.sq.sh->cons_wake, __ATOMIC_ACQUIRE))
			return true;
		sched_yield();
	}
	return false;
}

// Makes eventfd fd full (a write of 1 would block) and blocking. The count is drained
// first (non-blocking) so the write of the largest value fits.
bool Fill(int fd)
{
	uint64_t v, full = 0xfffffffffffffffeull;
	if (fcntl(fd, F_SETFL, O_NONBLOCK))
		return false;
	while (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v)) {
	}
	return write(fd, &full, sizeof(full)) == (ssize_t)sizeof(full) && fcntl(fd, F_SETFL, 0) == 0;
}

// A request no plugin serves: it completes at once with -ENOSYS.
TEST(DoorbellIsolation, AThiefReadingItsDoorbellDelaysNobody)
{
	e2e::Agent agent(Args());
	ASSERT_TRUE(agent.ok()) << agent.Log();
	Hostile thief, victim;
	ASSERT_TRUE(thief.Connect(agent.socket())) << agent.Log();
	ASSERT_TRUE(victim.Connect(agent.socket())) << agent.Log();
	int bell = thief.HostBell();
	ASSERT_GE(bell, 0);
	// Blocking reads from two threads: if the victim's doorbells went to this fd, these
	// would take them before the poller saw them.
	ASSERT_EQ(fcntl(bell, F_SETFL, 0), 0);
	std::atomic<bool> stop{false};
	std::atomic<int> exited{0};
	std::vector<std::thread> readers;
	for (int i = 0; i < 2; i++)
		readers.emplace_back([&] {
			uint64_t v;
			while (!stop.load())
				if (read(bell, &v, sizeof(v)) < 0)
					break;
			exited++;
		});
	// 30 calls, each made while the poller sleeps: each needs the victim's doorbell. If a
	// thief could steal them, each would wait for the poller's 1 s timeout (30 s in all).
	double t0 = Now();
	int done = 0;
	for (int i = 0; i < 30 && Now() - t0 < 20; i++) {
		ASSERT_TRUE(WaitHostAsleep(victim)) << agent.Log();
		ASSERT_EQ(victim.Call(e2e::UnknownOpSqe()), -ENOSYS) << agent.Log();
		done++;
	}
	EXPECT_EQ(done, 30) << "the victim's calls waited for the poller's timeout: its doorbells were stolen";
	stop = true;
	// One read takes the whole count: two quick writes can wake one reader only, so keep
	// writing until every reader has seen stop.
	while (exited.load() < (int)readers.size()) {
		uint64_t one = 1;
		ASSERT_EQ(write(bell, &one, sizeof(one)), (ssize_t)sizeof(one));
		sched_yield();
	}
	for (auto &t : readers)
		t.join();
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
}

TEST(DoorbellIsolation, AFullBlockingDoorbellDoesNotStallTheAgent)
{
	e2e::Agent agent(Args());
	ASSERT_TRUE(agent.ok()) << agent.Log();
	Hostile thief;
	ASSERT_TRUE(thief.Connect(agent.socket())) << agent.Log();
	// The host's doorbell to the thief: blocking and full, so a plain write would block.
	int own = thief.cli.own_fds[0];
	ASSERT_GE(own, 0);
	ASSERT_TRUE(Fill(own));
	int bell = thief.HostBell();
	// The thief says it sleeps on its CQ and submits: its completion asks for a doorbell.
	ASSERT_TRUE(WaitHostAsleep(thief)) << agent.Log();
	__atomic_store_n(&thief.qp.cq.sh->cons_wake, 1u, __ATOMIC_SEQ_CST);
	vtr_sqe s = e2e::UnknownOpSqe();
	s.user_data = 1;
	ASSERT_EQ(vtr_qp_submit(&thief.qp, &s, 1), 1);
	// Its doorbell to the host: blocking too, and full, so the agent can't use it either.
	ASSERT_TRUE(Fill(bell));
	// Wait for the thief's completion (the event that the host tried to ring it).
	bool completed = false;
	for (double end = Now() + 10; Now() < end && !completed;) {
		completed = vtr_qp_cq_peek(&thief.qp) > 0;
		sched_yield();
	}
	ASSERT_TRUE(completed) << agent.Log();
	// New guests connect and are served, one after another.
	for (int i = 0; i < 3; i++) {
		Hostile g;
		ASSERT_TRUE(g.Connect(agent.socket())) << "guest " << i << " could not connect\n" << agent.Log();
		for (int k = 0; k < 5; k++) {
			ASSERT_TRUE(WaitHostAsleep(g)) << agent.Log();
			ASSERT_EQ(g.Call(e2e::UnknownOpSqe()), -ENOSYS) << "guest " << i << " call " << k << "\n" << agent.Log();
		}
	}
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
}

} // namespace
