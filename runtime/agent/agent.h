/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vaccel-agent internals. The agent is an ivshmem server: every client that connects
 * (a guest process on this host, or QEMU's ivshmem-doorbell device) gets a region of its
 * own with queue pairs and a buffer pool, and a poller thread serves its requests on the
 * host's vAccel runtime.
 *
 * Threads: the main thread accepts clients and watches their sockets; each poller thread
 * owns a set of guests and is the only thread that touches their queue pairs, host
 * sessions and resources. Guests move between them through a locked hand-over list.
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
	struct vaccel_session sess;
};

struct guest_res {
	int used;
	uint64_t bytes;
	int from_guest_lib;
	struct vaccel_resource res;
	uint32_t sess_slot; /* session it is registered with (1-based), 0 none */
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
void guest_release_host_state(struct guest *g);
void guest_destroy(struct guest *g);
/* Guests created and not yet destroyed (a closed guest counts until its poller retires it). */
uint32_t guest_live_count(void);

/* serve.c: one request of g; returns the CQE's res. */
int32_t serve_request(struct guest *g, const struct agent_opts *o, const struct vtr_sqe *sqe);

/* poller.c */
int poller_start(struct poller *p, const struct agent_opts *o, int idx, int cpu);
void poller_add(struct poller *p, struct guest *g);
void poller_remove(struct poller *p, struct guest *g);
void poller_stop(struct poller *p);
/* The poller's live state as text (caller frees), or NULL if it did not answer in time. */
char *poller_stat(struct poller *p, int timeout_ms);

#endif
