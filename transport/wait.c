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
#include <sys/prctl.h>
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
	qp->wait_avg = qp->wait_low = 0;
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
 * an outlier (or a timeout) bring the polling back. The low end follows a shorter wait at
 * once and a longer one by 1/16 of the difference: it stays near the shortest of the
 * recent waits.
 */
static void _wait_sample(struct vtr_qp *qp, uint64_t cycles)
{
	uint64_t cap = qp->spin_max_cycles * 2;

	if (!cap)
		return;
	if (cycles > cap)
		cycles = cap;
	qp->wait_avg = qp->wait_avg ? qp->wait_avg - qp->wait_avg / 4 + cycles / 4 : cycles + 1;
	if (!qp->wait_low || cycles < qp->wait_low)
		qp->wait_low = cycles + 1;
	else
		qp->wait_low += (cycles - qp->wait_low) / 16;
}

/*
 * Naps. A thread polling for a long request's completion holds its CPU, and a CPU that
 * shares a core with the one computing the request (hyper-threads of one core: how a
 * hypervisor may place two vCPUs) slows that computation: a CNN run on one vCPU took 17%
 * longer while the other polled. So a waiter whose recent waits have all lasted at least
 * NAP_MIN_NS first sleeps, until NAP_LEAD_NS before the shortest of them would end, and
 * polls only from there. The sleep is announced like any other (a completion that comes
 * early rings the doorbell, and a hang-up of the other side ends it too); without a
 * doorbell, the nap sleeps in slices of NAP_SLICE_NS and looks at the ring between them
 * (a completion that comes early is seen that late at most, and its wait counts short).
 * A nap never outlasts the wait's timeout. The nap's timer runs with 1 us of slack
 * (the thread's own, 50 us by default, is restored after it): it woke ~20 us late at the
 * median and up to ~60 us at p99 here, against 66 and 87 to 109 us with 50 us of slack.
 * The polling from the wake-up to the completion is what is left of the interference.
 */
#define NAP_MIN_NS 300000ull
#define NAP_LEAD_NS 80000ull
#define NAP_SLICE_NS 100000ull

/* TSC cycles per microsecond, measured over a wait long enough to nap (process-wide; 0
 * until a clean measurement). The polling budgets use a safe over-estimate; a nap needs
 * the rate. */
static uint64_t nap_tsc_per_us;

/* A clock reading paired with the TSC: 0 and *tsc set, or -EAGAIN when the two reads were
 * far apart (the thread was preempted between them: the pair would skew the rate). */
static int _clock_pair(int64_t *ns, uint64_t *tsc)
{
	struct timespec ts;
	uint64_t t0 = __rdtsc();

	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t t1 = __rdtsc();
	*ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	*tsc = t0 / 2 + t1 / 2;
	return t1 - t0 < 20000 ? 0 : -EAGAIN; /* ~10 us at any TSC rate here */
}

/* The nap this wait takes in ns, 0 for none; *calibrate set when this wait is to measure
 * the TSC's rate first (in ns, its start, with *cal_tsc; else -1). */
static uint64_t _nap_ns(const struct vtr_qp *qp, int timeout_ms, int64_t *calibrate, uint64_t *cal_tsc)
{
	uint64_t rate = __atomic_load_n(&nap_tsc_per_us, __ATOMIC_RELAXED);

	*calibrate = -1;
	/* Only with the adaptive budget (its bound caps the waits sampled), and never for a
	 * wait expected to outlast the bound: that one sleeps after the fixed budget. */
	if (!qp->spin_max_cycles || qp->wait_low > qp->spin_max_cycles)
		return 0;
	if (!rate) {
		/* Likely long enough to time: the rate is kept only from a wait of
		 * NAP_MIN_NS / 2 or more. */
		if (qp->wait_low >= NAP_MIN_NS && _clock_pair(calibrate, cal_tsc))
			*calibrate = -1;
		return 0;
	}
	/* Any TSC ticks at 1 GHz or more: fewer cycles is a short wait, no division needed
	 * (the case of every quick call). */
	if (qp->wait_low < NAP_MIN_NS)
		return 0;
	uint64_t low_ns = qp->wait_low * 1000 / rate;
	if (low_ns < NAP_MIN_NS)
		return 0;
	uint64_t nap = low_ns - NAP_LEAD_NS;
	if (timeout_ms >= 0 && nap > (uint64_t)timeout_ms * 1000000)
		nap = (uint64_t)timeout_ms * 1000000;
	return nap;
}

/* Sleeps for ns or until the doorbell rings (or the other side hangs up). 1 if completions
 * came meanwhile (no sleep, or seen between slices without a doorbell), 0 after the sleep,
 * -EPROTO. */
static int _nap(struct vtr_qp *qp, uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000)};
	struct pollfd p[2] = {{.fd = qp->wait_fd, .events = POLLIN},
			      {.fd = qp->watch_fd, .events = POLLRDHUP}};
	int ready = 0, n = 0;
	uint64_t cnt;

	if (qp->wait_fd >= 0 && (ready = vtr_qp_announce_sleep(&qp->cq)) != 0)
		return ready;
	int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	prctl(PR_SET_TIMERSLACK, 1000ul, 0, 0, 0);
	if (qp->wait_fd < 0) {
		for (uint64_t slept = 0; slept < ns && !ready; slept += NAP_SLICE_NS) {
			uint64_t d = ns - slept < NAP_SLICE_NS ? ns - slept : NAP_SLICE_NS;
			struct timespec s = {.tv_sec = 0, .tv_nsec = (long)d};
			while (clock_nanosleep(CLOCK_MONOTONIC, 0, &s, &s) == EINTR)
				;
			ready = _vtr_ring_ready(&qp->cq);
		}
	} else {
		n = ppoll(p, qp->watch_fd >= 0 ? 2 : 1, &ts, NULL);
		vtr_qp_wake_done(&qp->cq);
		/* A ring that came between the timeout and the withdrawal would end the
		 * next nap at once: take it now. */
		if (n == 0 && poll(p, 1, 0) > 0)
			n = 1;
	}
	if (slack > 0)
		prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0, 0, 0);
	/* As in vtr_qp_sleep: the fd may be non-blocking. */
	if (n > 0 && (p[0].revents & POLLIN) && read(qp->wait_fd, &cnt, sizeof(cnt)) > 0)
		qp->wakeups++;
	qp->naps++;
	return ready < 0 ? ready : 0;
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
	int64_t deadline = -1, calibrate;
	uint64_t cal_tsc;
	uint64_t nap = _nap_ns(qp, timeout_ms, &calibrate, &cal_tsc);
	int ready;

	if (nap) {
		ready = _vtr_ring_ready(&qp->cq);
		if (ready == 0 && (ready = _nap(qp, nap)) < 0)
			goto out;
		/* The polling budget still counts from t0; the nap is no sign of a shared CPU. */
		last = __rdtsc();
	}
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
out:;
	uint64_t end = __rdtsc();
	int64_t end_ns;
	uint64_t end_tsc;
	if (calibrate >= 0 && ready > 0 && !_clock_pair(&end_ns, &end_tsc) &&
	    end_ns - calibrate >= (int64_t)NAP_MIN_NS / 2) {
		uint64_t rate = (end_tsc - cal_tsc) * 1000 / (uint64_t)(end_ns - calibrate);
		if (rate >= 500 && rate <= 10000) /* 0.5 to 10 GHz: else a bad pair */
			__atomic_store_n(&nap_tsc_per_us, rate, __ATOMIC_RELAXED);
	}
	_wait_sample(qp, end - t0);
	return ready;
}

int vtr_qp_wait(struct vtr_qp *qp, struct vtr_cqe *cqes, uint32_t n, int timeout_ms)
{
	int ready = vtr_qp_wait_ready(qp, timeout_ms);

	return ready < 0 ? ready : vtr_qp_reap(qp, cqes, n);
}
