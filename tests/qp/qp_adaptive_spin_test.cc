// The adaptive polling step of the wait ladder (vtr_qp_set_spin_max_ns), the claims that
// hold however busy the machine is: a waiter without a bound sleeps on every 1 ms call,
// requests longer than the bound are slept through without burning the CPU, and a waiter
// whose CPU another thread wants sleeps instead of polling. (That 1 ms calls are polled
// through once seen, and again soon after one long call, holds only when both threads get
// their CPU: perf/qp measures it, tools/bench reports it against its target.)
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <chrono>
#include <thread>
#include <vector>

#include "qp_test_util.h"

namespace {

// The guest and host sides run on CPUs 0 and 1 (the bench machines have two).
class QpAdaptiveSpin : public testing::Test {
      protected:
	void SetUp() override
	{
		if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
			GTEST_SKIP() << "needs two CPUs, one for each side";
	}
};

using Clock = std::chrono::steady_clock;

// The host: serves each request after busy-waiting its work time (a backend computing).
void Serve(vtr_qp *h, const std::vector<std::chrono::microseconds> &work, std::atomic<int> *err)
{
	for (auto w : work) {
		vtr_sqe s;
		int got = HostWaitOne(h, &s, 1000);
		if (got != 1) {
			*err = got ? got : -1;
			return;
		}
		auto end = Clock::now() + w;
		while (Clock::now() < end)
			;
		vtr_cqe c{s.user_data, 0, 0};
		if (vtr_qp_host_complete(h, &c, 1) != 1) {
			*err = -2;
			return;
		}
	}
}

double ThreadCpuS()
{
	timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct Waits {
	std::vector<uint64_t> wakeups; // the guest's wake-up count after each call
	std::vector<uint64_t> naps;    // and its nap count
	double cpu_s = 0, wall_s = 0;  // the guest thread's CPU and wall time over all calls
};

bool PinTo(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

// One synchronous call per entry of work, each waited for with the ladder, by a guest
// thread on CPU 0 while the host thread runs on CPU 1 (so that they never share a CPU
// unless a test makes them).
Waits Calls(uint64_t spin_max_ns, const std::vector<std::chrono::microseconds> &work,
	    bool guest_doorbell = true)
{
	Pair p(8, 8, true);
	if (!guest_doorbell)
		p.guest.wait_fd = -1; // as in a VM: nothing wakes the guest (the host still rings)
	Waits r;
	std::atomic<int> err{0};

	vtr_qp_set_spin_ns(&p.guest, 20000);
	vtr_qp_set_spin_max_ns(&p.guest, spin_max_ns);
	std::thread host([&] {
		PinTo(1);
		Serve(&p.host, work, &err);
	});
	std::thread guest([&] {
		PinTo(0);
		double cpu0 = ThreadCpuS();
		auto t0 = Clock::now();
		for (size_t i = 0; i < work.size() && !err; i++) {
			vtr_sqe s = Sqe(i);
			EXPECT_EQ(vtr_qp_submit(&p.guest, &s, 1), 1);
			vtr_cqe c;
			int n = vtr_qp_wait(&p.guest, &c, 1, 5000);
			EXPECT_EQ(n, 1) << "call " << i;
			if (n != 1)
				break;
			EXPECT_EQ(c.user_data, i);
			r.wakeups.push_back(p.guest.wakeups);
			r.naps.push_back(p.guest.naps);
		}
		r.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
		r.cpu_s = ThreadCpuS() - cpu0;
	});
	guest.join();
	host.join();
	EXPECT_EQ(err.load(), 0) << "the host side failed";
	return r;
}

// Wake-ups during calls [from, to).
uint64_t WakeupsBetween(const Waits &r, size_t from, size_t to)
{
	return r.wakeups.at(to - 1) - r.wakeups.at(from - 1);
}

const std::chrono::microseconds kMs(1000);

// Without a bound, a 20 us budget sleeps through 1 ms calls. A loaded machine can only add
// sleeps (a descheduled waiter never polls longer), so this holds on any machine.
TEST_F(QpAdaptiveSpin, AFixedBudgetSleepsThroughMillisecondCalls)
{
	std::vector<std::chrono::microseconds> work(40, kMs);
	Waits fixed = Calls(0, work);
	ASSERT_EQ(fixed.wakeups.size(), 40u);
	EXPECT_GE(WakeupsBetween(fixed, 5, 40), 30u) << "the fixed budget should sleep on each call";
}

TEST_F(QpAdaptiveSpin, SleepsThroughCallsLongerThanTheBound)
{
	std::vector<std::chrono::microseconds> work(10, 20 * kMs);
	Waits r = Calls(2000000, work);
	ASSERT_EQ(r.wakeups.size(), 10u);
	EXPECT_GE(r.wakeups.back(), 9u) << "20 ms calls with a 2 ms bound should be slept through";
	EXPECT_LT(r.cpu_s, 0.1 * r.wall_s) << "the waiter burned " << r.cpu_s << " s of CPU in "
					   << r.wall_s << " s";
}

// A thread that wants the waiter's CPU all the time (pinned there with it): the waiter must
// notice the CPU taken and sleep rather than poll, or each completion waits for its turn.
TEST_F(QpAdaptiveSpin, AWaiterSharingItsCpuSleeps)
{
	std::atomic<bool> stop{false};
	std::thread hog([&] {
		PinTo(0);
		while (!stop)
			;
	});
	std::vector<std::chrono::microseconds> work(40, kMs);
	Waits r = Calls(5000000, work);
	stop = true;
	hog.join();
	ASSERT_EQ(r.wakeups.size(), 40u);
	EXPECT_GE(WakeupsBetween(r, 5, 40), 25u) << "a waiter on a shared CPU should sleep, not poll";
}

// Calls that take 2 ms, well within the bound: once the waiter has seen a few, it sleeps
// through most of each (a nap: see wait.c) rather than polling the whole time. The host
// busy-waits 2 ms after it took the request, so no wait is shorter on any machine.
TEST_F(QpAdaptiveSpin, NapsThroughMostOfCallsThatAllTakeLong)
{
	std::vector<std::chrono::microseconds> work(40, 2 * kMs);
	Waits r = Calls(20000000, work);
	ASSERT_EQ(r.naps.size(), 40u);
	EXPECT_GE(r.naps.back(), 30u) << "2 ms calls with a 20 ms bound should be napped through";
}

// Calls that suddenly get short: the first completes during a nap (the doorbell ends it,
// or the nap's timer), and every call still gets its own completion, in order (Calls checks
// each).
TEST_F(QpAdaptiveSpin, ACallShorterThanTheNapStillCompletes)
{
	std::vector<std::chrono::microseconds> work(20, 2 * kMs);
	work.resize(60, std::chrono::microseconds(50));
	Waits r = Calls(20000000, work);
	ASSERT_EQ(r.naps.size(), 60u);
	EXPECT_GE(r.naps.at(19), 10u);
}

// Without doorbells (a VM's guest) a nap sleeps in slices and looks at the ring between
// them; the same two claims hold.
TEST_F(QpAdaptiveSpin, WithoutDoorbellsNapsAreSlicedAndCallsComplete)
{
	std::vector<std::chrono::microseconds> work(20, 2 * kMs);
	work.resize(60, std::chrono::microseconds(50));
	Waits r = Calls(20000000, work, false);
	ASSERT_EQ(r.naps.size(), 60u);
	EXPECT_GE(r.naps.at(19), 10u);
}

} // namespace
