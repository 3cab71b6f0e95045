/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A poller thread: drains the submission rings of its guests with bounded work per queue
 * pair per pass, completes each request, and when there has been nothing to do for the
 * spin budget, announces sleep on every SQ and sleeps in io_uring on its doorbell eventfd
 * plus a timeout. If io_uring is forbidden here, it sleeps in poll() instead.
 */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "runtime/agent/agent.h"

#define SLEEP_TIMEOUT_MS 1000 /* wake at least this often (heartbeat, hand-overs) */

struct sleeper {
	int use_uring;
	struct io_uring ring;
	int armed;      /* a read on the bell is queued */
	uint64_t count; /* read target of the queued read */
};

static double _tsc_per_us(void)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	uint64_t t0 = __rdtsc();
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 20000000L);
	return (double)(__rdtsc() - t0) / 20000.0;
}

/* Only the poller ever touched a guest's sessions and rings: it releases them. */
static void _retire(struct guest *g)
{
	guest_release_host_state(g);
	agent_log("guest %u: gone (%llu requests served, %llu errors)\n", g->id,
		  (unsigned long long)g->stats.requests, (unsigned long long)g->stats.errors);
	guest_destroy(g);
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
	__atomic_store_n(&p->news, 0, __ATOMIC_RELAXED);
	for (struct guest *g = p->add; g; g = g->hnext) {
		g->next = p->guests;
		p->guests = g;
	}
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
		_retire(g);
		pthread_mutex_lock(&p->lock);
		p->nr_guests--;
		pthread_mutex_unlock(&p->lock);
	}
}

/* One pass over every queue pair; returns the number of requests served. */
static uint32_t _pass(struct poller *p)
{
	struct vtr_sqe sqes[AGENT_TAKE_BUDGET];
	struct vtr_cqe cqes[AGENT_TAKE_BUDGET];
	uint32_t served = 0;

	for (struct guest *g = p->guests; g; g = g->next) {
		if (g->broken)
			continue;
		for (uint32_t q = 0; q < g->nr_qps; q++) {
			struct vtr_qp *qp = &g->qps[q];
			int n = vtr_qp_host_take(qp, sqes, AGENT_TAKE_BUDGET);

			if (n < 0) {
				/* Indices that break the ring's invariant: stop serving, keep others. */
				agent_log("guest %u: queue pair %u has corrupt ring indices; no longer served\n",
					  g->id, q);
				g->broken = 1;
				break;
			}
			for (int i = 0; i < n; i++) {
				cqes[i].user_data = sqes[i].user_data;
				cqes[i].res = serve_request(g, p->o, &sqes[i]);
				cqes[i].flags = 0;
			}
			if (n > 0) {
				vtr_qp_host_complete(qp, cqes, (uint32_t)n);
				served += (uint32_t)n;
			}
		}
	}
	return served;
}

/* Announces sleep on every SQ; 1 if work arrived meanwhile (flags withdrawn). */
static int _announce(struct poller *p)
{
	int pending = 0;

	for (struct guest *g = p->guests; g; g = g->next) {
		for (uint32_t q = 0; q < g->nr_qps && !g->broken; q++) {
			/* A full CQ means a guest that does not reap: its waiting requests are not
			 * work we can do, so they must not keep us awake (we look again after a
			 * doorbell or the sleep timeout). */
			if (_vtr_ring_free(&g->qps[q].cq, 1) == 0)
				continue;
			int r = vtr_qp_announce_sleep(&g->qps[q].sq);
			if (r != 0)
				pending = 1;
		}
	}
	if (pending)
		for (struct guest *g = p->guests; g; g = g->next)
			for (uint32_t q = 0; q < g->nr_qps; q++)
				vtr_qp_wake_done(&g->qps[q].sq);
	return pending;
}

static void _wake_done(struct poller *p)
{
	for (struct guest *g = p->guests; g; g = g->next)
		for (uint32_t q = 0; q < g->nr_qps; q++)
			vtr_qp_wake_done(&g->qps[q].sq);
}

static void _sleep(struct poller *p, struct sleeper *s)
{
	p->stats.sleeps++;
	if (s->use_uring) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = {.tv_sec = SLEEP_TIMEOUT_MS / 1000,
					       .tv_nsec = (SLEEP_TIMEOUT_MS % 1000) * 1000000L};
		if (!s->armed) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
			io_uring_prep_read(sqe, p->bell, &s->count, sizeof(s->count), 0);
			io_uring_sqe_set_data64(sqe, 1);
			s->armed = 1;
		}
		int ret = io_uring_submit_and_wait_timeout(&s->ring, &cqe, 1, &ts, NULL);
		if (ret >= 0 || ret == -ETIME) {
			unsigned head, seen = 0;
			io_uring_for_each_cqe(&s->ring, head, cqe) {
				if (cqe->user_data == 1) {
					s->armed = 0;
					p->stats.wakeups++;
				}
				seen++;
			}
			io_uring_cq_advance(&s->ring, seen);
		}
		return;
	}
	struct pollfd pfd = {.fd = p->bell, .events = POLLIN};
	if (poll(&pfd, 1, SLEEP_TIMEOUT_MS) > 0) {
		uint64_t cnt;
		if (read(p->bell, &cnt, sizeof(cnt)) == sizeof(cnt))
			p->stats.wakeups++;
	}
}

static void *_poller_main(void *arg)
{
	struct poller *p = arg;
	struct sleeper s = {0};
	uint64_t spin = (uint64_t)((double)p->o->spin_us * _tsc_per_us());
	uint64_t last_work = __rdtsc();
	int ret;

	if (p->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(p->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
			agent_log("poller %d: cannot pin to CPU %d; running unpinned\n", p->idx, p->cpu);
	}
	ret = io_uring_queue_init(8, &s.ring, 0);
	s.use_uring = ret == 0;
	if (ret)
		agent_log("poller %d: io_uring unavailable (%s); sleeping in poll() instead\n", p->idx,
			  strerror(-ret));
	for (;;) {
		_apply_handovers(p);
		int stop = __atomic_load_n(&p->stop, __ATOMIC_ACQUIRE);
		uint32_t n = _pass(p);
		p->stats.passes++;
		/* Stopping: what this pass took is completed; what a guest still queues is not
		 * accepted (it sees the socket close), so a busy guest cannot hold us here. */
		if (stop)
			break;
		if (n) {
			p->stats.busy_passes++;
			last_work = __rdtsc();
			continue;
		}
		if (__rdtsc() - last_work < spin) {
			_mm_pause();
			continue;
		}
		if (_announce(p))
			continue;
		_sleep(p, &s);
		_wake_done(p);
		last_work = __rdtsc();
	}
	/* Shutting down: everything in flight was served by the last passes. Guests handed
	 * over at the last moment are taken in so that they are released too. */
	_apply_handovers(p);
	for (struct guest *g = p->guests; g;) {
		struct guest *n = g->next;
		_retire(g);
		g = n;
	}
	p->guests = NULL;
	if (s.use_uring)
		io_uring_queue_exit(&s.ring);
	return NULL;
}

/* Called with p->lock held after changing the hand-over lists or stop. */
static void _handover_posted(struct poller *p)
{
	__atomic_store_n(&p->news, 1, __ATOMIC_RELEASE);
}

static void _ring_bell(struct poller *p)
{
	uint64_t one = 1;
	if (write(p->bell, &one, sizeof(one)) < 0 && errno != EAGAIN)
		agent_log("poller %d: cannot ring its bell: %s\n", p->idx, strerror(errno));
}

int poller_start(struct poller *p, const struct agent_opts *o, int idx, int cpu)
{
	memset(p, 0, sizeof(*p));
	p->idx = idx;
	p->cpu = cpu;
	p->o = o;
	p->bell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->bell < 0)
		return -errno;
	pthread_mutex_init(&p->lock, NULL);
	int ret = pthread_create(&p->thread, NULL, _poller_main, p);
	if (ret) {
		close(p->bell);
		return -ret;
	}
	return 0;
}

void poller_add(struct poller *p, struct guest *g)
{
	g->poller = p;
	pthread_mutex_lock(&p->lock);
	g->hnext = p->add;
	p->add = g;
	p->nr_guests++;
	_handover_posted(p);
	pthread_mutex_unlock(&p->lock);
	_ring_bell(p);
}

void poller_remove(struct poller *p, struct guest *g)
{
	pthread_mutex_lock(&p->lock);
	/* A guest still waiting in the add list is taken out there; else handed to remove. */
	for (struct guest **pp = &p->add; *pp; pp = &(*pp)->hnext) {
		if (*pp == g) {
			*pp = g->hnext;
			p->nr_guests--;
			pthread_mutex_unlock(&p->lock);
			guest_destroy(g);
			return;
		}
	}
	g->hnext = p->remove;
	p->remove = g;
	_handover_posted(p);
	pthread_mutex_unlock(&p->lock);
	_ring_bell(p);
}

void poller_stop(struct poller *p)
{
	pthread_mutex_lock(&p->lock);
	/* Guests still being handed over are taken in before the last pass. */
	_handover_posted(p);
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&p->lock);
	_ring_bell(p);
	pthread_join(p->thread, NULL);
	close(p->bell);
}
