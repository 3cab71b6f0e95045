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
 * Doorbells: every guest rings its poller's one shared eventfd (handed out as all of the
 * host peer's vectors), so a sleeping poller waits on one fd whatever the guest count;
 * after a wake it scans all its queue pairs anyway. The host rings a guest through that
 * queue pair's own eventfd.
 */
#ifndef VACCEL_AGENT_H
#define VACCEL_AGENT_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include <vaccel.h>

#include "shm/pool.h"
#include "shm/region.h"
#include "transport/qp.h"
#include "transport/validate.h"

#define AGENT_MAX_QPS 64u
#define AGENT_TAKE_BUDGET 32u /* requests per queue pair per poll pass: fairness */
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
	uint64_t max_resource_bytes;
	int verbose;
	const char *routes[AGENT_MAX_ROUTES]; /* --route OP=PLUGIN (route.c) */
	int nr_routes;
	int nr_workers;                       /* --workers: threads for long ops (work.c) */
	int worker_cpus[AGENT_MAX_WORKERS];   /* --worker-cpus, -1 unpinned */
	int nr_worker_cpus;
	int worker_nice;                      /* --worker-nice: workers' nice value */
	uint32_t max_queued;                  /* --max-queued: a guest's ops on the workers */
};

struct agent_stats {
	uint64_t requests, errors, bad[VTR_BAD_MAX];
	uint64_t passes, busy_passes, sleeps, wakeups;
};

/*
 * What `vaccel-agent stat` shows. Every counter is written by the guest's poller thread
 * only, and read for display by that same thread: the main thread asks for a snapshot
 * under the poller's lock and the poller formats it (poller_stat), so nothing is shared
 * without the lock.
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
};

/* A guest's share of the worker threads: work.c's lock protects every field. */
struct work_q {
	struct work_item *head, *tail;  /* queued, not yet running */
	uint32_t active;                /* queued + running: what --max-queued limits */
	uint64_t vtime_ns;              /* fair clock: worker time charged, see work.c */
	uint64_t est_ns;                /* expected time of its next op (moving average) */
	uint64_t used_ns, ops;          /* worker time used and ops run, for stat */
	struct work_q *next;            /* list of queues with work */
	int listed;
};

struct guest {
	uint16_t id;
	int sock;
	struct vshm_region *reg;
	void *base;
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
	struct work_q wq;             /* its ops waiting for or on the workers (work.c) */
	uint32_t inflight;            /* ops handed to the workers, results not yet drained */
	uint32_t owed[AGENT_MAX_QPS]; /* per queue pair: CQ room reserved for those results */
	int retiring;                 /* left while ops ran: released by the last result */
	uint64_t dropped;             /* results dropped because the guest had left */
};

struct poller {
	int idx, cpu;
	pthread_t thread;
	int bell;              /* eventfd every guest of this poller rings */
	pthread_mutex_t lock;  /* protects add/remove lists */
	struct guest *add, *remove;
	int news;              /* the lists changed: the poller looks (and locks) only then */
	int stop;
	uint32_t nr_guests;    /* for placement, under lock */
	struct guest *guests;  /* owned by the poller thread */
	struct agent_stats stats;
	const struct agent_opts *o;
	/* stat: the main thread sets stat_req under lock; the poller answers with stat_text. */
	pthread_cond_t stat_cv;
	int stat_req;
	char *stat_text;
	/* Poller thread only. */
	uint64_t start_ns, asleep_ns, control_wakeups;
	uint64_t gone_guests, gone_requests, gone_errors;
	/* Worker results for this poller's guests: appended by workers under work.c's lock,
	 * taken by the poller (work_drain); work_news says there are some. */
	struct work_item *done_head, *done_tail;
	int work_news;
	uint32_t work_inflight;       /* poller thread only: its ops not yet drained */
};

extern volatile int agent_verbose;
#define agent_log(...) fprintf(stderr, "vaccel-agent: " __VA_ARGS__)
#define agent_dbg(...)                                                   \
	do {                                                             \
		if (agent_verbose)                                       \
			fprintf(stderr, "vaccel-agent: " __VA_ARGS__);  \
	} while (0)

/* guest.c */
/* plain_path: an ivshmem-plain region file (sock is -1), else NULL and sock is the client. */
int guest_create(const struct agent_opts *o, uint16_t id, int sock, int bell, const char *plain_path,
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
int poller_start(struct poller *p, const struct agent_opts *o, int idx, int cpu);
void poller_add(struct poller *p, struct guest *g);
void poller_remove(struct poller *p, struct guest *g);
void poller_stop(struct poller *p);
/* Releases g for good (poller thread), unless work still runs for it (then its last
 * result does). */
void poller_retire(struct guest *g);
/* The poller's live state as text (caller frees), or NULL if it did not answer in time. */
char *poller_stat(struct poller *p, int timeout_ms);

#endif
