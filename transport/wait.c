/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The wait ladder of a queue pair's consumer: poll for a budget, then announce sleep and
 * sleep on the doorbell (the protocol and its fences are at the top of qp.h; the producer's
 * half, vtr_qp_kick, and the announcement, vtr_qp_announce_sleep, are inline there).
 *
 * The budget is fixed (vtr_qp_set_spin_ns) or adaptive up to a bound (vtr_qp_set_spin_max_ns).
 */
#include "transport/wait.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

static int64_t _now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vtr_qp_set_spin_ns(struct vtr_qp *qp, uint64_t ns)
{
	/* The budget is only compared against TSC deltas; 3 cycles/ns over-estimates safely. */
	qp->spin_cycles = ns * 3;
}

void vtr_qp_set_spin_max_ns(struct vtr_qp *qp, uint64_t ns)
{
	qp->spin_max_cycles = ns * 3; /* as in vtr_qp_set_spin_ns */
	qp->wait_avg = 0;
	qp->shared_until = qp->shared_seen = 0;
}

/* How long a pair keeps to the fixed budget after it found its CPU shared (~50 ms). */
#define SHARED_BACKOFF_CYCLES (150ull * 1000 * 1000)
/* A poller off its CPU this long (~1 ms, a scheduler time slice) had it taken by another
 * thread; shorter gaps are interrupts and the hypervisor's doing. */
#define SHARED_GAP_CYCLES (3000ull * 1000)

/*
 * This wait's polling budget: the fixed one, or twice the recent waits' length when that
 * stays within the bound (a wait expected to outlast the bound sleeps as early as before).
 */
static uint64_t _spin_budget(const struct vtr_qp *qp, uint64_t now)
{
	uint64_t b = qp->spin_cycles, w = qp->wait_avg * 2;

	if (qp->spin_max_cycles && qp->wait_avg <= qp->spin_max_cycles && w > b &&
	    (int64_t)(now - qp->shared_until) >= 0)
		b = w < qp->spin_max_cycles ? w : qp->spin_max_cycles;
	return b;
}

/*
 * Folds one wait's length into the moving average (weight 1/4; the first wait sets it). A
 * wait beyond twice the bound counts as twice the bound, so that a few short waits after
 * an outlier (or a timeout) bring the polling back.
 */
static void _wait_sample(struct vtr_qp *qp, uint64_t cycles)
{
	uint64_t cap = qp->spin_max_cycles * 2;

	if (!cap)
		return;
	if (cycles > cap)
		cycles = cap;
	qp->wait_avg = qp->wait_avg ? qp->wait_avg - qp->wait_avg / 4 + cycles / 4 : cycles + 1;
}

int vtr_qp_sleep(struct vtr_qp *qp, int timeout_ms)
{
	/* Only a hang-up of the watched socket matters, not data on it: no POLLIN there. */
	struct pollfd p[2] = {{.fd = qp->wait_fd, .events = POLLIN},
			      {.fd = qp->watch_fd, .events = POLLRDHUP}};
	uint64_t cnt;
	int n;

	if (qp->wait_fd < 0)
		return -ETIMEDOUT;
	do
		n = poll(p, qp->watch_fd >= 0 ? 2 : 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	/* A doorbell wins over a hang-up: what was completed before the other side left is
	 * still in the ring. */
	if (!(p[0].revents & POLLIN))
		return (qp->watch_fd >= 0 && (p[1].revents & (POLLHUP | POLLRDHUP | POLLERR)))
			       ? -ECONNRESET
			       : -ETIMEDOUT;
	/* The fd may be non-blocking (QEMU sets O_NONBLOCK on shared eventfds): EAGAIN is fine. */
	if (read(qp->wait_fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return -errno;
	qp->wakeups++;
	return 0;
}

int vtr_qp_wait_ready(struct vtr_qp *qp, int timeout_ms)
{
	uint64_t t0 = __rdtsc(), start = t0, last = t0;
	uint64_t budget = _spin_budget(qp, t0);
	uint64_t polls = 0;
	int64_t deadline = -1;
	int ready;

	for (;;) {
		ready = _vtr_ring_ready(&qp->cq);
		if (ready)
			break;
		vtr_ring_prefetch_next(&qp->cq);
		if (++polls > VTR_RING_TIGHT_POLLS)
			vshm_cpu_relax();
		if (polls & 63)
			continue;
		uint64_t now = __rdtsc(), spun = now - start;
		if (spun < budget) {
			/* Polling on past the fixed budget: other threads of this CPU come first.
			 * If one took the CPU for a time slice (seen as a gap between two looks),
			 * the CPU is shared: sleep now, and keep to the fixed budget for a while
			 * if it happens again. A poller that has to wait for its turn sees the
			 * completion later than a sleeper: the scheduler favours a sleeper over
			 * a thread that has been burning its share. */
			if (spun >= qp->spin_cycles) {
				sched_yield();
				uint64_t after = __rdtsc();
				if (after - last > SHARED_GAP_CYCLES) {
					/* Once may be a blip (another process's moment); twice
					 * within the back-off is a thread that wants this CPU. */
					budget = 0;
					if (after - qp->shared_seen < SHARED_BACKOFF_CYCLES)
						qp->shared_until = after + SHARED_BACKOFF_CYCLES;
					qp->shared_seen = after;
				}
				now = after;
			}
			last = now;
			continue;
		}
		if (qp->wait_fd < 0) {
			/* No doorbell (ivshmem-plain): keep polling, but give the CPU away. */
			if (deadline < 0 && timeout_ms >= 0)
				deadline = _now_ms() + timeout_ms;
			if (deadline >= 0 && _now_ms() > deadline) {
				ready = -ETIMEDOUT;
				break;
			}
			usleep(50);
			continue;
		}
		ready = vtr_qp_announce_sleep(&qp->cq);
		if (ready < 0)
			break;
		if (ready == 0) {
			int ret = vtr_qp_sleep(qp, timeout_ms);
			vtr_qp_wake_done(&qp->cq);
			if (ret) {
				ready = _vtr_ring_ready(&qp->cq); /* last look before giving up */
				if (!ready)
					ready = ret;
				break;
			}
		}
		/* Woken by a doorbell: completions are due, so only the fixed budget from here. */
		start = __rdtsc();
		budget = qp->spin_cycles;
		polls = 0;
	}
	_wait_sample(qp, __rdtsc() - t0);
	return ready;
}

int vtr_qp_wait(struct vtr_qp *qp, struct vtr_cqe *cqes, uint32_t n, int timeout_ms)
{
	int ready = vtr_qp_wait_ready(qp, timeout_ms);

	return ready < 0 ? ready : vtr_qp_reap(qp, cqes, n);
}
