/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vaccel-agent internals. The agent is an ivshmem server: every client that connects
 * (a guest process on this host, or QEMU's ivshmem-doorbell device) gets a region of its
 * own with queue pairs and a buffer pool, and a poller thread serves its requests on the
 * host's vAccel runtime.
 *
 * Threads: the main thread accepts clients and watches their sockets; each poller thread
 * owns a set of guests and is the only thread that touches their queue pairs and that
 * creates or releases their host sessions and resources. Guests move between them through a
 * locked hand-over list. Worker threads (work.c) run long ops on a guest's sessions; the
 * poller keeps a session, resource or guest that a worker uses (busy counts, inflight)
 * until the op is back.
 *
 * Doorbells: every guest has an eventfd of its own to ring the host (handed out as all of
 * the host peer's vectors); a poller sleeps in epoll on all its guests' doorbells,
 * edge-triggered, and never reads them, so a guest that reads or blocks its own eventfd
 * delays nobody else. The agent's own wake-ups (hand-over, stat, stop) use a private
 * eventfd per poller that no guest holds. The host rings a guest through that queue pair's
 * own eventfd, never blocking on it (poller.c: _ring_guest).
 *
 * Idle guests cost nothing per pass: a guest without requests for the spin budget is
 * parked (NEED_WAKEUP announced on its SQs, taken off the active list); its doorbell puts
 * it back. Passes walk the active list only.
 */
#ifndef VACCEL_AGENT_H
#define VACCEL_AGENT_H

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include <vaccel.h>

#include "shm/pool.h"
#include "shm/region.h"
#include "transport/qp.h"
#include "transport/validate.h"

#define AGENT_MAX_QPS 64u
#define AGENT_TAKE_BUDGET 32u /* requests per queue pair per poll pass: fairness */
#define AGENT_LOG_BURST 20u   /* log lines per limiter per second (log.c) */
#define AGENT_MAX_POLLERS 16
#define AGENT_MAX_PLUGINS 32u /* host plugins a guest session can route to */
#define AGENT_MAX_ROUTES 32
#define AGENT_MAX_WORKERS 64

struct agent_opts {
	const char *socket_path;
	const char *plugins;
	int cpus[16];
	int nr_pollers;
	uint32_t qps, sq_entries, cq_entries;
	const char *pool_spec;
	uint64_t spin_us;
	const char *region_dir; /* file-backed regions (QEMU memory-backend-file) */
	const char *plain_regions[8]; /* --plain-region FILE: served without a client socket */
	int nr_plain;
	uint64_t plain_poll_us;  /* longest sleep of a poller that has ivshmem-plain guests */
	int huge;
	const char *exec_allow; /* ':'-separated libraries or folders vaccel_exec may load */
	int allow_guest_code;   /* exec_with_resource of a library shipped by the guest */
	uint32_t max_guests, max_sessions, max_resources;
	uint32_t max_handshakes; /* clients accepted per main-loop turn (flood bound) */
	uint64_t max_resource_bytes;
	int verbose;
	const char *routes[AGENT_MAX_ROUTES]; /* --route OP=PLUGIN (route.c) */
	int nr_routes;
	int nr_workers;                       /* --workers: threads for long ops (work.c) */
	int worker_cpus[AGENT_MAX_WORKERS];   /* --worker-cpus, -1 unpinned */
	int nr_worker_cpus;
	int worker_nice;                      /* --worker-nice: nice value, -1 SCHED_IDLE */
	uint32_t max_queued;                  /* --max-queued: a guest's ops on the workers */
	uint32_t inline_us;                   /* --inline-us: see poller.c, 0 off */
};

/* One limiter per thread and kind of line (log.c). */
struct agent_ratelimit {
	long sec;
	uint32_t count, dropped;
};

struct agent_stats {
	uint64_t requests, errors, bad[VTR_BAD_MAX];
	uint64_t passes, busy_passes, sleeps, wakeups;
};

/*
 * What `vaccel-agent stat` shows. Every counter is written by the guest's poller thread
 * only, and read for display by that same thread: the main thread asks for a snapshot
 * (poller_stat_ask), the poller formats it and hands the text over under its lock, so
 * nothing is shared without the lock.
 */
struct agent_qp_stats {
	uint64_t requests, errors;
};
#define AGENT_ERRNO_SLOTS 134 /* completions by result: [0] ok, [e] -e, [last] anything else */

struct guest_sess {
	int used;
	uint32_t busy;                 /* requests of it queued or running on a worker */
	struct vaccel_session sess;    /* bound to the plugin its flags chose */
	/* Sessions on other plugins, made when an op is routed there (route.c), by plugin
	 * index; every resource of the guest session is registered with each. */
	struct vaccel_session *alt[AGENT_MAX_PLUGINS];
};

struct guest_res {
	int used;                      /* 1 registered, 2 being registered on a worker */
	uint32_t busy;                 /* requests naming it queued or running on a worker */
	uint64_t bytes;
	int from_guest_lib;
	struct vaccel_resource res;
	uint32_t sess_slot; /* session it is registered with (1-based), 0 none */
};

struct guest;
struct poller;

/* What work.c knows of a call that runs on a worker: the first member of serve.c's call. */
struct work_item {
	struct work_item *next; /* a guest's queue, then its poller's result list */
	struct guest *g;
	uint32_t q;             /* queue pair its completion goes to */
	uint64_t kind;          /* what it runs, for its expected time: see serve.c */
	int solo;               /* held for an inline run only because its guest is alone */
};

#define WORK_KINDS 8 /* a guest's kinds of long op whose times are remembered */

/* A guest's share of the worker threads: work.c's lock protects every field. */
struct work_q {
	struct work_item *head, *tail;  /* queued, not yet running */
	uint32_t active;                /* queued + running: what --max-queued limits */
	uint64_t vtime_ns;              /* fair clock: worker time charged, see work.c */
	uint64_t est_ns;                /* expected time of its next op (moving average) */
	uint64_t used_ns, ops;          /* worker time used and ops run, for stat */
	struct work_q *next;            /* list of queues with work */
	int listed;
	/* Inline runs (poller.c): a run that outlasted --inline-us is a strike, and the
	 * guest's next 16 << strikes long ops go to the workers (inline_bar); strikes fade
	 * one per 256 inline runs that kept within it. */
	uint32_t inline_bar, inline_strikes, inline_good;
	/* Solo runs (poller.c) stop for its next SOLO_BAR ops when requests of its own came
	 * during one: a guest with ops in parallel gets the workers' parallelism back. */
	uint32_t solo_bar;
	/* The time of each kind of op it ran lately (moving average; the oldest entry
	 * makes room): only a kind known to be short may run inline. */
	struct {
		uint64_t kind, est_ns;
	} kinds[WORK_KINDS];
	uint32_t kinds_next;
};

struct guest {
	uint16_t id;
	int sock;
	int bell;                     /* guest -> host doorbell: this guest's own eventfd */
	struct vshm_region *reg;
	void *base;
	const struct vshm_layout *layout; /* the host's private copy (reg's, or the fuzzer's) */
	struct vshm_pool_ranges ranges;
	uint32_t nr_qps;
	struct vtr_qp qps[AGENT_MAX_QPS];
	int guest_fds[AGENT_MAX_QPS]; /* host -> guest doorbells, one per queue pair */
	int broken;                   /* corrupted ring indices: no longer served */
	uint32_t max_sess, max_res;
	struct guest_sess *sess;      /* max_sess slots */
	struct guest_res *res;        /* max_res slots */
	uint64_t res_bytes;
	struct agent_stats stats;                    /* requests, errors, bad[] (serve.c) */
	struct agent_qp_stats qstats[AGENT_MAX_QPS]; /* per queue pair (poller.c) */
	uint64_t results[AGENT_ERRNO_SLOTS + 1];     /* completions by result (poller.c) */
	struct poller *poller;
	struct guest *next;           /* poller's list (poller thread only) */
	struct guest *hnext;          /* hand-over lists (under the poller's lock) */
	struct guest *dnext;          /* poller's list of guests to retire */
	int dead;                     /* socket closed: release everything */
	int plain;                    /* ivshmem-plain region file: no socket, no doorbells */
	uint64_t guest_epoch;         /* last guest_epoch seen in the header (reset handshake) */
	const uint64_t *guest_epoch_word; /* where the guest writes it (shared memory) */
	int counted;                  /* included in guest_live_count() */
	long log_sec;                 /* rate limit of messages about this guest */
	uint32_t log_count, log_dropped;
	/* Poller thread only: the active list and parking (poller.c). */
	struct guest *anext;
	int parked;
	uint64_t last_work;           /* TSC of the last pass that served it */
	uint8_t bell_bad[AGENT_MAX_QPS]; /* its doorbell could not be rung without blocking */
	struct work_q wq;             /* its ops waiting for or on the workers (work.c) */
	uint32_t inflight;            /* ops handed to the workers, results not yet drained */
	uint32_t owed[AGENT_MAX_QPS]; /* per queue pair: CQ room reserved for those results */
	int retiring;                 /* left while ops ran: released by the last result */
	uint64_t dropped;             /* results dropped because the guest had left */
};

/* One of a poller's threads (poller.c): the one holding the poller's role runs its loop. */
struct poller_thr {
	struct poller *p;
	int i;        /* 0 or 1 */
	int started;
	pthread_t t;  /* for the join (written by the creating thread) */
	pthread_t self; /* the same, written by the thread itself: what the other one uses */
	pid_t tid;
	/* Its scheduling when it started, given back after a demotion or a watch. */
	int policy, nice;
	struct sched_param param;
};

struct poller {
	int idx, cpu;
	struct poller_thr thr[2]; /* thr[1] only with --inline-us: the standby */
	int ctl;               /* agent-private eventfd: hand-overs, stat, stop (no guest has it) */
	int ep;                /* epoll: ctl and every guest's doorbell, edge-triggered */
	int stat_notify;       /* eventfd of the main loop, rung when stat_text is ready */
	pthread_mutex_t lock;  /* protects add/remove lists */
	struct guest *add, *remove;
	int news;              /* the lists changed: the poller looks (and locks) only then */
	int stop;
	uint32_t nr_guests;    /* for placement, under lock; read atomically by the poller's threads */
	struct guest *guests;  /* owned by the poller thread */
	struct guest *active;  /* guests a pass looks at (anext); the others are parked */
	uint32_t nr_parked;
	struct agent_stats stats;
	const struct agent_opts *o;
	/* stat: the main thread sets stat_req under lock; the poller answers with stat_text
	 * and rings stat_notify; the main thread never waits for it. */
	int stat_req;
	char *stat_text;
	/* Poller thread only. */
	uint64_t start_ns, asleep_ns, control_wakeups;
	uint64_t gone_guests, gone_requests, gone_errors;
	uint64_t parks, unparks;
	/* Inline runs (poller.c). The role's holder holds back the ops work_submit expects
	 * short (held_*: poller thread only) and runs one, lent (p->lend), when its guests all
	 * wait; the other thread, the watchdog, ticks on lend_tfd while runs are lent and
	 * takes the role over from a run that lasts a whole tick. */
	uint64_t inline_ns;    /* --inline-us in ns; 0: no inline runs */
	uint64_t tick_ns;      /* the watchdog's period */
	struct work_item *held_head, *held_tail;
	int lend_tfd;          /* timerfd of the watchdog's ticks */
	uint64_t lend;         /* runs lent so far << 8 | LEND_SOLO | (1 + the runner's index, or 0) */
	uint64_t lend_shared;  /* runs lent so far that were not solo */
	int company_fd;        /* eventfd: wakes the watchdog at news (hand-overs, stat, stop) */
	uint64_t lend_t0;      /* when the run lent now started (ns) */
	int tick_on;           /* the ticks run */
	int standby_ready;     /* the watchdog waits on lend_tfd */
	int inline_off;        /* set once: a demoted thread could not get its priority back */
	pthread_mutex_t lend_lock; /* a take-over and the demotion that goes with it, as one */
	uint64_t inline_runs, takeovers, solo_runs;
	double tsc_per_us;     /* measured once, at start */
	struct agent_ratelimit rl; /* lines about guests leaving */
	/* Worker results for this poller's guests: appended by workers under work.c's lock,
	 * taken by the poller (work_drain); work_news says there are some. */
	struct work_item *done_head, *done_tail;
	int work_news;
	uint32_t work_ringing;        /* workers between handing a result over and ringing ctl */
	uint32_t work_inflight;       /* poller thread only: its ops not yet drained */
};

extern volatile int agent_verbose;
#define agent_log(...) fprintf(stderr, "vaccel-agent: " __VA_ARGS__)
#define agent_dbg(...)                                                   \
	do {                                                             \
		if (agent_verbose)                                       \
			fprintf(stderr, "vaccel-agent: " __VA_ARGS__);  \
	} while (0)

/* log.c: at most AGENT_LOG_BURST lines a second through one limiter, then a count. */
void agent_rlog(struct agent_ratelimit *rl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Lines about guest g ("guest N: ..."), limited per guest (g->log_*): poller thread only. */
void agent_glog(struct guest *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* guest.c */
/*
 * plain_path: an ivshmem-plain region file (sock is -1), else NULL and sock is the client,
 * non-blocking: the greeting is sent without waiting, a client whose socket cannot take it
 * is refused (-EAGAIN). Touches only the header and the queue pairs' control lines,
 * whatever the region's size. 0 or -errno.
 */
int guest_create(const struct agent_opts *o, uint16_t id, int sock, const char *plain_path,
		 struct guest **out);
/* A new guest process announced itself with epoch: release the old one's state, re-format
 * the queue pairs, answer in the header. 0 or -errno (the guest is then marked broken). */
int guest_reset(struct guest *g, uint64_t epoch);
void guest_destroy(struct guest *g);
/* Guests created and not yet destroyed (a closed guest counts until its poller retires it). */
uint32_t guest_live_count(void);

/* Counts a completion of queue pair q (poller thread). */
static inline void agent_count_result(struct guest *g, uint32_t q, int32_t res)
{
	g->results[res >= 0 ? 0 : res > -AGENT_ERRNO_SLOTS ? -res : AGENT_ERRNO_SLOTS]++;
	g->qstats[q].errors += res < 0;
}

/* serve.c: one request of g from queue pair q; returns the CQE's res, or SERVE_QUEUED
 * when it went to a worker (its completion comes from work_drain). */
#define SERVE_QUEUED INT32_MIN
int32_t serve_request(struct guest *g, const struct agent_opts *o, const struct vtr_sqe *sqe, uint32_t q);
/* A call back from a worker (or dropped unrun: -ECANCELED): its bookkeeping on the
 * poller; returns the CQE's res, the request's user_data in *user_data. Frees the call. */
int32_t serve_finish(struct work_item *w, uint64_t *user_data);
/* Worker side: runs the call's op. */
void serve_run(struct work_item *w);
/* Every session and resource of g (a guest that left or reset); serve.c. */
void guest_release_host_state(struct guest *g);

/* route.c: which plugin serves an op (--route, then the session's plugin, then load order). */
int route_init(const struct agent_opts *o);
/* The plugin op goes to for a session bound to own, or NULL if none implements it. */
struct vaccel_plugin *route_plugin(struct vaccel_plugin *own, uint32_t op);
/* Index of a loaded plugin (its place in --plugins order), or -1. */
int route_plugin_index(const struct vaccel_plugin *p);
void route_stat(FILE *f);

/* work.c: the worker threads for long ops, fair between guests by worker time used. */
int work_start(const struct agent_opts *o);
void work_stop(void); /* after the pollers stopped: every call has been drained */
/* Queues w on its guest's queue; -EAGAIN beyond --max-queued (the call is not taken). */
int work_submit(struct work_item *w);
/* Poller: the first of the ops work_submit held back for an inline run (poller.c), or
 * NULL; the rest go to the workers. */
struct work_item *work_take_held(struct poller *p);
void work_release_held(struct poller *p);
/* w ran inline for dt ns: accounted as a worker's op, its result handed to p (work_drain);
 * ring: p's role moved to another thread meanwhile, which may sleep. solo: it ran as a
 * solo run (poller.c) and was not taken over: however long, no strike. */
void work_ran_inline(struct poller *p, struct work_item *w, uint64_t dt, int ring, int solo);
/* Poller: requests of g came in during a solo run of g's: no solo runs for a while. */
void work_solo_overlap(struct guest *g);
/* Poller: completes the results that came back. Returns how many. */
uint32_t work_drain(struct poller *p);
/* Poller, stopping: waits for and completes every call of its guests still out. */
void work_drain_all(struct poller *p);
/* g left: its queued calls are dropped. 1 if calls are still out (retired by the last). */
int work_guest_gone(struct guest *g);
/* Room in q's CQ for new requests, after the completions owed by the workers. */
uint32_t work_take_budget(struct guest *g, uint32_t q, uint32_t want);
void work_stat(FILE *f);
void work_guest_stat(FILE *f, const struct guest *g);

/* poller.c */
/* stat_notify: an eventfd the poller rings when a stat answer is ready. 0 or -errno. */
int poller_start(struct poller *p, const struct agent_opts *o, int idx, int cpu, int stat_notify);
void poller_add(struct poller *p, struct guest *g);
void poller_remove(struct poller *p, struct guest *g);
void poller_stop(struct poller *p);
/* Asks for the poller's live state; it rings stat_notify when poller_stat_take has it. */
void poller_stat_ask(struct poller *p);
/* The answer to poller_stat_ask (caller frees), or NULL while there is none yet. */
char *poller_stat_take(struct poller *p);
/* One pass over the active guests (what the thread runs; the fuzzer calls it too): serves
 * up to AGENT_TAKE_BUDGET requests per queue pair; returns how many it served. */
uint32_t poller_pass(struct poller *p);
/* Sets up p's lists and epoll set without a thread (the fuzzer). 0 or -errno. */
int poller_init(struct poller *p, const struct agent_opts *o, int idx, int cpu, int stat_notify);
void poller_fini(struct poller *p);
/* Puts g on p's lists at once (p's thread, or a poller without a thread). 0 or -errno. */
int poller_take_guest(struct poller *p, struct guest *g);
/* Releases g, which left, for good (p's thread): at once, or when its last op on the
 * workers comes back (work_drain calls it again then). Counted in p's retired totals. */
void poller_retire(struct poller *p, struct guest *g);
/* Posts n completions to g's queue pair q and rings the guest if it sleeps (p's thread). */
void poller_complete(struct poller *p, struct guest *g, uint32_t q, const struct vtr_cqe *cqes, uint32_t n);

/* signals.c: SIGTERM/SIGINT as a byte on the returned pipe fd; SIGPIPE ignored. fd or -errno. */
int agent_signals_init(void);

/* clients.c: the main thread's client table. */
#define AGENT_MAX_CLIENTS 2048
struct agent_client {
	int sock; /* -1: an ivshmem-plain region */
	struct guest *g;
	uint32_t junk; /* bytes the client sent (clients send nothing in this protocol) */
};
struct agent_clients {
	struct agent_client cl[AGENT_MAX_CLIENTS];
	size_t n;
	uint16_t next_id;
};
/* A free guest ID (1..65535) or -ENOSPC. */
int clients_next_id(struct agent_clients *t);
/* 0 or -ENOSPC. */
int clients_add(struct agent_clients *t, struct guest *g);
/* Removes entry i (the last one takes its place). */
void clients_del(struct agent_clients *t, size_t i);

/* options.c */
void agent_usage(FILE *f);
/* 0: run; 1: --help was printed; -1: a bad option (said on stderr). */
int agent_opts_parse(int argc, char **argv, struct agent_opts *o);

/* stat_cmd.c: `vaccel-agent stat`; an exit status. */
int agent_stat_main(int argc, char **argv);
/* The control socket's path, PATH.ctl. 0 or -ENAMETOOLONG. */
int agent_ctl_path(const char *sock, char *out, size_t n);

/* ctl.c: the control server, driven by the main loop (never blocks it). */
#define CTL_MAX_CLIENTS 8
struct ctl_client {
	int fd, state;
	double deadline;
	char *out;
	size_t out_len, out_off;
};
struct agent_ctl {
	int lsock, notify; /* listening socket (-1: none); eventfd the pollers ring */
	char path[108];
	struct ctl_client cl[CTL_MAX_CLIENTS];
	struct poller *pollers;
	int nr_pollers;
	const struct agent_opts *o;
	double t_start;
	int round;         /* pollers were asked; their texts are being collected */
	double round_deadline;
	char *texts[AGENT_MAX_POLLERS];
	struct agent_ratelimit rl;
};
/* The server without a socket yet: c->notify, which pollers ring. 0 or -errno. */
int ctl_open(struct agent_ctl *c, struct poller *pollers, int nr_pollers, const struct agent_opts *o);
/* Listens on path (PATH.ctl). 0 or an error of vivs_listen. */
int ctl_listen(struct agent_ctl *c, const char *path);
/* Fills CTL_POLLFDS entries of pfd; ctl_handle reads their revents (every loop turn). */
#define CTL_POLLFDS (2 + CTL_MAX_CLIENTS)
size_t ctl_pollfds(const struct agent_ctl *c, struct pollfd *pfd);
void ctl_handle(struct agent_ctl *c, const struct pollfd *pfd, size_t guests_connected);
void ctl_close(struct agent_ctl *c);

#endif
