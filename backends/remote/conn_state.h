/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connection's state, shared by the plugin's files: connect.c (socket), vm.c (ivshmem
 * device), liveness.c, claim.c (which queue pair a thread uses) and calls.c. Not for the
 * per-op files, which see conn.h only.
 *
 * Concurrency: everything is written under g_conn.lock, by a connect or a close. Calls read
 * up (acquire, pairs with the release that publishes a finished connect: C1), lost and vm
 * (relaxed; lost is set once per connection with a CAS, and a stale read only delays the
 * error by one call) and gen (plain: written before the C1 release).
 */
#ifndef SHM_CONN_STATE_H
#define SHM_CONN_STATE_H

#include <pthread.h>
#include <stdint.h>

#include "backends/remote/conn.h"
#include "shm/barrier.h"
#include "shm/region.h"
#include "transport/client.h"
#include "vmm-glue/guest/ivshmem_guest.h"
#include "vmm-glue/ivshmem_proto.h"

#pragma GCC visibility push(hidden)

#define CONNECT_TIMEOUT_MS 5000

/* One queue pair of this process: the transport's client plus who may use it. */
struct gqp {
	struct vtr_client c;  /* belongs to whoever holds the pair (its owner, or the lock) */
	pthread_mutex_t lock; /* taken only when threads share this pair */
	uint32_t owner;       /* claimed by a thread (tid), 0 if shared */
};

/*
 * A lost connection is not unmapped at reconnect: threads may still be inside calls on it,
 * and tracking them would cost an atomic operation per call. Its memory stays until
 * shm_conn_close (vaccel_cleanup), which no call may overlap.
 */
struct old_conn {
	struct vivs_client cli;
	struct vivg_dev *vm;
	struct vshm_region *reg;
	struct vshm_pool *pool;
	struct gqp *qps;
	uint32_t nr_qps;
	struct old_conn *next;
};

struct conn {
	pthread_mutex_t lock;
	int up;
	struct vivs_client cli;
	struct vshm_region *reg;
	struct vshm_pool *pool;
	uint32_t nr_qps;
	struct gqp *qps;
	pthread_key_t key;
	uint64_t gen; /* connection number: a thread's cached pair is valid for one connection */
	int lost;     /* the agent hung up: every call fails until a reconnect */
	struct old_conn *graveyard; /* lost connections, kept mapped until shm_conn_close */
	char path[512];
	/* Inside a VM (VACCEL_SHM_DEVICE): the ivshmem device instead of a socket. */
	struct vivg_dev *vm;
	int vm_lock;       /* flock'ed file: one vAccel process per device in this VM */
	uint64_t vm_epoch; /* the host's epoch when we attached */
	uint64_t vm_hb;    /* last heartbeat seen (relaxed), and when (ms, relaxed) */
	int64_t vm_hb_ms;
};

extern struct conn g_conn;

/* initial-exec: no __tls_get_addr call on every request (the plugin is dlopen'ed, and
 * glibc keeps spare static TLS for such small variables). */
extern __thread struct gqp *t_qp __attribute__((tls_model("initial-exec")));
extern __thread uint64_t t_gen __attribute__((tls_model("initial-exec")));

int64_t shm_now_ms(void);

/* connect.c: the pool and queue pairs over g_conn.reg (host: the agent's doorbells, or
 * NULL in a VM), and how many pairs the layout has. 0 or -errno, logged. */
int shm_conn_attach_locked(const struct vivs_peer *host, int vm_doorbell);
int shm_conn_count_qps_locked(void);

/* vm.c: inside a VM, the device instead of the socket; its lock file. 0 or -errno. */
int shm_vm_connect_locked(const char *dev);
void shm_vm_unlock(void);
/* 1 if the agent behind the device restarted or its heartbeat stopped (any thread). */
int shm_vm_host_gone(const struct vivg_dev *vm);

/* liveness.c */
/* May a call start on the current connection? 0, -ENOTCONN, -ECONNRESET. */
int shm_enter(void);
/* After a wait gave up: -ECONNRESET if the agent is gone (now marked lost), else err. */
int shm_check_alive(int err);

/* claim.c: this thread's pair (*shared: a shared pair, locked until shm_qp_put). */
struct gqp *shm_qp_get(int *shared);
void shm_qp_put(struct gqp *q, int shared);
/* The pair of this thread for asynchronous calls of connection gen. 0, -EBUSY, -errno. */
int shm_qp_async(uint64_t gen, struct gqp **qo);
void shm_qp_thread_exit(void *arg);

/*
 * This thread's own queue pair when all is as its last call left it (connected, not lost,
 * the same connection, a pair of its own): plain loads, no lock. NULL: take the slow way.
 */
static inline struct gqp *shm_qp_own_fast(void)
{
	struct gqp *q = t_qp;

	/* C1: acquire pairs with the release of up in shm_conn_attach_locked. */
	if (__builtin_expect(q && vshm_load_acquire(&g_conn.up) &&
				     !vshm_load_relaxed(&g_conn.lost) && t_gen == g_conn.gen &&
				     q->owner,
			     1))
		return q;
	return NULL;
}

#pragma GCC visibility pop

#endif
