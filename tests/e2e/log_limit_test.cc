// Issue 14.7: a guest cannot flood the agent's log. This one opens a session, corrupts its
// ring indices and announces a new guest process, over and over: each round makes the agent
// release a session and find corrupt indices. The lines about it are rate limited.
#include <gtest/gtest.h>

#include <unistd.h>

#include "agent_probe.h"
#include "agent_util.h"
#include "hostile_client.h"

namespace {

using e2e::Hostile;

TEST(LogLimit, AGuestResettingItselfCannotFloodTheLog)
{
	e2e::Agent agent({"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_NOOP")), "--pool", "4k:64"});
	ASSERT_TRUE(agent.ok()) << agent.Log();
	Hostile h;
	ASSERT_TRUE(h.Connect(agent.socket())) << agent.Log();
	auto *hdr = reinterpret_cast<vshm_header *>(vshm_region_base(h.reg));
	int bell = h.HostBell();
	uint64_t one = 1;
	double t0 = e2e::NowS();
	int rounds = 0;
	for (; rounds < 300; rounds++) {
		vtr_sqe s{};
		s.opcode = VTR_OP_SESS_INIT;
		ASSERT_GT(h.Call(s), 0) << "round " << rounds << "\n" << agent.Log();
		// Indices that break the ring's invariant, then a ring so the poller looks.
		__atomic_store_n(&h.qp.sq.sh->prod, h.qp.sq.head + 100000u, __ATOMIC_RELEASE);
		ASSERT_EQ(write(bell, &one, sizeof(one)), (ssize_t)sizeof(one));
		// A new guest process: the host releases the session and formats the rings again.
		uint64_t epoch = 0x1000 + (uint64_t)rounds;
		__atomic_store_n(&hdr->guest_epoch, epoch, __ATOMIC_RELEASE);
		bool acked = false;
		for (double end = e2e::NowS() + 10; e2e::NowS() < end && !acked;) {
			ASSERT_EQ(write(bell, &one, sizeof(one)), (ssize_t)sizeof(one));
			for (int k = 0; k < 1000 && !acked; k++) {
				acked = __atomic_load_n(&hdr->host_reset_ack, __ATOMIC_ACQUIRE) == epoch;
				sched_yield();
			}
		}
		ASSERT_TRUE(acked) << "round " << rounds << ": no reset answer\n" << agent.Log();
		ASSERT_TRUE(h.Reattach());
	}
	double secs = e2e::NowS() - t0;
	std::string log = agent.Log();
	// At most 20 lines per second about one guest (whatever the mix), plus the lines that
	// say how many were dropped.
	size_t about = e2e::CountLines(log, "guest 1: ") - e2e::CountLines(log, "more messages dropped");
	size_t bound = 20 * (size_t)(secs + 2);
	EXPECT_LE(about, bound) << rounds << " rounds in " << secs << " s gave " << about << " lines";
	EXPECT_GT(e2e::CountLines(log, "released 1 session(s)"), 0u) << "the first lines still show\n" << log;
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
}

} // namespace
