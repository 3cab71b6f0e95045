/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Worker threads for long ops (big sgemm, exec, resource registration...), so that one
 * guest's expensive request does not hold the poller, and with it every other guest.
 *
 * Ownership: a poller validates and prepares a call (serve.c), queues it here
 * (work_submit) and is the only thread that completes it into its guest's CQ
 * (work_drain): the CQ keeps one producer. A worker runs the call, appends it to its
 * poller's result list under the lock, and rings the poller's private control eventfd
 * (p->ctl, which no guest holds) after unlocking: the poller, woken, takes the lock at
 * once, and a ring under it made the woken poller preempt the worker only to wait for
 * it (two more context switches per op). p->work_ringing counts rings still to come, so
 * that a stopping poller does not close the eventfd before them (work_drain_all). The
 * poller drains results whether their guest is active or
 * parked, and rings a sleeping guest as for any completion (poller_complete). One mutex
 * protects every queue, the result lists and the counters; a poller looks at its list
 * only when work_news says there is something.
 *
 * Fairness is by worker time, not by request count (start-time fair queuing): each guest
 * has a queue (struct work_q) with a virtual clock that advances by the worker time its
 * ops take; a free worker takes the head of the queue whose clock is lowest. A queue that
 * was idle starts at the current virtual time, so idling banks no credit. An op's expected
 * time is charged when it starts (so two workers do not both pick the same guest on a
 * stale clock) and corrected when it ends.
 *
 * A guest's calls keep it alive: the poller releases a guest that left only when its last
 * call came back (g->inflight), so a worker never touches a released region or session.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime/agent/agent.h"

#define EST_FIRST_NS 1000000ull /* expected time of a guest's first op: 1 ms */
#define SOLO_BAR 256            /* ops without solo runs after one overlapped (agent.h) */

/*
 * Which worker takes a call: the one that ran the last (its caches and its malloc arena
 * hold that guest's model and buffers; a CNN ran ~2% slower when two workers took turns).
 * A worker that has just finished is "spare" until it looks at the queues again, so a
 * call queued meanwhile wakes nobody; otherwise the worker that went idle last is woken
 * (a stack of idle workers, each with its own condition variable).
 */
static struct {
	pthread_mutex_t lock;
	struct work_q *ready; /* queues with calls */
	uint64_t vnow;        /* virtual time: the clock of the queue picked last */
	uint64_t queued, running, ops, used_ns, inline_ops;
	uint32_t max_queued;
	int stop, nr, nice;
	int spare;                        /* workers done with a call, about to look again */
	int nidle, idle[AGENT_MAX_WORKERS]; /* idle workers, the last to go idle on top */
	int woken[AGENT_MAX_WORKERS];
	pthread_cond_t cv[AGENT_MAX_WORKERS];
	pthread_t threads[AGENT_MAX_WORKERS];
	int cpus[AGENT_MAX_WORKERS];
} W = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uint64_t _now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Caller holds the lock. */
static void _unlist(struct work_q *q)
{
	for (struct work_q **pp = &W.ready; *pp; pp = &(*pp)->next) {
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	}
	q->next = NULL;
	q->listed = 0;
}

/* Rings p's control eventfd (non-blocking). */
static void _ring(struct poller *p)
{
	uint64_t one = 1;

	if (write(p->ctl, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, the poller wakes anyway */
	}
}

/* w at the end of the list head..tail. */
static void _append(struct work_item **head, struct work_item **tail, struct work_item *w)
{
	w->next = NULL;
	if (*tail)
		(*tail)->next = w;
	else
		*head = w;
	*tail = w;
}

/* Caller holds the lock: hands w back to its poller, which the caller then rings. */
static struct poller *_to_poller(struct work_item *w)
{
	struct poller *p = w->g->poller;

	_append(&p->done_head, &p->done_tail, w);
	/* Release pairs with the acquire in work_drain: cheap look before the lock. */
	__atomic_store_n(&p->work_news, 1, __ATOMIC_RELEASE);
	return p;
}

/* Caller holds the lock: what ops of w's kind took lately, or 0 if not known. */
static uint64_t _kind_est(const struct work_q *q, uint64_t kind)
{
	for (int i = 0; i < WORK_KINDS; i++)
		if (q->kinds[i].est_ns && q->kinds[i].kind == kind)
			return q->kinds[i].est_ns;
	return 0;
}

/* Caller holds the lock: folds dt into the time of ops of that kind. */
static void _kind_ran(struct work_q *q, uint64_t kind, uint64_t dt)
{
	int i;

	if (!dt)
		dt = 1;
	for (i = 0; i < WORK_KINDS; i++) {
		if (q->kinds[i].est_ns && q->kinds[i].kind == kind) {
			q->kinds[i].est_ns = (3 * q->kinds[i].est_ns + dt) / 4;
			return;
		}
	}
	i = (int)(q->kinds_next++ % WORK_KINDS);
	q->kinds[i].kind = kind;
	q->kinds[i].est_ns = dt;
}

/* Caller holds the lock: w of queue q ran for dt (est charged when it started) and goes
 * back to its poller. */
static struct poller *_ran(struct work_q *q, struct work_item *w, uint64_t est, uint64_t dt)
{
	_kind_ran(q, w->kind, dt);
	q->vtime_ns = q->vtime_ns - est + dt;
	q->est_ns = (3 * q->est_ns + dt) / 4;
	q->used_ns += dt;
	q->ops++;
	q->active--;
	W.ops++;
	W.used_ns += dt;
	return _to_poller(w);
}

/* Caller holds the lock: w joins its guest's queue, and a worker is told. */
static void _enqueue(struct work_q *q, struct work_item *w)
{
	_append(&q->head, &q->tail, w);
	if (!q->listed) {
		if (q->vtime_ns < W.vnow)
			q->vtime_ns = W.vnow;
		q->next = W.ready;
		W.ready = q;
		q->listed = 1;
	}
	W.queued++;
	/* A spare worker will see it; else wake the one that went idle last. */
	if (W.queued > (uint64_t)W.spare && W.nidle) {
		int t = W.idle[--W.nidle];
		W.woken[t] = 1;
		pthread_cond_signal(&W.cv[t]);
	}
}

/* Caller holds the lock: the queue with the lowest clock, or NULL. */
static struct work_q *_pick(void)
{
	struct work_q *best = NULL;

	for (struct work_q *q = W.ready; q; q = q->next)
		if (!best || q->vtime_ns < best->vtime_ns)
			best = q;
	return best;
}

static void *_worker_main(void *arg)
{
	int idx = (int)(intptr_t)arg;

	if (W.cpus[idx] >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(W.cpus[idx], &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
			agent_log("worker %d: cannot pin to CPU %d; running unpinned\n", idx, W.cpus[idx]);
	}
	/* Below the pollers and the guests. SCHED_IDLE (the default): the kernel preempts an
	 * idle-policy thread at once for any other that wakes, and gives it the CPU time
	 * that nothing else wants. With a nice value instead, a worker the kernel picks runs
	 * until the next tick: on a CPU it shares with a poller or a busy guest, that guest's
	 * small calls waited up to 4 ms behind a neighbour's long op (p99). */
	if (W.nice < 0) {
		struct sched_param sp = {.sched_priority = 0};
		int e = pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
		if (e)
			agent_log("worker %d: cannot take SCHED_IDLE: %s\n", idx, strerror(e));
	} else if (W.nice && setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), W.nice)) {
		agent_log("worker %d: cannot set nice %d: %s\n", idx, W.nice, strerror(errno));
	}
	pthread_mutex_lock(&W.lock);
	for (;;) {
		struct work_q *q = _pick();

		if (!q) {
			if (W.stop)
				break;
			W.idle[W.nidle++] = idx;
			W.woken[idx] = 0;
			while (!W.woken[idx] && !W.stop)
				pthread_cond_wait(&W.cv[idx], &W.lock);
			if (!W.woken[idx]) /* stopping: off the idle stack */
				for (int i = 0; i < W.nidle; i++)
					if (W.idle[i] == idx)
						W.idle[i] = W.idle[--W.nidle];
			continue;
		}
		struct work_item *w = q->head;
		q->head = w->next;
		if (!q->head) {
			q->tail = NULL;
			_unlist(q);
		}
		W.queued--;
		W.running++;
		W.vnow = q->vtime_ns;
		uint64_t est = q->est_ns;
		q->vtime_ns += est;
		pthread_mutex_unlock(&W.lock);

		uint64_t t0 = _now_ns();
		serve_run(w);
		uint64_t dt = _now_ns() - t0;

		pthread_mutex_lock(&W.lock);
		W.running--;
		struct poller *p = _ran(q, w, est, dt);
		__atomic_fetch_add(&p->work_ringing, 1, __ATOMIC_RELAXED);
		W.spare++;
		pthread_mutex_unlock(&W.lock);
		_ring(p);
		/* Release: the stopping poller's acquire sees the ring done. */
		__atomic_fetch_sub(&p->work_ringing, 1, __ATOMIC_RELEASE);
		pthread_mutex_lock(&W.lock);
		W.spare--;
	}
	pthread_mutex_unlock(&W.lock);
	return NULL;
}

int work_start(const struct agent_opts *o)
{
	W.max_queued = o->max_queued;
	W.nice = o->worker_nice;
	for (int i = 0; i < AGENT_MAX_WORKERS; i++)
		pthread_cond_init(&W.cv[i], NULL);
	for (int i = 0; i < o->nr_workers; i++) {
		W.cpus[i] = o->nr_worker_cpus ? o->worker_cpus[i % o->nr_worker_cpus] : -1;
		int ret = pthread_create(&W.threads[i], NULL, _worker_main, (void *)(intptr_t)i);
		if (ret) {
			work_stop();
			return -ret;
		}
		W.nr = i + 1;
	}
	return 0;
}

void work_stop(void)
{
	pthread_mutex_lock(&W.lock);
	W.stop = 1;
	for (int i = 0; i < W.nr; i++)
		pthread_cond_signal(&W.cv[i]);
	pthread_mutex_unlock(&W.lock);
	for (int i = 0; i < W.nr; i++)
		pthread_join(W.threads[i], NULL);
	W.nr = 0;
}

int work_submit(struct work_item *w)
{
	struct guest *g = w->g;
	struct poller *p = g->poller;
	struct work_q *q = &g->wq;

	pthread_mutex_lock(&W.lock);
	if (q->active >= W.max_queued) {
		pthread_mutex_unlock(&W.lock);
		return -EAGAIN;
	}
	q->active++;
	if (!q->est_ns)
		q->est_ns = EST_FIRST_NS;
	/* An op of a kind this guest ran lately in --inline-us or less may run on its
	 * poller (poller.c, inline runs): held back until the pass ends. So may any op of
	 * a guest alone on its poller (a solo run: it stalls no one). The first of a kind
	 * goes to a worker. */
	int alone = p->inline_ns && !q->solo_bar &&
		    __atomic_load_n(&p->nr_guests, __ATOMIC_RELAXED) == 1;
	if (q->solo_bar)
		q->solo_bar--;
	uint64_t kest = p->inline_ns && (alone || !q->inline_bar) ? _kind_est(q, w->kind) : 0;
	w->solo = 0;
	if (kest && (alone || kest <= p->inline_ns) &&
	    __atomic_load_n(&p->standby_ready, __ATOMIC_ACQUIRE)) {
		w->solo = alone;
		_append(&p->held_head, &p->held_tail, w);
	} else {
		if (q->inline_bar)
			q->inline_bar--;
		_enqueue(q, w);
	}
	pthread_mutex_unlock(&W.lock);
	/* Poller thread only. */
	g->inflight++;
	g->owed[w->q]++;
	g->poller->work_inflight++;
	return 0;
}

struct work_item *work_take_held(struct poller *p)
{
	struct work_item *w = p->held_head;

	if (w) {
		p->held_head = w->next;
		if (!p->held_head)
			p->held_tail = NULL;
		w->next = NULL;
	}
	return w;
}

void work_release_held(struct poller *p)
{
	struct work_item *w = p->held_head;

	if (!w)
		return;
	p->held_head = p->held_tail = NULL;
	pthread_mutex_lock(&W.lock);
	while (w) {
		struct work_item *next = w->next;
		_enqueue(&w->g->wq, w);
		w = next;
	}
	pthread_mutex_unlock(&W.lock);
}

void work_ran_inline(struct poller *p, struct work_item *w, uint64_t dt, int ring, int solo)
{
	struct work_q *q = &w->g->wq;

	pthread_mutex_lock(&W.lock);
	/* Charged now, as a worker's op is when it starts: the clock of a queue that was
	 * idle starts at the current virtual time. */
	if (!q->listed && q->vtime_ns < W.vnow)
		q->vtime_ns = W.vnow;
	_ran(q, w, 0, dt);
	W.inline_ops++;
	/* A run that outlasted --inline-us, taken over or not, held the guest's neighbours
	 * that long: the guest's next ops go to the workers, more of them each time. */
	if (solo) {
		/* Stalled no one (or was taken over: then ring is set and solo is not). */
	} else if (dt > p->inline_ns) {
		if (q->inline_strikes < 10)
			q->inline_strikes++;
		q->inline_bar = 16u << q->inline_strikes;
		q->inline_good = 0;
	} else if (q->inline_strikes && ++q->inline_good >= 256) {
		q->inline_strikes--;
		q->inline_good = 0;
	}
	if (ring)
		__atomic_fetch_add(&p->work_ringing, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&W.lock);
	if (ring) {
		_ring(p);
		__atomic_fetch_sub(&p->work_ringing, 1, __ATOMIC_RELEASE);
	}
}

void work_solo_overlap(struct guest *g)
{
	pthread_mutex_lock(&W.lock);
	g->wq.solo_bar = SOLO_BAR;
	pthread_mutex_unlock(&W.lock);
}

uint32_t work_take_budget(struct guest *g, uint32_t q, uint32_t want)
{
	uint32_t owed = g->owed[q];

	if (!owed)
		return want;
	/* The CQ must keep room for every completion the workers still owe. */
	int fr = _vtr_ring_free(&g->qps[q].cq, want + owed);
	if (fr <= (int)owed)
		return 0;
	return (uint32_t)fr - owed < want ? (uint32_t)fr - owed : want;
}

uint32_t work_drain(struct poller *p)
{
	struct vtr_cqe cqes[AGENT_TAKE_BUDGET];
	struct guest *bg = NULL; /* cqes are for queue pair bq of guest bg */
	uint32_t bq = 0, nb = 0, n = 0;
	struct work_item *w;

	/* Acquire pairs with the release in _to_poller. */
	if (!__atomic_load_n(&p->work_news, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&W.lock);
	w = p->done_head;
	p->done_head = p->done_tail = NULL;
	__atomic_store_n(&p->work_news, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&W.lock);
	for (; w; n++) {
		struct work_item *next = w->next;
		struct guest *g = w->g;
		uint32_t q = w->q;
		uint64_t user_data;
		int32_t res = serve_finish(w, &user_data); /* frees w */

		g->inflight--;
		g->owed[q]--;
		p->work_inflight--;
		w = next;
		if (g->retiring || g->broken) {
			g->dropped++;
			if (g->retiring && !g->inflight)
				poller_retire(p, g);
			continue;
		}
		/* Consecutive results of one queue pair go out as one batch (one kick). */
		if (nb && (bg != g || bq != q || nb == AGENT_TAKE_BUDGET)) {
			poller_complete(p, bg, bq, cqes, nb);
			nb = 0;
		}
		bg = g;
		bq = q;
		cqes[nb++] = (struct vtr_cqe){.user_data = user_data, .res = res};
		agent_count_result(g, q, res);
	}
	if (nb)
		poller_complete(p, bg, bq, cqes, nb);
	return n;
}

void work_drain_all(struct poller *p)
{
	while (p->work_inflight) {
		struct pollfd pfd = {.fd = p->ctl, .events = POLLIN};
		uint64_t cnt;

		if (work_drain(p))
			continue;
		if (poll(&pfd, 1, 100) > 0 && read(p->ctl, &cnt, sizeof(cnt)) < 0) {
			/* EAGAIN: nothing after all; look again */
		}
	}
	/* The workers that handed our last results over ring after unlocking: our eventfd
	 * stays open until they have (a few instructions). A short sleep, not a yield: an
	 * idle-policy worker on our CPU may only run while we are off it. */
	while (__atomic_load_n(&p->work_ringing, __ATOMIC_ACQUIRE)) {
		struct timespec ts = {.tv_sec = 0, .tv_nsec = 50000};
		nanosleep(&ts, NULL);
	}
}

int work_guest_gone(struct guest *g)
{
	struct work_q *q = &g->wq;
	uint32_t dropped = 0;

	if (!g->inflight)
		return 0;
	pthread_mutex_lock(&W.lock);
	/* Calls still queued are dropped unrun (they come back through work_drain). */
	while (q->head) {
		struct work_item *w = q->head;
		q->head = w->next;
		q->active--;
		W.queued--;
		dropped++;
		_to_poller(w); /* this is the poller: its next pass takes them, no ring needed */
	}
	q->tail = NULL;
	if (q->listed)
		_unlist(q);
	uint32_t running = q->active;
	pthread_mutex_unlock(&W.lock);
	g->retiring = 1;
	agent_glog(g, "left with %u op(s) queued (dropped) and %u running on the workers; its "
		   "sessions go when they end\n", dropped, running);
	return 1;
}

void work_stat(FILE *f)
{
	pthread_mutex_lock(&W.lock);
	fprintf(f, "workers %d: queued %llu running %llu ops %llu busy_s %.3f max_queued_per_guest %u "
		   "inline_ops %llu\n",
		W.nr, (unsigned long long)W.queued, (unsigned long long)W.running,
		(unsigned long long)W.ops, (double)W.used_ns / 1e9, W.max_queued,
		(unsigned long long)W.inline_ops);
	pthread_mutex_unlock(&W.lock);
}

void work_guest_stat(FILE *f, const struct guest *g)
{
	pthread_mutex_lock(&W.lock);
	uint64_t queued = 0;
	for (const struct work_item *w = g->wq.head; w; w = w->next)
		queued++;
	fprintf(f, "    workers: queued %llu running %llu ops %llu time_s %.3f share_pct %.2f\n",
		(unsigned long long)queued, (unsigned long long)(g->wq.active - queued),
		(unsigned long long)g->wq.ops, (double)g->wq.used_ns / 1e9,
		W.used_ns ? 100.0 * (double)g->wq.used_ns / (double)W.used_ns : 0.0);
	pthread_mutex_unlock(&W.lock);
}
