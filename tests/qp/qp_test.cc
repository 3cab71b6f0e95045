// Queue pair: round trip, the in-flight limit (also against a guest that ignores it),
// completions read in place, room for staging, and the wait ladder: thousands of sleep/wake
// cycles with random timing lose no wake-up.
#include <gtest/gtest.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include "qp_test_util.h"

namespace {

TEST(Qp, RoundTripCarriesUserData)
{
	Pair p(8, 8);
	vtr_sqe s = Sqe(0xfeedf00dcafeull);
	s.inl[31] = 0x5a;
	ASSERT_EQ(vtr_qp_submit(&p.guest, &s, 1), 1);
	EXPECT_EQ(p.guest.inflight, 1u);
	vtr_sqe got[4];
	ASSERT_EQ(vtr_qp_host_take(&p.host, got, 4), 1);
	EXPECT_EQ(got[0].user_data, s.user_data);
	EXPECT_EQ(got[0].inl[31], 0x5a);
	vtr_cqe c{got[0].user_data, -22, 0};
	ASSERT_EQ(vtr_qp_host_complete(&p.host, &c, 1), 1);
	vtr_cqe out{};
	ASSERT_EQ(vtr_qp_reap(&p.guest, &out, 1), 1);
	EXPECT_EQ(out.user_data, s.user_data);
	EXPECT_EQ(out.res, -22);
	EXPECT_EQ(p.guest.inflight, 0u);
}

TEST(Qp, InFlightNeverExceedsCompletionRing)
{
	Pair p(16, 4);
	std::vector<vtr_sqe> s;
	for (int i = 0; i < 10; i++)
		s.push_back(Sqe(i));
	EXPECT_EQ(vtr_qp_submit(&p.guest, s.data(), 10), 4) << "only as many as the CQ holds";
	EXPECT_EQ(vtr_qp_submit(&p.guest, s.data(), 1), 0) << "caller must reap first";
	vtr_sqe got[16];
	ASSERT_EQ(vtr_qp_host_take(&p.host, got, 16), 4);
	std::vector<vtr_cqe> c(4);
	for (int i = 0; i < 4; i++)
		c[i] = vtr_cqe{got[i].user_data, 0, 0};
	ASSERT_EQ(vtr_qp_host_complete(&p.host, c.data(), 4), 4);
	vtr_cqe out[8];
	ASSERT_EQ(vtr_qp_reap(&p.guest, out, 8), 4);
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(out[i].user_data, (uint64_t)i) << "completions in order here";
	EXPECT_EQ(vtr_qp_submit(&p.guest, s.data() + 4, 6), 4);
}

TEST(Qp, HostNeverOverflowsCqOfAGuestThatIgnoresTheLimit)
{
	Pair p(16, 4);
	// A misbehaving guest pushes straight into the SQ, past the in-flight limit.
	for (int i = 0; i < 12; i++) {
		vtr_sqe s = Sqe(100 + i);
		ASSERT_EQ(vtr_ring_push(&p.guest.sq, &s), 1);
	}
	vtr_sqe got[16];
	ASSERT_EQ(vtr_qp_host_take(&p.host, got, 16), 4) << "take only what the CQ can answer";
	std::vector<vtr_cqe> c;
	for (int i = 0; i < 4; i++)
		c.push_back(vtr_cqe{got[i].user_data, 0, 0});
	ASSERT_EQ(vtr_qp_host_complete(&p.host, c.data(), 4), 4);
	EXPECT_EQ(vtr_qp_host_take(&p.host, got, 16), 0) << "CQ full: the rest waits in the SQ";
	vtr_cqe out[4];
	ASSERT_EQ(vtr_ring_pop_burst(&p.guest.cq, out, 4), 4);
	EXPECT_EQ(vtr_qp_host_take(&p.host, got, 16), 4) << "room again: taken in order";
	EXPECT_EQ(got[0].user_data, 104u);
}

// The guest reads completions in place: peek, each CQE where it lies (across the end of
// the ring too), one advance that frees the host's CQ slots and the in-flight count.
TEST(Qp, CompletionsAreReadInPlace)
{
	Pair p(8, 4);
	for (uint64_t round = 0; round < 3; round++) {
		std::vector<vtr_sqe> s;
		for (uint64_t i = 0; i < 3; i++)
			s.push_back(Sqe(round * 10 + i));
		ASSERT_EQ(vtr_qp_submit(&p.guest, s.data(), 3), 3);
		vtr_sqe got[3];
		ASSERT_EQ(vtr_qp_host_take(&p.host, got, 3), 3);
		vtr_cqe c[3];
		for (int i = 0; i < 3; i++)
			c[i] = vtr_cqe{got[i].user_data, -(int32_t)i, 0};
		ASSERT_EQ(vtr_qp_host_complete(&p.host, c, 3), 3);
		ASSERT_EQ(vtr_qp_cq_peek(&p.guest), 3);
		vtr_cq_view v = vtr_qp_cq_view(&p.guest);
		for (uint32_t i = 0; i < 3; i++) {
			EXPECT_EQ(vtr_qp_cqe(&p.guest, i)->user_data, round * 10 + i);
			EXPECT_EQ(v.cqes[(v.first + i) & v.mask].res, -(int32_t)i);
		}
		EXPECT_EQ(p.guest.inflight, 3u);
		vtr_qp_cq_advance(&p.guest, 3);
		EXPECT_EQ(p.guest.inflight, 0u);
		EXPECT_EQ(vtr_qp_cq_peek(&p.guest), 0);
	}
	// The host sees the slots given back: a full CQ's worth fits again.
	std::vector<vtr_sqe> s(4, Sqe(99));
	ASSERT_EQ(vtr_qp_submit(&p.guest, s.data(), 4), 4);
	vtr_sqe got[4];
	EXPECT_EQ(vtr_qp_host_take(&p.host, got, 4), 4);
}

// Room for staging: the in-flight limit (CQ) and the SQ's free slots, whichever is smaller,
// counting what is already staged.
TEST(Qp, StageRoomCountsBothLimits)
{
	Pair cq_bound(16, 4), sq_bound(4, 16);
	EXPECT_EQ(vtr_qp_stage_room(&cq_bound.guest, 0), 4u);
	EXPECT_EQ(vtr_qp_stage_room(&cq_bound.guest, 3), 1u);
	EXPECT_EQ(vtr_qp_stage_room(&cq_bound.guest, 4), 0u);
	EXPECT_EQ(vtr_qp_stage_room(&sq_bound.guest, 0), 4u);
	EXPECT_EQ(vtr_qp_stage_room(&sq_bound.guest, 1), 3u);
	// Staged slots are what vtr_qp_sqe_at names; publishing them keeps the count.
	for (uint32_t k = 0; k < 2; k++)
		*vtr_qp_sqe_at(&cq_bound.guest, k) = Sqe(k);
	vtr_qp_publish(&cq_bound.guest, 2);
	EXPECT_EQ(vtr_qp_stage_room(&cq_bound.guest, 0), 2u);
	vtr_sqe got[2];
	ASSERT_EQ(vtr_qp_host_take(&cq_bound.host, got, 2), 2);
	EXPECT_EQ(got[1].user_data, 1u);
	vtr_cqe c[2] = {{0, 0, 0}, {1, 0, 0}};
	ASSERT_EQ(vtr_qp_host_complete(&cq_bound.host, c, 2), 2);
	EXPECT_EQ(vtr_qp_stage_room(&cq_bound.guest, 0), 2u) << "not reaped yet: still in flight";
	vtr_qp_cq_advance(&cq_bound.guest, (uint32_t)vtr_qp_cq_peek(&cq_bound.guest));
	EXPECT_EQ(vtr_qp_stage_room(&cq_bound.guest, 0), 4u);
}

TEST(Qp, ClaimIsExclusive)
{
	Pair p(8, 8);
	EXPECT_EQ(vtr_qp_claim(p.guest.sh, 7), 0);
	EXPECT_EQ(vtr_qp_claim(p.guest.sh, 8), -EBUSY);
	vtr_qp_unclaim(p.guest.sh, 8); // not the owner: no effect
	EXPECT_EQ(vtr_qp_claim(p.guest.sh, 9), -EBUSY);
	vtr_qp_unclaim(p.guest.sh, 7);
	EXPECT_EQ(vtr_qp_claim(p.guest.sh, 9), 0);
	EXPECT_EQ(vtr_qp_claim(p.guest.sh, 0), -EINVAL);
}

TEST(Qp, BadGeometryRefused)
{
	std::vector<char> buf(1 << 16);
	void *mem = aligned_alloc(64, 1 << 16);
	vtr_qp q;
	EXPECT_EQ(vtr_qp_format(mem, 1 << 16, 12, 8), -EINVAL) << "SQ not a power of two";
	EXPECT_EQ(vtr_qp_format(mem, 64, 8, 8), -EINVAL) << "area too small";
	ASSERT_EQ(vtr_qp_format(mem, 1 << 16, 8, 8), 0);
	EXPECT_EQ(vtr_qp_attach(&q, mem, 100, 8, 8, VTR_QP_GUEST, -1, nullptr), -EINVAL);
	free(mem);
}

// The two interleavings of the sleep handshake, step by step. Together with the random test
// below they show that no order of (publish, kick) and (announce, re-check) loses a wake-up.
TEST(QpWaitLadder, PublishBeforeAnnounceIsSeenByTheRecheck)
{
	Pair p(8, 8, true);
	vtr_cqe c;
	ASSERT_EQ(vtr_qp_reap(&p.guest, &c, 1), 0); // guest's last poll: empty
	vtr_sqe s = Sqe(1);
	ASSERT_EQ(vtr_qp_submit(&p.guest, &s, 1), 1);
	vtr_sqe got;
	ASSERT_EQ(vtr_qp_host_take(&p.host, &got, 1), 1);
	vtr_cqe done{got.user_data, 0, 0};
	ASSERT_EQ(vtr_qp_host_complete(&p.host, &done, 1), 1); // flag clear: no doorbell
	EXPECT_EQ(p.host.doorbells, 0u);
	EXPECT_EQ(vtr_qp_announce_sleep(&p.guest.cq), 1)
		<< "the re-check after announcing must find the completion, or the guest sleeps forever";
	EXPECT_EQ(p.guest.cq.sh->cons_wake, 0u) << "flag withdrawn when not sleeping";
}

TEST(QpWaitLadder, AnnounceBeforePublishGetsADoorbell)
{
	Pair p(8, 8, true);
	vtr_sqe s = Sqe(2);
	ASSERT_EQ(vtr_qp_submit(&p.guest, &s, 1), 1);
	ASSERT_EQ(vtr_qp_announce_sleep(&p.guest.cq), 0) << "nothing yet: may sleep";
	vtr_sqe got;
	ASSERT_EQ(vtr_qp_host_take(&p.host, &got, 1), 1);
	vtr_cqe done{got.user_data, 0, 0};
	ASSERT_EQ(vtr_qp_host_complete(&p.host, &done, 1), 1);
	EXPECT_EQ(p.host.doorbells, 1u) << "a sleeping guest must be rung";
	EXPECT_EQ(vtr_qp_sleep(&p.guest, 1000), 0) << "the doorbell wakes the sleeper at once";
	vtr_qp_wake_done(&p.guest.cq);
	vtr_cqe c;
	EXPECT_EQ(vtr_qp_reap(&p.guest, &c, 1), 1);
	// Busy path: with the flag clear, publishing rings nothing.
	ASSERT_EQ(vtr_qp_submit(&p.guest, &s, 1), 1);
	EXPECT_EQ(p.guest.doorbells, 0u) << "host not asleep: no doorbell on the busy path";
}

// The host goes to sleep while the guest's completion ring is full. The guest then reaps
// and publishes more: that publish must ring the host, or the request waits for the host's
// sleep timeout.
TEST(QpWaitLadder, HostAsleepBehindAFullCqIsRungByTheNextPublish)
{
	Pair p(8, 4, true);
	std::vector<vtr_sqe> s;
	for (uint64_t i = 0; i < 4; i++)
		s.push_back(Sqe(i));
	ASSERT_EQ(vtr_qp_submit(&p.guest, s.data(), 4), 4);
	vtr_sqe got[4];
	ASSERT_EQ(vtr_qp_host_take(&p.host, got, 4), 4);
	vtr_cqe c[4] = {{0, 0, 0}, {1, 0, 0}, {2, 0, 0}, {3, 0, 0}};
	ASSERT_EQ(vtr_qp_host_complete(&p.host, c, 4), 4);
	EXPECT_EQ(vtr_qp_host_announce_sleep(&p.host), 0) << "nothing to serve: the host may sleep";
	vtr_cqe out[4];
	ASSERT_EQ(vtr_qp_reap(&p.guest, out, 4), 4);
	ASSERT_EQ(vtr_qp_submit(&p.guest, s.data(), 1), 1);
	EXPECT_EQ(p.guest.doorbells, 1u) << "the publish after the reap must ring the sleeping host";
	EXPECT_EQ(vtr_qp_sleep(&p.host, 0), 0) << "and the host's doorbell is readable";
	vtr_qp_wake_done(&p.host.sq);
}

// Requests that wait behind a full CQ (a guest ignoring its in-flight limit) do not keep the
// host awake, but its flag stays set; with room in the CQ they do keep it awake.
TEST(QpWaitLadder, HostAnnounceCountsOnlyServableRequests)
{
	Pair p(8, 2, true);
	for (uint64_t i = 0; i < 2; i++) {
		vtr_sqe s = Sqe(i);
		ASSERT_EQ(vtr_ring_push(&p.guest.sq, &s), 1);
	}
	vtr_sqe got[2];
	ASSERT_EQ(vtr_qp_host_take(&p.host, got, 2), 2);
	vtr_cqe c[2] = {{0, 0, 0}, {1, 0, 0}};
	ASSERT_EQ(vtr_qp_host_complete(&p.host, c, 2), 2); // CQ full, never reaped
	vtr_sqe more = Sqe(7);
	ASSERT_EQ(vtr_ring_push(&p.guest.sq, &more), 1); // beyond the limit
	EXPECT_EQ(vtr_qp_host_announce_sleep(&p.host), 0) << "no CQ room: nothing servable";
	EXPECT_EQ(p.host.sq.sh->cons_wake, 1u) << "the flag stays set for the guest's next publish";
	vtr_cqe out[2];
	ASSERT_EQ(vtr_ring_pop_burst(&p.guest.cq, out, 2), 2); // the guest reaps at last
	EXPECT_EQ(vtr_qp_host_announce_sleep(&p.host), 1) << "now the waiting request is servable";
	EXPECT_EQ(p.host.sq.sh->cons_wake, 0u) << "flag withdrawn when not sleeping";
}

TEST(QpWaitLadder, NoWakeUpLostOverManyRandomCycles)
{
	Pair p(8, 8, true);
	vtr_qp_set_spin_ns(&p.guest, 500); // short budget: most waits end in a real sleep
	const int cycles = 20000;
	std::atomic<int> host_error{0};
	std::thread host([&] {
		std::mt19937 rng(1);
		for (int i = 0; i < cycles; i++) {
			vtr_sqe s;
			int n = HostWaitOne(&p.host, &s, rng() % 4 ? 10 : 2000);
			if (n != 1) {
				host_error = n ? n : -1;
				return;
			}
			// Random think time: sometimes none, sometimes long enough for the guest to sleep.
			uint32_t r = rng() % 8;
			if (r == 0)
				usleep(rng() % 200);
			else if (r == 1)
				for (volatile int k = 0; k < (int)(rng() % 3000); k++)
					;
			vtr_cqe c{s.user_data, (int32_t)(s.user_data & 0xff), 0};
			if (vtr_qp_host_complete(&p.host, &c, 1) != 1) {
				host_error = -2;
				return;
			}
		}
	});
	std::mt19937 rng(2);
	int timeouts = 0;
	for (int i = 0; i < cycles && !host_error; i++) {
		if (rng() % 8 == 0)
			usleep(rng() % 200); // let the host fall asleep before we submit
		vtr_sqe s = Sqe(i);
		ASSERT_EQ(vtr_qp_submit(&p.guest, &s, 1), 1);
		vtr_cqe c;
		int n = vtr_qp_wait(&p.guest, &c, 1, 5000);
		if (n == -ETIMEDOUT) {
			timeouts++;
			break;
		}
		ASSERT_EQ(n, 1);
		ASSERT_EQ(c.user_data, (uint64_t)i);
		ASSERT_EQ(c.res, (int32_t)(i & 0xff));
	}
	host.join();
	EXPECT_EQ(timeouts, 0) << "the guest slept through a completion: lost wake-up";
	EXPECT_EQ(host_error.load(), 0) << "host side failed or slept through a request";
	// Both sides really went to sleep many times, or the test proved nothing.
	EXPECT_GT(p.guest.wakeups, 100u) << "guest never slept";
	EXPECT_GT(p.host.wakeups, 100u) << "host never slept";
	EXPECT_GT(p.guest.doorbells + p.host.doorbells, 200u);
	printf("guest slept %lu times, host slept %lu times; doorbells guest->host %lu, host->guest %lu\n",
	       (unsigned long)p.guest.wakeups, (unsigned long)p.host.wakeups,
	       (unsigned long)p.guest.doorbells, (unsigned long)p.host.doorbells);
}

} // namespace
