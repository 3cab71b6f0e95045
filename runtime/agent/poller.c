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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "runtime/agent/agent.h"

#define SLEEP_TIMEOUT_MS 1000 /* wake at least this often (hand-overs, stop) */
#define PLAIN_FIRST_NS 50000ull /* first sleep of a poller with ivshmem-plain guests */

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

static uint64_t _now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Only the poller ever touched a guest's sessions and rings: it releases them. */
void poller_retire(struct guest *g)
{
	struct poller *p = g->poller;

	if (!g->retiring && work_guest_gone(g))
		return; /* its ops still run on workers: the last result retires it */
	if (g->dropped)
		agent_log("guest %u: dropped %llu result(s) of ops that ended after it left\n", g->id,
			  (unsigned long long)g->dropped);

	if (p) {
		p->gone_guests++;
		p->gone_requests += g->stats.requests;
		p->gone_errors += g->stats.errors;
	}
	guest_release_host_state(g);
	agent_log("guest %u: gone (%llu requests served, %llu errors)\n", g->id,
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
	for (struct guest *g = p->guests; g; g = g->next) {
		uint64_t refused = 0;

		for (int b = 1; b < VTR_BAD_MAX; b++)
			refused += g->stats.bad[b];
		fprintf(f, "  guest %u: requests %llu errors %llu refused %llu runtime_errors %llu broken %d\n",
			g->id, (unsigned long long)g->stats.requests, (unsigned long long)g->stats.errors,
			(unsigned long long)refused, (unsigned long long)(g->stats.errors - refused), g->broken);
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
			uint32_t sq = qp->sq.cached - qp->sq.head;
			int cq_free = g->broken ? -1 : _vtr_ring_free(&qp->cq, qp->cq.size);
			fprintf(f, "    qp %u: requests %llu errors %llu sq_pending %u sq_size %u ", q,
				(unsigned long long)g->qstats[q].requests,
				(unsigned long long)g->qstats[q].errors, sq, qp->sq.size);
			if (cq_free < 0)
				fprintf(f, "cq_pending ? cq_size %u\n", qp->cq.size);
			else
				fprintf(f, "cq_pending %u cq_size %u\n", qp->cq.size - (uint32_t)cq_free,
					qp->cq.size);
		}
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
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
		poller_retire(g);
		pthread_mutex_lock(&p->lock);
		p->nr_guests--;
		pthread_mutex_unlock(&p->lock);
	}
	/* A stat request: answered after the hand-overs so the guest list is current. */
	pthread_mutex_lock(&p->lock);
	if (p->stat_req) {
		free(p->stat_text);
		p->stat_text = _stat_text(p);
		if (!p->stat_text)
			p->stat_text = strdup("poller: out of memory for the stat text\n");
		p->stat_req = 0;
		pthread_cond_broadcast(&p->stat_cv);
	}
	pthread_mutex_unlock(&p->lock);
}

/* One pass over every queue pair; returns the number of requests served. */
static uint32_t _pass(struct poller *p)
{
	struct vtr_sqe sqes[AGENT_TAKE_BUDGET];
	struct vtr_cqe cqes[AGENT_TAKE_BUDGET];
	uint32_t served = work_drain(p);

	for (struct guest *g = p->guests; g; g = g->next) {
		/* A VM's new guest process announces itself by writing a new guest_epoch: what
		 * the previous one left is released and the queue pairs start afresh. */
		uint64_t epoch = vshm_load_acquire(g->guest_epoch_word);
		if (__builtin_expect(epoch != g->guest_epoch, 0))
			guest_reset(g, epoch);
		if (g->broken)
			continue;
		for (uint32_t q = 0; q < g->nr_qps; q++) {
			struct vtr_qp *qp = &g->qps[q];
			int n = vtr_qp_host_take(qp, sqes, work_take_budget(g, q, AGENT_TAKE_BUDGET));
			int done = 0;

			if (n < 0) {
				/* Indices that break the ring's invariant: stop serving, keep others. */
				agent_log("guest %u: queue pair %u has corrupt ring indices; no longer served\n",
					  g->id, q);
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
				vtr_qp_host_complete(qp, cqes, (uint32_t)done);
			if (n > 0)
				served += (uint32_t)n;
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
			/* Requests behind a full CQ (a guest that does not reap) do not keep us
			 * awake; the guest's next publish rings (vtr_qp_host_announce_sleep). */
			if (vtr_qp_host_announce_sleep(&g->qps[q]) != 0)
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

/* A wake-up by the main thread (hand-over, stat, stop) rather than a guest's doorbell. */
static void _count_wakeup(struct poller *p)
{
	p->stats.wakeups++;
	if (__atomic_load_n(&p->news, __ATOMIC_ACQUIRE))
		p->control_wakeups++;
}

static void _sleep_inner(struct poller *p, struct sleeper *s, uint64_t timeout_ns);

static void _sleep(struct poller *p, struct sleeper *s, uint64_t timeout_ns)
{
	uint64_t t0 = _now_ns();

	p->stats.sleeps++;
	_sleep_inner(p, s, timeout_ns);
	p->asleep_ns += _now_ns() - t0;
}

static void _sleep_inner(struct poller *p, struct sleeper *s, uint64_t timeout_ns)
{
	if (s->use_uring) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = {.tv_sec = (long long)(timeout_ns / 1000000000ull),
					       .tv_nsec = (long long)(timeout_ns % 1000000000ull)};
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
					_count_wakeup(p);
				}
				seen++;
			}
			io_uring_cq_advance(&s->ring, seen);
		}
		return;
	}
	struct pollfd pfd = {.fd = p->bell, .events = POLLIN};
	int ms = (int)((timeout_ns + 999999) / 1000000);
	if (poll(&pfd, 1, ms) > 0) {
		uint64_t cnt;
		if (read(p->bell, &cnt, sizeof(cnt)) == sizeof(cnt))
			_count_wakeup(p);
	}
}

static void *_poller_main(void *arg)
{
	struct poller *p = arg;
	struct sleeper s = {0};
	uint64_t spin = (uint64_t)((double)p->o->spin_us * _tsc_per_us());
	uint64_t last_work = __rdtsc();
	uint64_t plain_max = p->o->plain_poll_us * 1000ull;
	uint64_t plain_first = PLAIN_FIRST_NS < plain_max ? PLAIN_FIRST_NS : plain_max;
	uint64_t plain_ns = plain_first;
	int ret;

	p->start_ns = _now_ns();
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
			plain_ns = plain_first;
			continue;
		}
		if (__rdtsc() - last_work < spin) {
			_mm_pause();
			continue;
		}
		if (_announce(p))
			continue;
		/* ivshmem-plain guests cannot ring: sleep briefly, longer and longer while idle,
		 * up to --plain-poll-us. Otherwise only a doorbell or the heartbeat wakes us. */
		int plain = 0;
		for (struct guest *g = p->guests; g && !plain; g = g->next)
			plain = g->plain;
		_sleep(p, &s, plain ? plain_ns : SLEEP_TIMEOUT_MS * 1000000ull);
		if (plain && (plain_ns *= 2) > plain_max)
			plain_ns = plain_max;
		_wake_done(p);
		last_work = __rdtsc();
	}
	/* Shutting down: everything in flight was served by the last passes, or is on the
	 * workers: they finish and complete. Guests handed over at the last moment are taken
	 * in so that they are released too. */
	work_drain_all(p);
	_apply_handovers(p);
	for (struct guest *g = p->guests; g;) {
		struct guest *n = g->next;
		poller_retire(g);
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
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->stat_cv, &ca);
	pthread_condattr_destroy(&ca);
	int ret = pthread_create(&p->thread, NULL, _poller_main, p);
	if (ret) {
		close(p->bell);
		return -ret;
	}
	return 0;
}

char *poller_stat(struct poller *p, int timeout_ms)
{
	struct timespec end;
	char *text = NULL;
	int ret = 0;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout_ms / 1000;
	end.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->lock);
	free(p->stat_text); /* a late answer to an earlier request that timed out */
	p->stat_text = NULL;
	p->stat_req = 1;
	_handover_posted(p);
	pthread_mutex_unlock(&p->lock);
	_ring_bell(p);
	pthread_mutex_lock(&p->lock);
	while (!p->stat_text && ret != ETIMEDOUT)
		ret = pthread_cond_timedwait(&p->stat_cv, &p->lock, &end);
	text = p->stat_text;
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
	free(p->stat_text);
	p->stat_text = NULL;
}
