/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connection to the agent: its socket (ivshmem-server protocol: region fd, doorbell
 * eventfds), or the VM's device (vm.c); the region, its pool and a transport client per
 * queue pair; reconnecting after a loss and closing. Everything here runs under g_conn.lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vaccel.h>

#include "backends/remote/conn_state.h"
#include "shm/pool.h"
#include "transport/wait.h"

#define VM_SPIN_NS 200000 /* VM: polling step of a wait before it sleeps in 50 us steps */

struct conn g_conn = {.lock = PTHREAD_MUTEX_INITIALIZER, .vm_lock = -1};
__thread struct gqp *t_qp __attribute__((tls_model("initial-exec")));
__thread uint64_t t_gen __attribute__((tls_model("initial-exec")));

const char *shm_conn_socket_path(void)
{
	const char *p = getenv("VACCEL_SHM_SOCKET");
	return p && *p ? p : "/tmp/vaccel-agent.sock";
}

const char *shm_conn_device(void)
{
	const char *d = getenv("VACCEL_SHM_DEVICE");
	return d && *d ? d : NULL;
}

const char *shm_conn_where(void)
{
	static __thread char buf[600];
	const char *dev = shm_conn_device();

	if (dev)
		snprintf(buf, sizeof(buf), "ivshmem device %s", dev);
	else
		snprintf(buf, sizeof(buf), "the agent at %s", shm_conn_socket_path());
	return buf;
}

int64_t shm_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Default bound of the adaptive polling of a waiting thread (VACCEL_SHM_SPIN_US): calls
 * up to 10 ms (an sgemm 512 took 8.4 ms on one machine here) are polled through; at 5 ms
 * that sgemm slept and paid the wake-up, 2-3% of it. */
#define SPIN_MAX_US_DEFAULT 20000u

static uint64_t _spin_max_ns(void)
{
	const char *v = getenv("VACCEL_SHM_SPIN_US");
	char *end;

	if (!v || !*v)
		return (uint64_t)SPIN_MAX_US_DEFAULT * 1000;
	unsigned long long us = strtoull(v, &end, 10);
	if (*end || us > 1000000) {
		vaccel_error("[shm] VACCEL_SHM_SPIN_US=%s is not a number of microseconds up to "
			     "1000000; using %u", v, SPIN_MAX_US_DEFAULT);
		return (uint64_t)SPIN_MAX_US_DEFAULT * 1000;
	}
	return us * 1000;
}

static void _qps_free(struct gqp *qps, uint32_t nr)
{
	for (uint32_t q = 0; qps && q < nr; q++)
		vtr_client_free(&qps[q].c);
	free(qps);
}

/* The region of a connection: an ivshmem device's (closing it unmaps the BARs) or our own. */
static void _region_close(struct vshm_region *reg, struct vivg_dev *vm)
{
	if (vm)
		vivg_close(vm); /* owns reg */
	else
		vshm_region_close(reg);
}

/* Frees the current connection's pairs, pool, region (or device) and socket. */
static void _close_current_locked(void)
{
	_qps_free(g_conn.qps, g_conn.nr_qps);
	g_conn.qps = NULL;
	vshm_pool_close(g_conn.pool);
	g_conn.pool = NULL;
	_region_close(g_conn.reg, g_conn.vm);
	g_conn.reg = NULL;
	g_conn.vm = NULL;
	vivs_client_close(&g_conn.cli);
}

/* How many queue pairs the region's (validated, private) layout has; -EPROTO if unusable. */
int shm_conn_count_qps_locked(void)
{
	const struct vshm_layout *l = vshm_region_layout(g_conn.reg);

	g_conn.nr_qps = 0;
	while (vshm_layout_find(l, VSHM_AREA_QP, g_conn.nr_qps))
		g_conn.nr_qps++;
	if (g_conn.nr_qps == 0 || g_conn.nr_qps > VIVS_MAX_VECTORS) {
		vaccel_error("[shm] region from %s has %u queue pairs", g_conn.path, g_conn.nr_qps);
		return -EPROTO;
	}
	return 0;
}

/*
 * The pool and the queue pairs over g_conn.reg. Doorbells: the agent's eventfds (host, a
 * local process), BAR0's doorbell register (a VM in doorbell mode) or none (plain mode:
 * the host polls). Inside a VM nothing wakes us, so waits poll (vtr_qp_wait, wait_fd -1).
 */
int shm_conn_attach_locked(const struct vivs_peer *host, int vm_doorbell)
{
	int ret = vshm_pool_open(g_conn.reg, &g_conn.pool);

	if (ret) {
		vaccel_error("[shm] region from %s has no usable buffer pool: %s", g_conn.path, strerror(-ret));
		return ret;
	}
	g_conn.qps = calloc(g_conn.nr_qps, sizeof(*g_conn.qps));
	if (!g_conn.qps)
		return -ENOMEM;
	for (uint32_t q = 0; q < g_conn.nr_qps; q++) {
		const struct vshm_area *a;
		void *mem = vshm_region_area(g_conn.reg, VSHM_AREA_QP, q, &a);
		struct vtr_doorbell db = {.fd = host ? host->fds[q] : -1};

		if (vm_doorbell) {
			/* Host peer 0; all its vectors are one bell, so vector 0 serves every pair. */
			db.reg = &g_conn.vm->regs[VIVG_REG_DOORBELL / 4];
			db.reg_value = 0;
		}
		ret = vtr_qp_attach(&g_conn.qps[q].c.qp, mem, a->size, a->param0, a->param1, VTR_QP_GUEST,
				    host ? g_conn.cli.own_fds[q] : -1, &db);
		if (ret) {
			vaccel_error("[shm] queue pair %u from %s is unusable: %s", q, g_conn.path, strerror(-ret));
			return ret;
		}
		/* A sleeping thread sees a hang-up of the socket (-1 in a VM: the heartbeat). */
		g_conn.qps[q].c.qp.watch_fd = g_conn.cli.sock;
		/* In a VM nothing can wake us, and a host poller woken by our doorbell takes tens
		 * of microseconds: poll that long before the wait falls back to short sleeps. */
		if (!host)
			vtr_qp_set_spin_ns(&g_conn.qps[q].c.qp, VM_SPIN_NS);
		pthread_mutex_init(&g_conn.qps[q].lock, NULL);
		ret = vtr_client_init(&g_conn.qps[q].c, g_conn.pool, vshm_region_base(g_conn.reg),
				      shm_check_alive);
		if (ret)
			return ret;
		vtr_qp_set_spin_max_ns(&g_conn.qps[q].c.qp, _spin_max_ns());
	}
	pthread_key_create(&g_conn.key, shm_qp_thread_exit);
	g_conn.gen++;
	vshm_store_release(&g_conn.lost, 0); /* L1: pairs with the acquire in shm_conn_alive */
	/* C1: release; a call that sees up sees the pairs, pool and gen set above. */
	vshm_store_release(&g_conn.up, 1);
	return 0;
}

static int _connect_locked(void)
{
	struct vshm_err err;
	const struct vivs_peer *host;
	const char *dev = shm_conn_device();
	int ret;

	if (dev) {
		ret = shm_vm_connect_locked(dev);
		if (ret)
			goto err;
		return 0;
	}
	snprintf(g_conn.path, sizeof(g_conn.path), "%s", shm_conn_socket_path());
	ret = vivs_client_open(g_conn.path, &g_conn.cli, CONNECT_TIMEOUT_MS);
	if (ret) {
		vaccel_error("[shm] cannot connect to the vAccel agent at %s: %s%s", g_conn.path,
			     strerror(-ret),
			     ret == -ENOENT || ret == -ECONNREFUSED
				     ? " (is vaccel-agent running? set VACCEL_SHM_SOCKET to its socket)"
				     : "");
		return ret;
	}
	ret = vshm_region_attach_fd(g_conn.cli.shm_fd, &g_conn.reg, &err);
	if (ret) {
		vaccel_error("[shm] agent at %s handed over an unusable region: %s", g_conn.path, err.msg);
		goto err;
	}
	ret = shm_conn_count_qps_locked();
	if (ret)
		goto err;
	ret = vivs_client_read_peers(&g_conn.cli, g_conn.nr_qps, CONNECT_TIMEOUT_MS);
	host = ret ? NULL : vivs_client_peer(&g_conn.cli, 0);
	if (!host) {
		vaccel_error("[shm] agent at %s did not send its doorbells: %s", g_conn.path,
			     strerror(ret ? -ret : EPROTO));
		ret = ret ? ret : -EPROTO;
		goto err;
	}
	ret = shm_conn_attach_locked(host, 0);
	if (ret)
		goto err;
	vaccel_debug("[shm] connected to %s as peer %u: %u queue pairs", g_conn.path, g_conn.cli.id,
		     g_conn.nr_qps);
	return 0;
err:
	_close_current_locked();
	return ret;
}

struct vshm_pool *shm_conn_pool(void)
{
	return vshm_load_acquire(&g_conn.up) ? g_conn.pool : NULL; /* C1 */
}

void *shm_conn_base(void)
{
	return vshm_load_acquire(&g_conn.up) ? vshm_region_base(g_conn.reg) : NULL; /* C1 */
}

uint64_t shm_conn_generation(void)
{
	return g_conn.gen;
}

int shm_conn_ensure(void)
{
	int ret = 0;

	if (vshm_load_acquire(&g_conn.up) && !vshm_load_acquire(&g_conn.lost)) /* C1, L1 */
		return 0;
	pthread_mutex_lock(&g_conn.lock);
	if (g_conn.up && g_conn.lost) {
		struct old_conn *o = calloc(1, sizeof(*o));
		if (!o) {
			pthread_mutex_unlock(&g_conn.lock);
			return -ENOMEM;
		}
		*o = (struct old_conn){.cli = g_conn.cli, .vm = g_conn.vm, .reg = g_conn.reg,
				       .pool = g_conn.pool, .qps = g_conn.qps, .nr_qps = g_conn.nr_qps,
				       .next = g_conn.graveyard};
		g_conn.graveyard = o;
		g_conn.qps = NULL;
		g_conn.pool = NULL;
		g_conn.reg = NULL;
		g_conn.vm = NULL;
		vshm_store_release(&g_conn.up, 0); /* C1: calls that still see 1 see the old pairs */
	}
	if (!g_conn.up)
		ret = _connect_locked();
	pthread_mutex_unlock(&g_conn.lock);
	return ret;
}

static void _bury(struct old_conn *o)
{
	while (o) {
		struct old_conn *n = o->next;
		_qps_free(o->qps, o->nr_qps);
		vshm_pool_close(o->pool);
		_region_close(o->reg, o->vm);
		vivs_client_close(&o->cli);
		free(o);
		o = n;
	}
}

static void _teardown_locked(void)
{
	_bury(g_conn.graveyard);
	g_conn.graveyard = NULL;
	if (g_conn.up) {
		vshm_store_release(&g_conn.up, 0); /* C1: calls that still see 1 see the old pairs */
		_close_current_locked();
		pthread_key_delete(g_conn.key);
	}
	shm_vm_unlock();
}

void shm_conn_close(void)
{
	pthread_mutex_lock(&g_conn.lock);
	_teardown_locked();
	pthread_mutex_unlock(&g_conn.lock);
}

