/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A poller thread: drains the submission rings of its active guests with bounded work per
 * queue pair per pass and completes each request. A guest with nothing to do for the spin
 * budget is parked: NEED_WAKEUP is announced on its SQs and it leaves the active list, so
 * idle guests cost no pass time. When no guest is active, the poller sleeps in epoll on
 * its guests' own doorbells (edge-triggered: it never reads a guest's eventfd, which the
 * guest may drain or make blocking) and its private control eventfd, plus a timeout.
 *
 * Inline runs (--inline-us N). Handing a long op to a worker thread and taking its result
 * back costs two context switches on the poller's CPU, ~5 us here: 10% of a 50 us model
 * run. So an op of a guest whose long ops take N us or less (work_submit's estimate) is
 * held back, and run by the poller itself when, after the pass, every active guest waits
 * for an op and none has requests ready: nothing else could be served meanwhile anyway.
 * A guest could still make a run long and stall the others, so a poller has two threads:
 * the one holding the role runs the loop; the other is a watchdog, 10 nice levels above
 * it, that wakes every 2N us while runs are lent (a periodic timerfd: arming a timer for
 * each run cost more than the hand-over it saves). A run that has lasted 2N us at a tick
 * is taken over: the watchdog thread takes the role and runs the loop, and demotes the
 * runner to the workers' priority; the run ends as a worker's op would (its result handed
 * over, the poller rung), and its thread, its scheduling given back, becomes the watchdog.
 * So a stall lasts 2N to 4N us. A run over N us, taken over or not, is a strike for its
 * guest (work.c): its next 16 << strikes long ops go to the workers. Changing the
 * threads' priorities needs CAP_SYS_NICE (or RLIMIT_NICE >= 20): without it, inline runs
 * stay off.
 *
 * Solo runs. A guest alone on its poller stalls no one: work_submit holds its long ops
 * whatever their length (once one of the kind has run) and strikes or not, and the poller
 * runs them lent without ticks (a tick every 2N us cost a 2 ms run about what the
 * hand-over to a worker did). What would change that is news: a guest handed over, a
 * stat request, a removal. Each rings company_fd, on which the watchdog also waits: it
 * starts the ticks, and from then on the run is watched like any other (taken over once
 * it has lasted a tick). A stop wakes the watchdog too (its timer), which then leaves: the
 * stop waits for the run, as for a worker's op. A run is not solo while other ops of its
 * guest's are out on the workers (their results would wait for it). A solo run is no
 * strike unless it was taken over. Requests of the guest's own that came during a solo
 * run waited for it, where the workers would have run them in parallel: then its next 256
 * ops run the usual way (work.c, solo_bar).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "runtime/agent/agent.h"
#include "shm/barrier.h"

#define SLEEP_TIMEOUT_MS 1000 /* wake at least this often: the sweep of parked guests */
#define PLAIN_FIRST_NS 50000ull /* first sleep of a poller with ivshmem-plain guests */
#define BELL_CHECK_US 20      /* while awake, parked guests' doorbells are looked at this often */
#define EP_EVENTS 64
#define BELL_WRITE_MS 10      /* a doorbell write that takes longer is interrupted */
#define BELL_SIGNAL (SIGRTMIN + 3)
#define INLINE_TICKS 2        /* the inline runs' watchdog ticks every 2 x --inline-us */
#define WATCH_NICE_BOOST 10   /* the watchdog's nice value, below the poller's */
#define LEND_SOLO 0x80ull     /* in p->lend: the run lent is a solo run */
#define LEND_RUNNER 0x7full   /* in p->lend: 1 + the runner's index, 0 when none */

static double tsc_rate;
static pthread_once_t tsc_once = PTHREAD_ONCE_INIT;

static void _tsc_measure(void)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	uint64_t t0 = __rdtsc();
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 20000000L);
	tsc_rate = (double)(__rdtsc() - t0) / 20000.0;
}

/* TSC cycles per microsecond: measured once for every poller (it takes 20 ms). */
static double _tsc_per_us(void)
{
	pthread_once(&tsc_once, _tsc_measure);
	return tsc_rate;
}

static uint64_t _now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The watchdog's signal only interrupts a doorbell write: nothing to do in the handler. */
static void _on_bell_signal(int signo)
{
	(void)signo;
}

static pthread_once_t bell_once = PTHREAD_ONCE_INIT;

static void _bell_signal_install(void)
{
	/* No SA_RESTART: the interrupted write returns EINTR instead of waiting on. */
	struct sigaction sa = {.sa_handler = _on_bell_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(BELL_SIGNAL, &sa, NULL);
}

/* Each poller thread's own: it signals the thread that rings. */
static _Thread_local timer_t bell_timer;
static _Thread_local int has_bell_timer;

/* A one-shot timer that signals this thread: armed only around a doorbell write. 0 or -errno. */
static int _bell_timer_create(void)
{
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = BELL_SIGNAL};

	pthread_once(&bell_once, _bell_signal_install);
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, &bell_timer) < 0)
		return -errno;
	has_bell_timer = 1;
	return 0;
}

static void _bell_timer_set(long ms)
{
	struct itimerspec its = {.it_value = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L}};

	if (has_bell_timer)
		timer_settime(bell_timer, 0, &its, NULL);
}

/*
 * Rings guest g's queue pair q. The eventfd is shared with the guest, which may have made it
 * blocking and filled its counter so that a write would wait until it reads. So: no write
 * when poll says it would block, and a write that blocks anyway (the guest filled the
 * counter between the two) is cut short by a timer after BELL_WRITE_MS. Either way that
 * queue pair is not rung again: the guest is its own loss (it is not woken; it still polls).
 */
static void _ring_guest(struct guest *g, uint32_t q)
{
	struct pollfd pfd = {.fd = g->guest_fds[q], .events = POLLOUT};
	uint64_t one = 1;
	ssize_t w;

	if (pfd.fd < 0 || g->bell_bad[q])
		return;
	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLOUT)) {
		g->bell_bad[q] = 1;
		agent_glog(g, "queue pair %u: its doorbell eventfd is full; no longer rung\n", q);
		return;
	}
	_bell_timer_set(BELL_WRITE_MS);
	w = write(pfd.fd, &one, sizeof(one));
	_bell_timer_set(0);
	if (w < 0 && errno != EAGAIN) {
		g->bell_bad[q] = 1;
		agent_glog(g, "queue pair %u: ringing its doorbell %s; no longer rung\n", q,
			   errno == EINTR ? "blocked" : "failed");
	}
	g->qps[q].doorbells++;
}

/* The active list: guests a pass looks at. */
static void _activate(struct poller *p, struct guest *g)
{
	g->anext = p->active;
	p->active = g;
}

static void _deactivate(struct poller *p, struct guest *g)
{
	for (struct guest **pp = &p->active; *pp; pp = &(*pp)->anext) {
		if (*pp == g) {
			*pp = g->anext;
			g->anext = NULL;
			return;
		}
	}
}

static void _unpark(struct poller *p, struct guest *g, uint64_t now)
{
	if (!g->parked)
		return;
	g->parked = 0;
	p->nr_parked--;
	p->unparks++;
	for (uint32_t q = 0; q < g->nr_qps; q++)
		vtr_qp_wake_done(&g->qps[q].sq);
	g->last_work = now;
	_activate(p, g);
}

/*
 * Parks an active guest: NEED_WAKEUP on every SQ, then a re-check. 1 if parked; 0 if work
 * arrived meanwhile (flags withdrawn, it stays active). A guest without doorbells (plain)
 * is never parked. The caller unlinks a parked guest from the active list.
 */
static int _park(struct poller *p, struct guest *g)
{
	int pending = 0;

	if (g->plain)
		return 0;
	for (uint32_t q = 0; q < g->nr_qps && !g->broken; q++) {
		/* Requests behind a full CQ (a guest that does not reap) do not keep us
		 * awake; the guest's next publish rings (vtr_qp_host_announce_sleep). */
		if (vtr_qp_host_announce_sleep(&g->qps[q]) != 0)
			pending = 1;
	}
	if (pending) {
		for (uint32_t q = 0; q < g->nr_qps; q++)
			vtr_qp_wake_done(&g->qps[q].sq);
		return 0;
	}
	g->parked = 1;
	p->nr_parked++;
	p->parks++;
	return 1;
}

/* 1 if every active guest can ring and has an op out on the workers (so it waits for it). */
static int _all_waiting(const struct poller *p)
{
	for (const struct guest *g = p->active; g; g = g->anext)
		if (g->plain || !g->inflight)
			return 0;
	return 1;
}

/* 1 if no active guest has published requests that a pass has not taken yet (a guest
 * waiting for an op may have more: another thread's, an asynchronous batch, or what the
 * pass's budget left). Re-reads the guests' SQ indices. */
static int _none_ready(struct poller *p)
{
	for (struct guest *g = p->active; g; g = g->anext)
		for (uint32_t q = 0; q < g->nr_qps && !g->broken; q++)
			if (vtr_qp_host_sq_ready(&g->qps[q]) != 0)
				return 0;
	return 1;
}

/* Parks every active guest idle for at least idle_tsc; returns 1 if one had work. */
static int _park_idle(struct poller *p, uint64_t now, uint64_t idle_tsc)
{
	int pending = 0;

	for (struct guest **pp = &p->active; *pp;) {
		struct guest *g = *pp;

		/* Signed: last_work may be a little after now (an unpark since now was read). */
		if (g->plain || (int64_t)(now - g->last_work) < (int64_t)idle_tsc) {
			pp = &g->anext;
			continue;
		}
		if (_park(p, g)) {
			*pp = g->anext;
			g->anext = NULL;
			continue;
		}
		pending = 1;
		g->last_work = now;
		pp = &g->anext;
	}
	return pending;
}

/* A parked guest that needs a look without having rung: a new guest process (epoch), or
 * requests published (e.g. behind a CQ it has since reaped). The once-a-second sweep. */
static void _sweep_parked(struct poller *p, uint64_t now)
{
	for (struct guest *g = p->guests; g; g = g->next) {
		if (!g->parked)
			continue;
		int due = vshm_load_acquire(g->guest_epoch_word) != g->guest_epoch;
		for (uint32_t q = 0; q < g->nr_qps && !due && !g->broken; q++)
			due = vtr_qp_host_sq_ready(&g->qps[q]) != 0;
		if (due)
			_unpark(p, g, now);
	}
}

/* A guest that left: off the active list and the epoll set, so that no pass serves it. */
static void _detach(struct poller *p, struct guest *g)
{
	if (g->parked) {
		g->parked = 0;
		p->nr_parked--;
	} else {
		_deactivate(p, g);
	}
	/* The guest holds its doorbell open: epoll would keep it until it closes it too. */
	if (g->bell >= 0)
		epoll_ctl(p->ep, EPOLL_CTL_DEL, g->bell, NULL);
}

/* Only the poller ever touched a guest's sessions and rings: it releases them, once its
 * ops on the workers are back (then work_drain calls this again for the last result). */
void poller_retire(struct poller *p, struct guest *g)
{
	if (!g->retiring) {
		_detach(p, g);
		if (work_guest_gone(g))
			return; /* its ops still run on workers: the last result retires it */
	}
	if (g->dropped)
		agent_glog(g, "dropped %llu result(s) of ops that ended after it left\n",
			   (unsigned long long)g->dropped);
	p->gone_guests++;
	p->gone_requests += g->stats.requests;
	p->gone_errors += g->stats.errors;
	guest_release_host_state(g);
	agent_rlog(&p->rl, "guest %u: gone (%llu requests served, %llu errors)\n", g->id,
		   (unsigned long long)g->stats.requests, (unsigned long long)g->stats.errors);
	guest_destroy(g);
}

/* Error names for the stat text: "EINVAL", or the number when glibc has no name. */
static const char *_errname(int e, char *buf, size_t n)
{
	const char *s = e > 0 && e < AGENT_ERRNO_SLOTS ? strerrorname_np(e) : NULL;

	if (s)
		return s;
	snprintf(buf, n, e < AGENT_ERRNO_SLOTS ? "errno%d" : "other", e);
	return buf;
}

/*
 * The live state of this poller and its guests, formatted by the poller thread itself
 * (the only one that writes these counters), on request. One "key value" list per line.
 */
static char *_stat_text(struct poller *p)
{
	char *text = NULL, eb[24];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	uint64_t now = _now_ns(), up = now - p->start_ns, nguests = 0;

	if (!f)
		return NULL;
	for (struct guest *g = p->guests; g; g = g->next)
		nguests++;
	fprintf(f, "poller %d: cpu %d guests %llu up_s %.3f\n", p->idx, p->cpu,
		(unsigned long long)nguests, (double)up / 1e9);
	fprintf(f, "  passes %llu busy_passes %llu busy_pct %.2f sleeps %llu asleep_s %.3f "
		   "asleep_pct %.2f wakeups %llu doorbell_wakeups %llu control_wakeups %llu\n",
		(unsigned long long)p->stats.passes, (unsigned long long)p->stats.busy_passes,
		p->stats.passes ? 100.0 * (double)p->stats.busy_passes / (double)p->stats.passes : 0.0,
		(unsigned long long)p->stats.sleeps, (double)p->asleep_ns / 1e9,
		up ? 100.0 * (double)p->asleep_ns / (double)up : 0.0, (unsigned long long)p->stats.wakeups,
		(unsigned long long)(p->stats.wakeups - p->control_wakeups),
		(unsigned long long)p->control_wakeups);
	fprintf(f, "  retired_guests %llu requests %llu errors %llu\n", (unsigned long long)p->gone_guests,
		(unsigned long long)p->gone_requests, (unsigned long long)p->gone_errors);
	fprintf(f, "  parked_guests %u parks %llu unparks %llu\n", p->nr_parked,
		(unsigned long long)p->parks, (unsigned long long)p->unparks);
	fprintf(f, "  inline %s inline_runs %llu solo_runs %llu takeovers %llu\n",
		!p->inline_ns ? "off" : __atomic_load_n(&p->inline_off, __ATOMIC_ACQUIRE) ? "stopped" : "on",
		(unsigned long long)p->inline_runs, (unsigned long long)p->solo_runs,
		(unsigned long long)p->takeovers);
	for (struct guest *g = p->guests; g; g = g->next) {
		uint64_t refused = 0;

		for (int b = 1; b < VTR_BAD_MAX; b++)
			refused += g->stats.bad[b];
		fprintf(f, "  guest %u: requests %llu errors %llu refused %llu runtime_errors %llu broken %d "
			   "parked %d\n",
			g->id, (unsigned long long)g->stats.requests, (unsigned long long)g->stats.errors,
			(unsigned long long)refused, (unsigned long long)(g->stats.errors - refused), g->broken,
			g->parked);
		fprintf(f, "    refused_by_kind");
		for (int b = 1; b < VTR_BAD_MAX; b++)
			fprintf(f, " \"%s\" %llu", vtr_bad_str((enum vtr_bad)b),
				(unsigned long long)g->stats.bad[b]);
		fprintf(f, "\n    results ok %llu", (unsigned long long)g->results[0]);
		for (int e = 1; e <= AGENT_ERRNO_SLOTS; e++)
			if (g->results[e])
				fprintf(f, " %s %llu", _errname(e, eb, sizeof(eb)),
					(unsigned long long)g->results[e]);
		fprintf(f, "\n");
		work_guest_stat(f, g);
		for (uint32_t q = 0; q < g->nr_qps; q++) {
			struct vtr_qp *qp = &g->qps[q];
			/* The host's own view: SQ entries seen and not yet taken; CQ entries posted and
			 * not yet reaped (the guest's index re-read now, as a pass would). */
			uint32_t sq = vtr_qp_host_sq_seen(qp);
			int cq_pending = g->broken ? -1 : vtr_qp_host_cq_pending(qp);
			fprintf(f, "    qp %u: requests %llu errors %llu sq_pending %u sq_size %u ", q,
				(unsigned long long)g->qstats[q].requests,
				(unsigned long long)g->qstats[q].errors, sq, qp->sq.size);
			if (cq_pending < 0)
				fprintf(f, "cq_pending ? cq_size %u\n", qp->cq.size);
			else
				fprintf(f, "cq_pending %d cq_size %u\n", cq_pending, qp->cq.size);
		}
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* A new guest joins the lists and the epoll set; it starts active. */
static int _take_guest(struct poller *p, struct guest *g)
{
	g->next = p->guests;
	p->guests = g;
	g->parked = 0;
	g->last_work = __rdtsc();
	_activate(p, g);
	if (g->bell >= 0) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = g};
		if (epoll_ctl(p->ep, EPOLL_CTL_ADD, g->bell, &ev) < 0) {
			int e = errno;
			/* Served anyway, never parked: it can't wake us. */
			agent_log("guest %u: cannot watch its doorbell (%s); polled instead\n", g->id, strerror(e));
			g->plain = 1;
			return -e;
		}
	}
	return 0;
}

int poller_take_guest(struct poller *p, struct guest *g)
{
	g->poller = p; /* poller_add sets it for guests handed over by the main thread */
	return _take_guest(p, g);
}

static void _apply_handovers(struct poller *p)
{
	struct guest *gone = NULL;

	/* Acquire pairs with the release in _handover_posted: the lock only when there is news. */
	if (!__atomic_load_n(&p->news, __ATOMIC_ACQUIRE))
		return;
	/* Both lists are consumed under the lock: the main thread rewrites hnext when it hands
	 * a guest over, so hnext is read only here. Links the poller owns (next, dnext) carry
	 * the guests from there on. */
	pthread_mutex_lock(&p->lock);
	__atomic_store_n(&p->news, 0, __ATOMIC_SEQ_CST);
	for (struct guest *g = p->add; g; g = g->hnext)
		_take_guest(p, g);
	for (struct guest *g = p->remove; g; g = g->hnext) {
		g->dnext = gone;
		gone = g;
	}
	p->add = p->remove = NULL;
	pthread_mutex_unlock(&p->lock);

	while (gone) {
		struct guest *g = gone;
		gone = g->dnext;
		for (struct guest **pp = &p->guests; *pp; pp = &(*pp)->next) {
			if (*pp == g) {
				*pp = g->next;
				break;
			}
		}
		poller_retire(p, g);
		__atomic_sub_fetch(&p->nr_guests, 1, __ATOMIC_SEQ_CST);
	}
	/* A stat request: answered after the hand-overs so the guest list is current. */
	pthread_mutex_lock(&p->lock);
	int asked = p->stat_req;
	p->stat_req = 0;
	pthread_mutex_unlock(&p->lock);
	if (asked) {
		/* Formatted outside the lock: the main thread never waits on it. */
		char *text = _stat_text(p);
		if (!text)
			text = strdup("poller: out of memory for the stat text\n");
		pthread_mutex_lock(&p->lock);
		free(p->stat_text);
		p->stat_text = text;
		pthread_mutex_unlock(&p->lock);
		uint64_t one = 1;
		if (p->stat_notify >= 0 && write(p->stat_notify, &one, sizeof(one)) < 0 && errno != EAGAIN)
			agent_log("poller %d: cannot notify the main loop: %s\n", p->idx, strerror(errno));
	}
}

void poller_complete(struct poller *p, struct guest *g, uint32_t q, const struct vtr_cqe *cqes, uint32_t n)
{
	struct vtr_qp *qp = &g->qps[q];

	/* A guest parked while it waited for a worker gets its answer: it is likely to
	 * submit again at once, and an active guest does so without ringing. */
	if (g->parked)
		_unpark(p, g, __rdtsc());
	vtr_qp_host_complete(qp, cqes, n);
	if (vtr_qp_host_guest_asleep(qp))
		_ring_guest(g, q);
}

/* One pass over every active guest's queue pairs; returns the number of requests served. */
uint32_t poller_pass(struct poller *p)
{
	struct vtr_sqe sqes[AGENT_TAKE_BUDGET];
	struct vtr_cqe cqes[AGENT_TAKE_BUDGET];
	uint32_t served = work_drain(p);

	for (struct guest *g = p->active; g; g = g->anext) {
		/* A VM's new guest process announces itself by writing a new guest_epoch: what
		 * the previous one left is released and the queue pairs start afresh. */
		uint64_t epoch = vshm_load_acquire(g->guest_epoch_word);
		if (__builtin_expect(epoch != g->guest_epoch, 0) && guest_reset(g, epoch) == -EBUSY)
			g->last_work = __rdtsc(); /* stays active: reset when its ops are back */
		if (g->broken)
			continue;
		uint32_t before = served;
		for (uint32_t q = 0; q < g->nr_qps; q++) {
			struct vtr_qp *qp = &g->qps[q];
			int n = vtr_qp_host_take(qp, sqes, work_take_budget(g, q, AGENT_TAKE_BUDGET));
			int done = 0;

			if (n < 0) {
				/* Indices that break the ring's invariant: stop serving, keep others. */
				agent_glog(g, "queue pair %u has corrupt ring indices; no longer served\n", q);
				g->broken = 1;
				break;
			}
			for (int i = 0; i < n; i++) {
				int32_t res = serve_request(g, p->o, &sqes[i], q);
				if (res == SERVE_QUEUED)
					continue; /* on a worker: work_drain completes it */
				cqes[done].user_data = sqes[i].user_data;
				cqes[done].res = res;
				cqes[done].flags = 0;
				done++;
				agent_count_result(g, q, res);
			}
			g->qstats[q].requests += n > 0 ? (uint64_t)n : 0;
			if (done > 0)
				poller_complete(p, g, q, cqes, (uint32_t)done);
			if (n > 0)
				served += (uint32_t)n;
		}
		if (served != before)
			g->last_work = __rdtsc();
	}
	return served;
}

/* A wake-up by the main thread (hand-over, stat, stop) or by a guest's doorbell. */
static void _on_events(struct poller *p, const struct epoll_event *ev, int n, uint64_t now, int asleep)
{
	int woken = 0, control = 0, rung = 0;

	for (int i = 0; i < n; i++) {
		struct guest *g = ev[i].data.ptr;

		if (!g) {
			uint64_t cnt;
			/* Ours alone and non-blocking: reading it cannot block. */
			if (read(p->ctl, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
				agent_log("poller %d: reading its control eventfd: %s\n", p->idx, strerror(errno));
			control = 1;
		} else {
			_unpark(p, g, now);
			rung = 1;
		}
		woken = 1;
	}
	/* A wake-up with a guest's doorbell in it counts as a doorbell wake-up. Doorbells
	 * collected while awake unpark their guests but woke nobody. */
	if (woken && asleep) {
		p->stats.wakeups++;
		p->control_wakeups += (uint64_t)(control && !rung);
	}
}

/* Collects doorbells and control wake-ups, waiting up to timeout_ns (0: just look). */
static void _collect(struct poller *p, uint64_t timeout_ns, int asleep)
{
	struct epoll_event ev[EP_EVENTS];
	struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000ull),
			      .tv_nsec = (long)(timeout_ns % 1000000000ull)};
	int n;

	do {
		n = epoll_pwait2(p->ep, ev, EP_EVENTS, &ts, NULL);
		if (n > 0)
			_on_events(p, ev, n, __rdtsc(), asleep);
		/* A full batch may leave more behind: look again without waiting (still the
		 * same wake-up). */
		asleep = 0;
		ts.tv_sec = 0;
		ts.tv_nsec = 0;
	} while (n == EP_EVENTS);
	if (n < 0 && errno != EINTR)
		agent_log("poller %d: epoll_pwait2: %s\n", p->idx, strerror(errno));
}

static void _sleep(struct poller *p, uint64_t timeout_ns)
{
	uint64_t t0 = _now_ns();

	p->stats.sleeps++;
	_collect(p, timeout_ns, 1);
	p->asleep_ns += _now_ns() - t0;
}

static int _set_nice(pid_t tid, int nice)
{
	return setpriority(PRIO_PROCESS, (id_t)tid, nice) ? errno : 0;
}

/* t to the workers' priority (work.c): what a run that outlasted --inline-us runs at. */
static int _demote(const struct poller *p, const struct poller_thr *t)
{
	struct sched_param sp = {.sched_priority = 0};

	if (p->o->worker_nice < 0)
		return pthread_setschedparam(t->self, SCHED_IDLE, &sp);
	return _set_nice(t->tid, p->o->worker_nice);
}

/* The calling thread back to the scheduling it started with. 0 or an errno value. */
static int _restore(const struct poller_thr *me)
{
	int e = pthread_setschedparam(pthread_self(), me->policy, &me->param);

	return e ? e : _set_nice(me->tid, me->nice);
}

/* The watchdog runs WATCH_NICE_BOOST above the runner, so that its tick preempts a run
 * at once (on the same CPU, at the same priority, it waited up to a time slice). */
static int _watch(const struct poller_thr *me)
{
	int n = me->nice - WATCH_NICE_BOOST;

	return _set_nice(me->tid, n < -20 ? -20 : n);
}

/* The watchdog's period, or 0 to stop it. */
static void _tick_set(struct poller *p, uint64_t ns)
{
	struct timespec t = {.tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull)};
	struct itimerspec its = {.it_interval = t, .it_value = t};

	timerfd_settime(p->lend_tfd, 0, &its, NULL);
}

/* Wakes the thread waiting on lend_tfd (stopping). */
static void _poke_standby(struct poller *p)
{
	struct itimerspec its = {.it_value = {.tv_sec = 0, .tv_nsec = 1}};

	timerfd_settime(p->lend_tfd, 0, &its, NULL);
}

/* Someone besides a lone guest may be waiting for the poller: another guest, or news. */
static int _company(struct poller *p)
{
	return __atomic_load_n(&p->nr_guests, __ATOMIC_SEQ_CST) > 1 ||
	       __atomic_load_n(&p->news, __ATOMIC_SEQ_CST);
}

/* Wakes the watchdog for news (see Solo runs at the top). Non-blocking: cannot block. */
static void _poke_company(struct poller *p)
{
	uint64_t one = 1;

	if (p->company_fd >= 0 && write(p->company_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		agent_log("poller %d: cannot wake its watchdog: %s\n", p->idx, strerror(errno));
}

enum { LOOP_STOPPED, LOOP_TAKEN };

/*
 * Runs w here, lent: the other thread may take the role meanwhile. LOOP_STOPPED (here
 * meaning: the role is still ours) or LOOP_TAKEN (this thread no longer holds it and must
 * not touch the poller's state: its result went the workers' way).
 */
static int _run_lent(struct poller *p, struct poller_thr *me, struct work_item *w)
{
	uint64_t seq = (__atomic_load_n(&p->lend, __ATOMIC_RELAXED) >> 8) + 1;
	/* Solo only with nothing else of its guest's out on the workers: their results
	 * would wait for this run unwatched (a run that is not solo is watched, and taken
	 * over after a tick). */
	int solo = w->solo && w->g->inflight == 1;
	uint64_t mine = seq << 8 | (solo ? LEND_SOLO : 0) | (uint64_t)(me->i + 1);

	/* The watchdog ticks while shared runs are lent (_standby stops the ticks when there
	 * are none). Both sides store, then load the other's word (seq_cst): one of them sees
	 * the other, so a shared run is never lent with the ticks stopped. A solo run needs
	 * them too when company came meanwhile: the poke that came with it, or this check
	 * after the store, starts them. The store also releases the poller's state to a
	 * thread that takes over. */
	uint64_t t0 = _now_ns();
	__atomic_store_n(&p->lend_t0, t0, __ATOMIC_RELAXED);
	__atomic_store_n(&p->lend, mine, __ATOMIC_SEQ_CST);
	if (!solo)
		__atomic_add_fetch(&p->lend_shared, 1, __ATOMIC_SEQ_CST);
	if ((!solo || _company(p)) && !__atomic_load_n(&p->tick_on, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&p->tick_on, 1, __ATOMIC_SEQ_CST);
		_tick_set(p, p->tick_ns);
	}
	serve_run(w);
	uint64_t dt = _now_ns() - t0;
	if (__atomic_compare_exchange_n(&p->lend, &mine, seq << 8, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		/* Its guest waited on us, not idle: not to be parked for the run's length (it
		 * would have to ring for its next call, as a guest answered by a worker while
		 * we slept does not: poller_complete unparks it). */
		w->g->last_work = __rdtsc();
		p->inline_runs++;
		p->solo_runs += (uint64_t)solo;
		/* Alone, so what is ready now came during the run: its other threads (or an
		 * async batch) waited for it, where workers would have run them meanwhile. */
		if (solo && !_none_ready(p))
			work_solo_overlap(w->g);
		work_ran_inline(p, w, dt, 0, solo);
		return LOOP_STOPPED;
	}
	/* Taken over: the taker demotes us under lend_lock; wait for that before anything
	 * else, so that our own restore comes after it. */
	pthread_mutex_lock(&p->lend_lock);
	pthread_mutex_unlock(&p->lend_lock);
	work_ran_inline(p, w, dt, 1, 0);
	int e = _restore(me);
	if (e && !__atomic_exchange_n(&p->inline_off, 1, __ATOMIC_ACQ_REL))
		agent_log("poller %d: a thread demoted for a long inline run cannot get its priority "
			  "back (%s; needs CAP_SYS_NICE or RLIMIT_NICE >= 20): inline runs stop\n",
			  p->idx, strerror(e));
	return LOOP_TAKEN;
}

/*
 * The thread not holding the role: the watchdog of inline runs. It wakes every tick_ns
 * while shared runs are lent, or a solo run with company, and takes over a run that has
 * lasted tick_ns or more (its start is p->lend_t0; the CAS on the whole lend word,
 * sequence and runner, makes sure it is that run). With no shared run lent since the last
 * tick, and no run now that needs watching, the ticks stop until the next shared run or
 * news. 1 when this thread now holds the role; 0 when stopping (or inline runs stopped).
 */
static int _standby(struct poller *p, struct poller_thr *me)
{
	uint64_t last = 0;
	struct pollfd pf[2] = {{.fd = p->lend_tfd, .events = POLLIN}, {.fd = p->company_fd, .events = POLLIN}};

	if (_watch(me) && !__atomic_exchange_n(&p->inline_off, 1, __ATOMIC_ACQ_REL))
		agent_log("poller %d: the watchdog cannot raise its priority: inline runs stop\n", p->idx);
	for (;;) {
		uint64_t n;

		if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE) || __atomic_load_n(&p->inline_off, __ATOMIC_ACQUIRE))
			return 0;
		__atomic_store_n(&p->standby_ready, 1, __ATOMIC_RELEASE);
		int got = poll(pf, 2, -1);
		if (got < 0 && errno == EINTR)
			continue; /* a signal, not a tick */
		if (got < 0 || (pf[0].revents & POLLIN && read(p->lend_tfd, &n, sizeof(n)) < 0)) {
			agent_log("poller %d: waiting for its inline-run timer: %s; inline runs stop\n",
				  p->idx, strerror(errno));
			__atomic_store_n(&p->standby_ready, 0, __ATOMIC_RELEASE);
			__atomic_store_n(&p->inline_off, 1, __ATOMIC_RELEASE);
			return 0;
		}
		int news = 0;
		if (pf[1].revents & POLLIN) {
			/* News: a solo run lent now needs watching (a later one sees the company
			 * itself, see _run_lent). Non-blocking: a drained count is EAGAIN. */
			news = read(p->company_fd, &n, sizeof(n)) > 0;
			if (news && !__atomic_load_n(&p->tick_on, __ATOMIC_SEQ_CST)) {
				__atomic_store_n(&p->tick_on, 1, __ATOMIC_SEQ_CST);
				_tick_set(p, p->tick_ns);
			}
		}
		if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
			return 0;
		uint64_t v = __atomic_load_n(&p->lend, __ATOMIC_ACQUIRE);
		uint64_t shared = __atomic_load_n(&p->lend_shared, __ATOMIC_SEQ_CST);
		if (!(v & LEND_RUNNER) || ((v & LEND_SOLO) && !_company(p))) {
			if (shared != last || news) {
				last = shared; /* shared runs since the last tick, or news */
				continue;
			}
			/* Nothing to watch: stop ticking, then look again (see _run_lent). */
			__atomic_store_n(&p->tick_on, 0, __ATOMIC_SEQ_CST);
			_tick_set(p, 0);
			uint64_t now_v = __atomic_load_n(&p->lend, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&p->lend_shared, __ATOMIC_SEQ_CST) != shared ||
			    ((now_v & LEND_RUNNER) && _company(p))) {
				__atomic_store_n(&p->tick_on, 1, __ATOMIC_SEQ_CST);
				_tick_set(p, p->tick_ns);
			}
			continue;
		}
		last = shared;
		/* Acquire on lend: t0 is this run's, or a later one's (then the CAS fails). */
		if (_now_ns() - __atomic_load_n(&p->lend_t0, __ATOMIC_RELAXED) < p->tick_ns)
			continue;
		pthread_mutex_lock(&p->lend_lock);
		if (__atomic_compare_exchange_n(&p->lend, &v, v & ~(LEND_SOLO | LEND_RUNNER), 0, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			/* Until our thread waits here again (the runner, once done), nothing runs
			 * inline: no one would be there to take over, nor ticks to wake anyone. */
			__atomic_store_n(&p->standby_ready, 0, __ATOMIC_RELEASE);
			__atomic_store_n(&p->tick_on, 0, __ATOMIC_SEQ_CST);
			_tick_set(p, 0);
			int e = _demote(p, &p->thr[(v & LEND_RUNNER) - 1]);
			if (e)
				agent_log("poller %d: cannot demote a long inline run: %s\n", p->idx, strerror(e));
			p->takeovers++;
			pthread_mutex_unlock(&p->lend_lock);
			/* The poller's own priority again, for the loop (lowering: always allowed). */
			_set_nice(me->tid, me->nice);
			return 1;
		}
		pthread_mutex_unlock(&p->lend_lock);
	}
}

/* The poller's loop, run by the thread holding the role: LOOP_STOPPED once the poller has
 * stopped (and shut down), LOOP_TAKEN when an inline run was taken over. */
static int _loop(struct poller *p, struct poller_thr *me)
{
	double tsc_us = p->tsc_per_us;
	uint64_t spin = (uint64_t)((double)p->o->spin_us * tsc_us);
	uint64_t check = (uint64_t)(BELL_CHECK_US * tsc_us);
	uint64_t sweep = (uint64_t)(SLEEP_TIMEOUT_MS * 1000.0 * tsc_us);
	uint64_t last_work = __rdtsc(), last_check = last_work, last_sweep = last_work;
	uint64_t plain_max = p->o->plain_poll_us * 1000ull;
	uint64_t plain_first = PLAIN_FIRST_NS < plain_max ? PLAIN_FIRST_NS : plain_max;
	uint64_t plain_ns = plain_first;

	for (;;) {
		_apply_handovers(p);
		int stop = __atomic_load_n(&p->stop, __ATOMIC_ACQUIRE);
		/* The last pass looks at every guest, parked or not: whatever was queued when
		 * the stop came is completed, doorbell or no doorbell. */
		if (stop)
			for (struct guest *g = p->guests; g; g = g->next)
				_unpark(p, g, __rdtsc());
		uint32_t n = poller_pass(p);
		p->stats.passes++;
		if (p->held_head) {
			/* Ops held back for an inline run: one runs now if every active guest waits
			 * for an op (nothing else to serve) and a thread stands by; the rest, or
			 * all, go to the workers. */
			struct work_item *w = NULL;
			if (!stop && _all_waiting(p) && _none_ready(p) &&
			    __atomic_load_n(&p->standby_ready, __ATOMIC_ACQUIRE) &&
			    !__atomic_load_n(&p->inline_off, __ATOMIC_ACQUIRE))
				w = work_take_held(p);
			work_release_held(p);
			if (w) {
				p->stats.busy_passes++;
				if (_run_lent(p, me, w) == LOOP_TAKEN)
					return LOOP_TAKEN;
				last_work = __rdtsc();
				continue; /* the next pass completes it */
			}
		}
		/* Stopping: what this pass took is completed; what a guest still queues is not
		 * accepted (it sees the socket close), so a busy guest cannot hold us here. */
		if (stop)
			break;
		uint64_t now = __rdtsc();
		if (n) {
			p->stats.busy_passes++;
			last_work = now;
			plain_ns = plain_first;
		}
		/* Awake: now and then, parked guests that rang come back and idle ones park. With
		 * nothing parked and one guest (the common case) this costs nothing. */
		if (now - last_check >= check) {
			last_check = now;
			if (p->nr_parked)
				_collect(p, 0, 0);
			_park_idle(p, now, spin);
			if (now - last_sweep >= sweep) {
				last_sweep = now;
				_sweep_parked(p, now);
			}
		}
		if (n)
			continue;
		if (now - last_work < spin) {
			if (!p->work_inflight) {
				_mm_pause();
				continue;
			}
			/* Ops out on the workers and every active guest waiting for one: nothing
			 * can arrive that a doorbell would not announce once they are parked, so
			 * sleep until a worker's result (our control eventfd) or a doorbell, and
			 * leave this CPU to the worker whole. A yield would leave it only in
			 * part: a worker below our nice ran at a fraction of its speed. */
			if (_all_waiting(p)) {
				if (_park_idle(p, now, 0))
					continue; /* work arrived meanwhile */
				_sleep(p, SLEEP_TIMEOUT_MS * 1000000ull);
				last_work = __rdtsc();
				continue;
			}
			/* A guest that may submit at any moment, unannounced: stay awake, but let
			 * a worker have this CPU between looks. */
			sched_yield();
			continue;
		}
		/* Every active guest that can ring is parked; work that arrived meanwhile keeps
		 * its guest active and us awake. */
		if (_park_idle(p, now, 0))
			continue;
		/* ivshmem-plain guests cannot ring: sleep briefly, longer and longer while idle,
		 * up to --plain-poll-us. Otherwise only a doorbell or the timeout wakes us. */
		int plain = p->active != NULL;
		_sleep(p, plain ? plain_ns : SLEEP_TIMEOUT_MS * 1000000ull);
		if (plain && (plain_ns *= 2) > plain_max)
			plain_ns = plain_max;
		now = __rdtsc();
		if (now - last_sweep >= sweep) {
			last_sweep = now;
			_sweep_parked(p, now);
		}
		last_work = now;
	}
	/* Shutting down: everything in flight was served by the last passes, or is on the
	 * workers (or a thread that was ours): they finish and complete. Guests handed over at
	 * the last moment are taken in so that they are released too. */
	work_drain_all(p);
	_apply_handovers(p);
	for (struct guest *g = p->guests; g;) {
		struct guest *n = g->next;
		poller_retire(p, g);
		g = n;
	}
	p->guests = NULL;
	_poke_standby(p);
	return LOOP_STOPPED;
}

static void *_poller_main(void *arg)
{
	struct poller_thr *me = arg;
	struct poller *p = me->p;
	int holds = me->i == 0, ret = _bell_timer_create();

	if (ret)
		agent_log("poller %d: no doorbell write timer (%s); a guest could block a write\n", p->idx,
			  strerror(-ret));
	me->self = pthread_self();
	me->tid = (pid_t)syscall(SYS_gettid);
	errno = 0;
	me->nice = getpriority(PRIO_PROCESS, (id_t)me->tid);
	if (errno)
		me->nice = 0;
	if (pthread_getschedparam(me->self, &me->policy, &me->param)) {
		me->policy = SCHED_OTHER;
		me->param = (struct sched_param){.sched_priority = 0};
	}
	if (p->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(p->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
			agent_log("poller %d: cannot pin to CPU %d; running unpinned\n", p->idx, p->cpu);
	}
	if (!holds) {
		/* Can a demoted thread get its priority back here, and a watchdog raise its
		 * own? Tried on ourselves. */
		int e = _demote(p, me);
		if (!e)
			e = _restore(me);
		if (!e)
			e = _watch(me);
		if (!e)
			e = _set_nice(me->tid, me->nice);
		if (e) {
			agent_log("poller %d: inline runs off: a thread cannot take back its priority "
				  "after a demotion, or raise it to watch (%s; needs CAP_SYS_NICE or "
				  "RLIMIT_NICE >= 20)\n",
				  p->idx, strerror(e));
			__atomic_store_n(&p->inline_off, 1, __ATOMIC_RELEASE);
			holds = -1;
		}
	}
	while (holds >= 0) {
		if (holds && _loop(p, me) == LOOP_STOPPED)
			break;
		holds = _standby(p, me) ? 1 : -1;
	}
	if (has_bell_timer)
		timer_delete(bell_timer);
	return NULL;
}

/* Called with p->lock held after changing the hand-over lists or stop. */
static void _handover_posted(struct poller *p)
{
	__atomic_store_n(&p->news, 1, __ATOMIC_SEQ_CST); /* seq_cst: see _run_lent */
}

/* The poller's own eventfd: non-blocking and never handed to a guest, so this cannot block. */
static void _ring_ctl(struct poller *p)
{
	uint64_t one = 1;
	if (write(p->ctl, &one, sizeof(one)) < 0 && errno != EAGAIN)
		agent_log("poller %d: cannot ring its control eventfd: %s\n", p->idx, strerror(errno));
}

int poller_init(struct poller *p, const struct agent_opts *o, int idx, int cpu, int stat_notify)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	int ret;

	memset(p, 0, sizeof(*p));
	p->idx = idx;
	p->cpu = cpu;
	p->o = o;
	p->stat_notify = stat_notify;
	p->ep = epoll_create1(EPOLL_CLOEXEC);
	if (p->ep < 0)
		return -errno;
	p->ctl = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->ctl < 0 || epoll_ctl(p->ep, EPOLL_CTL_ADD, p->ctl, &ev) < 0) {
		ret = -errno;
		if (p->ctl >= 0)
			close(p->ctl);
		close(p->ep);
		return ret;
	}
	p->lend_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	p->company_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->lend_tfd < 0 || p->company_fd < 0) {
		ret = -errno;
		if (p->lend_tfd >= 0)
			close(p->lend_tfd);
		close(p->ctl);
		close(p->ep);
		return ret;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->lend_lock, NULL);
	p->start_ns = _now_ns();
	return 0;
}

void poller_fini(struct poller *p)
{
	close(p->ctl);
	close(p->ep);
	close(p->lend_tfd);
	close(p->company_fd);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->lend_lock);
	free(p->stat_text);
	p->stat_text = NULL;
}

int poller_start(struct poller *p, const struct agent_opts *o, int idx, int cpu, int stat_notify)
{
	int ret = poller_init(p, o, idx, cpu, stat_notify);

	if (ret)
		return ret;
	for (int i = 0; i < 2; i++)
		p->thr[i] = (struct poller_thr){.p = p, .i = i};
	p->tsc_per_us = _tsc_per_us();
	/* Set before the threads start: work_submit reads it on the poller thread. */
	p->inline_ns = o->inline_us * 1000ull;
	p->tick_ns = p->inline_ns * INLINE_TICKS;
	ret = pthread_create(&p->thr[0].t, NULL, _poller_main, &p->thr[0]);
	if (ret) {
		poller_fini(p);
		return -ret;
	}
	p->thr[0].started = 1;
	if (p->inline_ns) {
		ret = pthread_create(&p->thr[1].t, NULL, _poller_main, &p->thr[1]);
		if (ret) {
			agent_log("poller %d: no second thread (%s): inline runs off\n", idx, strerror(ret));
			p->inline_off = 1;
		} else {
			p->thr[1].started = 1;
		}
	}
	return 0;
}

void poller_stat_ask(struct poller *p)
{
	pthread_mutex_lock(&p->lock);
	free(p->stat_text); /* a late answer to an earlier request */
	p->stat_text = NULL;
	p->stat_req = 1;
	_handover_posted(p);
	pthread_mutex_unlock(&p->lock);
	_ring_ctl(p);
	_poke_company(p);
}

char *poller_stat_take(struct poller *p)
{
	pthread_mutex_lock(&p->lock);
	char *text = p->stat_text;
	p->stat_text = NULL;
	pthread_mutex_unlock(&p->lock);
	return text;
}

void poller_add(struct poller *p, struct guest *g)
{
	g->poller = p;
	pthread_mutex_lock(&p->lock);
	g->hnext = p->add;
	p->add = g;
	__atomic_add_fetch(&p->nr_guests, 1, __ATOMIC_SEQ_CST);
	_handover_posted(p);
	pthread_mutex_unlock(&p->lock);
	_ring_ctl(p);
	_poke_company(p);
}

void poller_remove(struct poller *p, struct guest *g)
{
	pthread_mutex_lock(&p->lock);
	/* A guest still waiting in the add list is taken out there; else handed to remove. */
	for (struct guest **pp = &p->add; *pp; pp = &(*pp)->hnext) {
		if (*pp == g) {
			*pp = g->hnext;
			__atomic_sub_fetch(&p->nr_guests, 1, __ATOMIC_SEQ_CST);
			pthread_mutex_unlock(&p->lock);
			guest_destroy(g);
			return;
		}
	}
	g->hnext = p->remove;
	p->remove = g;
	_handover_posted(p);
	pthread_mutex_unlock(&p->lock);
	_ring_ctl(p);
	_poke_company(p);
}

void poller_stop(struct poller *p)
{
	pthread_mutex_lock(&p->lock);
	/* Guests still being handed over are taken in before the last pass. */
	_handover_posted(p);
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&p->lock);
	_ring_ctl(p);
	_poke_standby(p);
	for (int i = 0; i < 2; i++)
		if (p->thr[i].started)
			pthread_join(p->thr[i].t, NULL);
	poller_fini(p);
}
