// VSHM_POOL_WAIT: an allocation on an exhausted pool sleeps until another thread frees.
// Every wait here is bounded, so a broken wake-up fails the test instead of hanging it; a
// free happens only once the waiters are asleep (vshm_pool_waiters), so that it is the
// wake-up path that serves them, however late the machine runs their threads.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>

#include "tests/pool/pool_test_util.h"

namespace {

using namespace std::chrono_literals;

// A waiter that never wakes would block the test's exit; end the process with a message.
void WaitOrDie(std::future<int> &f, std::chrono::seconds limit, const char *what)
{
	if (f.wait_for(limit) != std::future_status::ready) {
		fprintf(stderr, "FAILED: %s: still blocked after %lld s\n", what,
			(long long)limit.count());
		std::_Exit(1);
	}
}

// Polls until n threads sleep in a waiting allocation of p (within 10 s).
bool Asleep(vshm_pool *p, uint32_t n)
{
	for (auto end = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < end;
	     std::this_thread::sleep_for(1ms))
		if (vshm_pool_waiters(p) == n)
			return true;
	return false;
}

TEST(PoolWait, BlockedAllocIsWokenByAFreeFromAnotherThread)
{
	PoolFixture f("64:1,4k:1");
	ASSERT_TRUE(f.ok());
	vshm_buf small{}, big{};
	ASSERT_EQ(vshm_pool_alloc(f.p, 64, 0, &small), 0);
	ASSERT_EQ(vshm_pool_alloc(f.p, 64, 0, &big), 0);
	ASSERT_EQ(big.cls, 1u);

	vshm_buf got{};
	std::future<int> waiter = std::async(std::launch::async, [&] {
		return vshm_pool_alloc(f.p, 4000, VSHM_POOL_WAIT, &got);
	});
	ASSERT_TRUE(Asleep(f.p, 1)) << "an exhausted pool must make a WAIT allocation sleep";
	EXPECT_EQ(waiter.wait_for(0s), std::future_status::timeout);
	// Freeing a buffer too small for the waiter wakes it, but it must sleep again (it
	// returns once only: got must end up the big buffer, below).
	ASSERT_EQ(vshm_pool_free(f.p, small.ptr), 0);
	ASSERT_TRUE(Asleep(f.p, 1)) << "a 64-byte buffer cannot serve a 4000-byte request";
	ASSERT_EQ(vshm_pool_free(f.p, big.ptr), 0);
	WaitOrDie(waiter, 10s, "WAIT allocation after a free");
	ASSERT_EQ(waiter.get(), 0);
	EXPECT_EQ(got.ptr, big.ptr);
	EXPECT_EQ(vshm_pool_free(f.p, got.ptr), 0);
}

TEST(PoolWait, TimeoutVariantWakesOnFreeOrTimesOut)
{
	PoolFixture f("4k:1");
	ASSERT_TRUE(f.ok());
	vshm_buf held{}, got{};
	ASSERT_EQ(vshm_pool_alloc(f.p, 1, 0, &held), 0);

	auto t0 = std::chrono::steady_clock::now();
	EXPECT_EQ(vshm_pool_alloc_timeout(f.p, 1, 50, &got), -ETIMEDOUT);
	auto waited = std::chrono::steady_clock::now() - t0;
	EXPECT_GE(waited, 45ms) << "gave up too early";
	EXPECT_LT(waited, 5s) << "timeout not honoured";
	EXPECT_EQ(vshm_pool_alloc_timeout(f.p, 1, 0, &got), -ETIMEDOUT) << "0 ms: just try";

	std::future<int> waiter = std::async(std::launch::async, [&] {
		return vshm_pool_alloc_timeout(f.p, 1, 60000, &got);
	});
	ASSERT_TRUE(Asleep(f.p, 1)) << "the 60 s allocation should be asleep";
	ASSERT_EQ(vshm_pool_free(f.p, held.ptr), 0);
	// Well before its 60 s timeout, whose last look would find the buffer even without a
	// wake-up.
	WaitOrDie(waiter, 20s, "alloc_timeout after a free");
	EXPECT_EQ(waiter.get(), 0);
	EXPECT_EQ(got.ptr, held.ptr);
	EXPECT_EQ(vshm_pool_free(f.p, got.ptr), 0);
}

TEST(PoolWait, ManyWaitersEachGetTheirOwnBuffer)
{
	PoolFixture f("4k:2");
	ASSERT_TRUE(f.ok());
	vshm_buf a{}, b{};
	ASSERT_EQ(vshm_pool_alloc(f.p, 1, 0, &a), 0);
	ASSERT_EQ(vshm_pool_alloc(f.p, 1, 0, &b), 0);
	vshm_buf g1{}, g2{};
	auto w1 = std::async(std::launch::async,
			     [&] { return vshm_pool_alloc(f.p, 1, VSHM_POOL_WAIT, &g1); });
	auto w2 = std::async(std::launch::async,
			     [&] { return vshm_pool_alloc(f.p, 1, VSHM_POOL_WAIT, &g2); });
	ASSERT_TRUE(Asleep(f.p, 2)) << "both waiters should be asleep";
	ASSERT_EQ(vshm_pool_free(f.p, a.ptr), 0);
	ASSERT_EQ(vshm_pool_free(f.p, b.ptr), 0);
	WaitOrDie(w1, 10s, "first waiter");
	WaitOrDie(w2, 10s, "second waiter");
	ASSERT_EQ(w1.get(), 0);
	ASSERT_EQ(w2.get(), 0);
	EXPECT_NE(g1.ptr, g2.ptr) << "one buffer handed to two waiters";
	EXPECT_EQ(vshm_pool_free(f.p, g1.ptr), 0);
	EXPECT_EQ(vshm_pool_free(f.p, g2.ptr), 0);
}

} // namespace
