/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest side of the transport: connecting to the agent (ivshmem-server protocol), mapping
 * the region, the pool, and queue pairs for the process's threads.
 *
 * A thread claims a queue pair of its own with a CAS on the pair's owner word and keeps it
 * until it exits; threads beyond the number of queue pairs share them under a lock.
 */
#include "backends/shm/conn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <vaccel.h>

#include "shm/pool.h"
#include "shm/region.h"
#include "transport/qp.h"
#include "vmm-glue/guest/ivshmem_guest.h"
#include "vmm-glue/ivshmem_proto.h"

#define CONNECT_TIMEOUT_MS 5000
#define WAIT_TIMEOUT_MS 1000 /* re-check the host's liveness this often while waiting */
#define HOST_STALE_MS 3000   /* VM: a heartbeat unchanged this long means the agent is gone */
#define BADMSG_RETRY_MS 1000 /* VM: how long a region without magic may be initialising */
#define VM_SPIN_NS 200000    /* VM: polling step of a wait before it sleeps in 50 us steps */
#define SMALL_ARG 256u       /* arguments up to this size travel in the table's buffer */

/* One request in flight on a pair: what to do when its completion arrives. */
struct req {
	uint64_t user_data;    /* the caller's (asynchronous requests) */
	uint32_t nr_in, nr_out;
	uint32_t owned;        /* bit i: argument i's pool buffer was allocated here */
	int async;
	struct vshm_buf table; /* argument table and small arguments (ptr NULL: none) */
	void *out_dst[VTR_MAX_ARGS];
};

#define BATCH 32u

struct gqp {
	struct vtr_qp qp;
	pthread_mutex_t lock; /* taken only when threads share this pair */
	uint32_t owner;       /* claimed by a thread (tid), 0 if shared */
	/* The rest belongs to whoever holds the pair (its owner, or the lock). */
	struct req *reqs;     /* cq_entries slots; the SQE's user_data is the slot number */
	uint32_t *free_slots;
	uint32_t nr_free;
	uint32_t nr_batch;    /* SQEs staged in the ring (VACCEL_ASYNC_MORE), not yet published */
	struct shm_done *done; /* finished asynchronous requests not yet reaped (ring) */
	uint32_t done_head, done_tail;
	uint32_t async_inflight;
};

static struct {
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
	int vm_lock;        /* flock'ed file: one vAccel process per device in this VM */
	uint64_t vm_epoch;  /* the host's epoch when we attached */
	uint64_t vm_hb;     /* last heartbeat seen (atomic), and when (ms, atomic) */
	int64_t vm_hb_ms;
} g_conn = {.lock = PTHREAD_MUTEX_INITIALIZER, .vm_lock = -1};

static void _teardown_locked(void);

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

/* initial-exec: no __tls_get_addr call on every request (the plugin is dlopen'ed, and
 * glibc keeps spare static TLS for such small variables). */
static __thread struct gqp *t_qp __attribute__((tls_model("initial-exec")));
static __thread uint64_t t_gen __attribute__((tls_model("initial-exec")));

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

static int64_t _now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void _thread_exit(void *arg)
{
	struct gqp *q = arg;

	/* A pair with requests still in flight stays claimed: another thread taking it over
	 * would reap completions that are not its own. */
	if (q && q->owner && q->async_inflight == 0 && q->done_head == q->done_tail &&
	    q->nr_batch == 0) {
		uint32_t who = q->owner;
		q->owner = 0;
		vtr_qp_unclaim(q->qp.sh, who);
	}
}

static int _qp_slots_init(struct gqp *q)
{
	uint32_t n = q->qp.cq_entries;

	q->reqs = calloc(n, sizeof(*q->reqs));
	q->free_slots = calloc(n, sizeof(*q->free_slots));
	q->done = calloc(n, sizeof(*q->done));
	if (!q->reqs || !q->free_slots || !q->done)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		q->free_slots[i] = n - 1 - i;
	q->nr_free = n;
	return 0;
}

static void _qps_free(void)
{
	for (uint32_t q = 0; g_conn.qps && q < g_conn.nr_qps; q++) {
		free(g_conn.qps[q].reqs);
		free(g_conn.qps[q].free_slots);
		free(g_conn.qps[q].done);
	}
	free(g_conn.qps);
	g_conn.qps = NULL;
}

/* The region of a connection: an ivshmem device's (closing it unmaps the BARs) or our own. */
static void _region_close(struct vshm_region *reg, struct vivg_dev *vm)
{
	if (vm)
		vivg_close(vm); /* owns reg */
	else
		vshm_region_close(reg);
}

/*
 * Inside a VM: one vAccel process per ivshmem device, enforced with a lock file in the
 * guest (the pool's allocator lives in the process, so two processes would hand out the
 * same buffers). The lock dies with the process, so the next one may take over.
 */
static int _vm_lock(const char *devname)
{
	const char *dir = getenv("VACCEL_SHM_LOCK_DIR");
	char path[512];

	if (g_conn.vm_lock >= 0)
		return 0; /* reconnecting: still ours */
	snprintf(path, sizeof(path), "%s/vaccel-ivshmem-%s.lock", dir && *dir ? dir : "/tmp", devname);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;
		vaccel_error("[shm] cannot open the device lock %s: %s (set VACCEL_SHM_LOCK_DIR to a "
			     "writable folder)", path, strerror(e));
		return -e;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK) {
			vaccel_error("[shm] ivshmem device %s is in use by another vAccel process in this "
				     "VM (one process per device; give the VM another device for more)",
				     devname);
			return -EADDRINUSE;
		}
		vaccel_error("[shm] cannot lock %s: %s", path, strerror(e));
		return -e;
	}
	g_conn.vm_lock = fd;
	return 0;
}

/*
 * The reset handshake: a new guest epoch in the header, answered by the host once it has
 * released what an earlier process of this VM left and formatted the queue pairs afresh.
 */
static int _vm_reset(int doorbell)
{
	struct vshm_header *h = g_conn.vm->mem;
	uint64_t epoch;
	int64_t t0 = _now_ms();

	do {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		epoch = ((uint64_t)t.tv_sec << 32) ^ (uint64_t)t.tv_nsec ^ ((uint64_t)getpid() << 16);
	} while (epoch == 0 || epoch == vshm_load_acquire(&h->guest_epoch));
	vshm_store_release(&h->guest_epoch, epoch);
	while (vshm_load_acquire(&h->host_reset_ack) != epoch) {
		if (doorbell)
			vivg_ring(g_conn.vm, 0, 0); /* wakes a sleeping poller */
		if (_now_ms() - t0 > CONNECT_TIMEOUT_MS) {
			vaccel_error("[shm] no vAccel agent answers on %s within %d ms: %s", g_conn.path, CONNECT_TIMEOUT_MS,
				     doorbell ? "is the agent that QEMU's ivshmem chardev connects to "
						"still running?"
					      : "is vaccel-agent running with --plain-region on the "
						"file QEMU maps?");
			return -ETIMEDOUT;
		}
		usleep(doorbell ? 1000 : 200);
	}
	g_conn.vm_epoch = vshm_load_acquire(&h->host_epoch);
	__atomic_store_n(&g_conn.vm_hb, vshm_load_acquire(&h->host_heartbeat), __ATOMIC_RELAXED);
	__atomic_store_n(&g_conn.vm_hb_ms, _now_ms(), __ATOMIC_RELAXED);
	return 0;
}

static int _count_qps_locked(void);
static int _attach_locked(const struct vivs_peer *host, int vm_doorbell);

/* Frees the current connection's pairs, pool, region (or device) and socket. */
static void _close_current_locked(void)
{
	_qps_free();
	vshm_pool_close(g_conn.pool);
	g_conn.pool = NULL;
	_region_close(g_conn.reg, g_conn.vm);
	g_conn.reg = NULL;
	g_conn.vm = NULL;
	vivs_client_close(&g_conn.cli);
}

/* Inside a VM: the region is the ivshmem device's BAR2; BAR0's doorbell wakes the host. */
static int _connect_vm_locked(const char *dev)
{
	struct vivg_opts vo = {0};
	struct vshm_err err = {{0}};
	char found[480], sysfs[480];
	const char *name;
	int ret;

	vivs_client_init(&g_conn.cli); /* no socket in a VM */
	if (!strcmp(dev, "auto")) {
		ret = vivg_find(NULL, found, sizeof(found));
		if (ret) {
			vaccel_error("[shm] VACCEL_SHM_DEVICE=auto: %s", ret == -ENODEV
				     ? "no ivshmem device (1af4:1110) in this VM: start QEMU with "
				       "-device ivshmem-plain or ivshmem-doorbell"
				     : strerror(-ret));
			return ret;
		}
		dev = found;
	}
	/* A PCI address (0000:00:04.0) or its sysfs folder. */
	name = strrchr(dev, '/');
	if (name) {
		snprintf(sysfs, sizeof(sysfs), "%.*s", (int)(name - dev), dev);
		vo.sysfs = sysfs;
		name++;
	} else {
		name = dev;
	}
	vo.device = name;
	snprintf(g_conn.path, sizeof(g_conn.path), "ivshmem device %s", name);
	ret = _vm_lock(name);
	if (ret)
		return ret;
	/* A bad magic may be an agent (re)starting on the region right now: give it a moment. */
	for (int64_t t0 = _now_ms();;) {
		ret = vivg_open(&vo, &g_conn.vm, NULL, &err);
		if (ret != -EBADMSG || _now_ms() - t0 > BADMSG_RETRY_MS)
			break;
		usleep(20000);
	}
	if (ret) {
		vaccel_error("[shm] ivshmem device %s: %s%s%s", name, vivg_strerror(ret),
			     err.msg[0] ? ": " : "", err.msg);
		return ret;
	}
	g_conn.reg = g_conn.vm->region;
	int id = vivg_own_id(g_conn.vm);
	int doorbell = id >= 1 && id < 0xffff; /* ivshmem-plain reads -1 (or 0): no server */
	ret = _vm_reset(doorbell);
	if (ret)
		return ret;
	ret = _count_qps_locked();
	if (ret)
		return ret;
	ret = _attach_locked(NULL, doorbell);
	if (ret)
		return ret;
	vaccel_debug("[shm] ivshmem device %s: %s mode, peer %d, %u queue pairs", name,
		     doorbell ? "doorbell" : "plain", doorbell ? id : -1, g_conn.nr_qps);
	return 0;
}

/* How many queue pairs the region's (validated, private) layout has; -EPROTO if unusable. */
static int _count_qps_locked(void)
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
static int _attach_locked(const struct vivs_peer *host, int vm_doorbell)
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
		ret = vtr_qp_attach(&g_conn.qps[q].qp, mem, a->size, a->param0, a->param1, VTR_QP_GUEST,
				    host ? g_conn.cli.own_fds[q] : -1, &db);
		if (ret) {
			vaccel_error("[shm] queue pair %u from %s is unusable: %s", q, g_conn.path, strerror(-ret));
			return ret;
		}
		/* A sleeping thread sees a hang-up of the socket (-1 in a VM: the heartbeat). */
		g_conn.qps[q].qp.watch_fd = g_conn.cli.sock;
		/* In a VM nothing can wake us, and a host poller woken by our doorbell takes tens
		 * of microseconds: poll that long before the wait falls back to short sleeps. */
		if (!host)
			vtr_qp_set_spin_ns(&g_conn.qps[q].qp, VM_SPIN_NS);
		pthread_mutex_init(&g_conn.qps[q].lock, NULL);
		ret = _qp_slots_init(&g_conn.qps[q]);
		if (ret)
			return ret;
	}
	pthread_key_create(&g_conn.key, _thread_exit);
	g_conn.gen++;
	__atomic_store_n(&g_conn.lost, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&g_conn.up, 1, __ATOMIC_RELEASE);
	return 0;
}

static int _connect_locked(void)
{
	struct vshm_err err;
	const struct vivs_peer *host;
	const char *dev = shm_conn_device();
	int ret;

	if (dev) {
		ret = _connect_vm_locked(dev);
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
	ret = _count_qps_locked();
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
	ret = _attach_locked(host, 0);
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
	return __atomic_load_n(&g_conn.up, __ATOMIC_ACQUIRE) ? g_conn.pool : NULL;
}

void *shm_conn_base(void)
{
	return __atomic_load_n(&g_conn.up, __ATOMIC_ACQUIRE) ? vshm_region_base(g_conn.reg) : NULL;
}

uint64_t shm_conn_generation(void)
{
	return g_conn.gen;
}

int shm_conn_ensure(void)
{
	int ret = 0;

	if (__atomic_load_n(&g_conn.up, __ATOMIC_ACQUIRE) && !__atomic_load_n(&g_conn.lost, __ATOMIC_ACQUIRE))
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
		__atomic_store_n(&g_conn.up, 0, __ATOMIC_RELEASE);
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
		for (uint32_t q = 0; q < o->nr_qps; q++) {
			free(o->qps[q].reqs);
			free(o->qps[q].free_slots);
			free(o->qps[q].done);
		}
		free(o->qps);
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
		__atomic_store_n(&g_conn.up, 0, __ATOMIC_RELEASE);
		_close_current_locked();
		pthread_key_delete(g_conn.key);
	}
	if (g_conn.vm_lock >= 0) {
		close(g_conn.vm_lock); /* the next process of this VM may take the device */
		g_conn.vm_lock = -1;
	}
}

void shm_conn_close(void)
{
	pthread_mutex_lock(&g_conn.lock);
	_teardown_locked();
	pthread_mutex_unlock(&g_conn.lock);
}

/*
 * Inside a VM: 1 if the agent restarted (a new host epoch) or its heartbeat has not moved
 * for HOST_STALE_MS. Called after waits time out, from any thread.
 */
static int _vm_host_gone(void)
{
	const struct vshm_header *h = g_conn.vm->mem;
	uint64_t hb = vshm_load_acquire(&h->host_heartbeat);
	int64_t now = _now_ms();

	if (vshm_load_acquire(&h->host_epoch) != g_conn.vm_epoch)
		return 1;
	if (hb != __atomic_load_n(&g_conn.vm_hb, __ATOMIC_RELAXED)) {
		__atomic_store_n(&g_conn.vm_hb, hb, __ATOMIC_RELAXED);
		__atomic_store_n(&g_conn.vm_hb_ms, now, __ATOMIC_RELAXED);
		return 0;
	}
	return now - __atomic_load_n(&g_conn.vm_hb_ms, __ATOMIC_RELAXED) > HOST_STALE_MS;
}

/* 1 if the agent's end of the socket is closed (it exited or was killed). */
static int _host_gone(void)
{
	struct pollfd p = {.fd = g_conn.cli.sock, .events = POLLRDHUP};

	if (g_conn.vm)
		return _vm_host_gone();
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR));
}

static void _lose(void)
{
	int was = 0;

	if (__atomic_compare_exchange_n(&g_conn.lost, &was, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		vaccel_error("[shm] lost the agent at %s: calls fail with VACCEL_ESESS until a new "
			     "session reconnects", g_conn.path);
}

/* After a wait gave up: -ECONNRESET if the agent is gone (now marked lost), else err. */
static int _check_alive(int err)
{
	if (err == 0)
		return 0; /* completions arrived: whatever happens next, these count */
	if (err == -ECONNRESET || _host_gone()) {
		_lose();
		return -ECONNRESET;
	}
	return err;
}

/* May a call start on the current connection? Plain loads, no atomic RMW on this path. */
static int _enter(void)
{
	if (!__atomic_load_n(&g_conn.up, __ATOMIC_ACQUIRE))
		return -ENOTCONN;
	if (__atomic_load_n(&g_conn.lost, __ATOMIC_RELAXED))
		return -ECONNRESET;
	/* In a VM, an agent restarted on the same region rewrote it under us: a call must not
	 * go into its fresh rings with our old indices. One load of a read-mostly line. */
	if (g_conn.vm && vshm_load_relaxed(&((const struct vshm_header *)g_conn.vm->mem)->host_epoch) !=
				 g_conn.vm_epoch) {
		_lose();
		return -ECONNRESET;
	}
	return 0;
}

int shm_conn_alive(uint64_t gen)
{
	return __atomic_load_n(&g_conn.up, __ATOMIC_ACQUIRE) && gen == g_conn.gen &&
	       !__atomic_load_n(&g_conn.lost, __ATOMIC_ACQUIRE);
}

/*
 * This thread's queue pair: one of its own (pairs 0 .. n-2, claimed with a CAS) while any is
 * free; otherwise the last pair, which is never claimed and is shared under its lock.
 */
static struct gqp *_qp_get(int *shared)
{
	if (!t_qp || t_gen != g_conn.gen) {
		uint32_t tid = (uint32_t)syscall(SYS_gettid);

		t_gen = g_conn.gen;
		t_qp = &g_conn.qps[g_conn.nr_qps - 1];
		for (uint32_t q = 0; q + 1 < g_conn.nr_qps; q++) {
			if (vtr_qp_claim(g_conn.qps[q].qp.sh, tid) == 0) {
				g_conn.qps[q].owner = tid;
				t_qp = &g_conn.qps[q];
				pthread_setspecific(g_conn.key, t_qp);
				break;
			}
		}
	}
	*shared = !t_qp->owner;
	if (*shared)
		pthread_mutex_lock(&t_qp->lock);
	return t_qp;
}

static void _qp_put(struct gqp *q, int shared)
{
	if (shared)
		pthread_mutex_unlock(&q->lock);
}

/* Bytes of pool memory a call needs in its table buffer (table + small arguments). */
static uint64_t _table_bytes(const struct shm_io *in, uint32_t nr_in, const struct shm_io *out,
			     uint32_t nr_out, uint64_t *off_small)
{
	uint64_t b = (uint64_t)(nr_in + nr_out) * sizeof(struct vtr_arg);

	*off_small = (b + 63) & ~63ull;
	b = *off_small;
	for (uint32_t i = 0; i < nr_in; i++)
		if (in[i].len <= SMALL_ARG)
			b += (in[i].len + 7) & ~7ull;
	for (uint32_t i = 0; i < nr_out; i++)
		if (out[i].len <= SMALL_ARG)
			b += (out[i].len + 7) & ~7ull;
	return b;
}

/* Gives back the pool buffers of a finished (or failed) request. */
static void _release(struct req *r)
{
	if (r->table.ptr) {
		const struct vtr_arg *args = r->table.ptr;
		for (uint32_t i = 0; i < r->nr_in + r->nr_out; i++)
			if (r->owned & (1u << i))
				vshm_pool_free(g_conn.pool, (char *)vshm_region_base(g_conn.reg) + args[i].off);
		vshm_pool_free(g_conn.pool, r->table.ptr);
	}
	r->table.ptr = NULL;
	r->owned = 0;
}

/*
 * Puts a request's arguments in the pool and fills its SQE: inputs copied in (or passed by
 * offset when they already live in a pool buffer), outputs copied in too (in/out) unless in
 * the pool. 0 or -errno (nothing left allocated on error).
 */
static int _marshal(struct req *r, struct vtr_sqe *sqe, const struct shm_io *in, uint32_t nr_in,
		    const struct shm_io *out, uint32_t nr_out)
{
	uint32_t nr = nr_in + nr_out;
	uint64_t small_off;
	struct vtr_arg *args;
	int ret;

	r->nr_in = nr_in;
	r->nr_out = nr_out;
	r->owned = 0;
	r->table.ptr = NULL;
	sqe->nr_args = nr;
	sqe->args_off = 0;
	if (nr == 0)
		return 0;
	if (nr > VTR_MAX_ARGS)
		return -E2BIG;
	ret = vshm_pool_alloc(g_conn.pool, _table_bytes(in, nr_in, out, nr_out, &small_off),
			      VSHM_POOL_WAIT, &r->table);
	if (ret)
		return ret;
	args = r->table.ptr;
	for (uint32_t i = 0; i < nr; i++) {
		const struct shm_io *io = i < nr_in ? &in[i] : &out[i - nr_in];
		struct vshm_buf b;
		uint64_t off;

		args[i] = (struct vtr_arg){.len = io->len, .type = io->type,
					   .flags = i < nr_in ? VTR_ARG_IN : VTR_ARG_OUT};
		if (i >= nr_in)
			r->out_dst[i - nr_in] = io->buf;
		if (io->len && vshm_pool_find(g_conn.pool, io->buf, io->len, &off) == 0) {
			args[i].off = off; /* already in the pool: only the offset travels */
			continue;
		}
		if (io->len <= SMALL_ARG) {
			args[i].off = r->table.off + small_off;
			memcpy((char *)r->table.ptr + small_off, io->buf, io->len);
			small_off += (io->len + 7) & ~7ull;
			continue;
		}
		ret = vshm_pool_alloc(g_conn.pool, io->len, VSHM_POOL_WAIT, &b);
		if (ret) {
			vaccel_error("[shm] no pool buffer for a %llu-byte argument: %s",
				     (unsigned long long)io->len, vshm_pool_strerror(ret));
			r->nr_in = i; /* release what was taken so far */
			r->nr_out = 0;
			_release(r);
			return ret;
		}
		memcpy(b.ptr, io->buf, io->len);
		args[i].off = b.off;
		r->owned |= 1u << i;
	}
	sqe->args_off = r->table.off;
	return 0;
}

/* A completion arrived: outputs back to the caller's buffers, buffers back to the pool. */
static void _finish(struct req *r, int32_t res)
{
	const struct vtr_arg *args = r->table.ptr;

	for (uint32_t i = 0; res >= 0 && args && i < r->nr_out; i++) {
		const struct vtr_arg *a = &args[r->nr_in + i];
		void *src = (char *)vshm_region_base(g_conn.reg) + a->off;
		if (src != r->out_dst[i] && a->len)
			memcpy(r->out_dst[i], src, a->len);
	}
	_release(r);
}

static int _slot_get(struct gqp *q, uint32_t *slot)
{
	if (q->nr_free == 0)
		return -EAGAIN;
	*slot = q->free_slots[--q->nr_free];
	return 0;
}

static void _slot_put(struct gqp *q, uint32_t slot)
{
	q->free_slots[q->nr_free++] = slot;
}

/* Publishes the staged batch (one index store, one kick). */
static int _publish(struct gqp *q)
{
	vtr_qp_publish(&q->qp, q->nr_batch);
	q->nr_batch = 0;
	return 0;
}

/* Takes one completion off the ring and finishes its request; async ones go to the stash. */
static void _complete(struct gqp *q, const struct vtr_cqe *c)
{
	uint32_t slot = (uint32_t)c->user_data;

	if (slot >= q->qp.cq_entries)
		return; /* not ours: the host is trusted, but never index out of bounds */
	struct req *r = &q->reqs[slot];
	if (!r->async) {
		/* A synchronous request is only met here after its caller gave up waiting:
		 * its output buffers may be gone, so release without copying anything out. */
		_release(r);
		_slot_put(q, slot);
		return;
	}
	_finish(r, c->res);
	{
		q->done[q->done_tail++ % q->qp.cq_entries] =
			(struct shm_done){.user_data = r->user_data, .res = c->res};
		q->async_inflight--;
		_slot_put(q, slot);
	}
}

/* Waits for completions (min 1) and finishes them; returns -errno on transport failure. */
static int _wait_some(struct gqp *q, int timeout_ms)
{
	struct vtr_cqe c[BATCH];
	int n = vtr_qp_wait(&q->qp, c, BATCH, timeout_ms);

	for (int i = 0; i < n; i++)
		_complete(q, &c[i]);
	return n < 0 ? n : 0;
}

int64_t shm_call(uint16_t opcode, uint32_t sess_id, uint32_t op, const struct shm_io *in,
		 uint32_t nr_in, const struct shm_io *out, uint32_t nr_out)
{
	struct vtr_sqe sqe = {.opcode = opcode, .sess_id = sess_id, .op = op};
	int shared, ret;
	uint32_t slot;
	struct vtr_cqe c[BATCH];

	if ((ret = _enter()))
		return ret;
	struct gqp *q = _qp_get(&shared);
	/* Requests staged asynchronously go first, in order. */
	_publish(q);
	while (_slot_get(q, &slot))
		if ((ret = _check_alive(_wait_some(q, WAIT_TIMEOUT_MS))) && ret != -ETIMEDOUT)
			goto out;
	struct req *r = &q->reqs[slot];
	r->async = 0;
	ret = _marshal(r, &sqe, in, nr_in, out, nr_out);
	if (ret) {
		_slot_put(q, slot);
		goto out;
	}
	sqe.user_data = slot;
	while (vtr_qp_submit(&q->qp, &sqe, 1) == 0)
		if ((ret = _check_alive(_wait_some(q, WAIT_TIMEOUT_MS))) && ret != -ETIMEDOUT)
			goto fail;
	for (;;) {
		int n = vtr_qp_wait(&q->qp, c, BATCH, WAIT_TIMEOUT_MS);
		if (n == -ETIMEDOUT && _check_alive(n) == -ETIMEDOUT)
			continue;
		if (n < 0) {
			ret = _check_alive(n);
			goto fail;
		}
		int mine = -1;
		for (int i = 0; i < n; i++) {
			if (c[i].user_data == slot)
				mine = i;
			else
				_complete(q, &c[i]);
		}
		if (mine >= 0) {
			ret = c[mine].res;
			_finish(r, ret);
			_slot_put(q, slot);
			break;
		}
	}
	_qp_put(q, shared);
	return ret;
fail:
	if (ret != -ECONNRESET)
		vaccel_error("[shm] waiting for the agent failed: %s", strerror(-ret));
	/* The request may still be answered: its slot and buffers stay reserved. */
out:
	_qp_put(q, shared);
	return ret;
}

int shm_submit(uint16_t opcode, uint32_t sess_id, uint32_t op, const struct shm_io *in,
	       uint32_t nr_in, const struct shm_io *out, uint32_t nr_out, uint64_t user_data,
	       unsigned flags)
{
	int shared, ret;
	uint32_t slot;

	if ((ret = _enter()))
		return ret;
	struct gqp *q = _qp_get(&shared);
	if (shared) {
		_qp_put(q, shared);
		vaccel_error("[shm] no queue pair of its own for this thread: asynchronous calls need "
			     "one (give the agent more --qps)");
		return -EBUSY;
	}
	struct vtr_sqe *dst;
	while ((dst = vtr_qp_stage(&q->qp, q->nr_batch)) == NULL || _slot_get(q, &slot)) {
		/* No room: publish what is staged, then wait for completions if allowed. */
		_publish(q);
		if (!(flags & SHM_SUBMIT_WAIT)) {
			return -EAGAIN;
		}
		if ((ret = _check_alive(_wait_some(q, WAIT_TIMEOUT_MS))) && ret != -ETIMEDOUT) {
			return ret;
		}
	}
	struct req *r = &q->reqs[slot];
	r->async = 1;
	r->user_data = user_data;
	/* Fields go straight into the ring slot (invisible until published). Building the SQE
	 * elsewhere and copying it would load over narrower stores, which waits for the store
	 * buffer and so for the ring lines it is still acquiring. */
	dst->opcode = opcode;
	dst->flags = 0;
	dst->sess_id = sess_id;
	dst->op = op;
	dst->user_data = slot;
	ret = _marshal(r, dst, in, nr_in, out, nr_out);
	if (ret) {
		_slot_put(q, slot); /* the staged slot is simply not published */
		return ret;
	}
	/* Ask for a later slot's line now, so that store does not queue behind its miss. */
	__builtin_prefetch(_vtr_ring_slot(&q->qp.sq, q->qp.sq.head + q->nr_batch + 8), 1, 3);
	q->nr_batch++;
	q->async_inflight++;
	if (!(flags & SHM_SUBMIT_MORE) || q->nr_batch == BATCH)
		_publish(q);
	return 0;
}

int shm_flush(void)
{
	int shared;

	int ret = _enter();
	if (ret)
		return ret;
	struct gqp *q = _qp_get(&shared);
	ret = shared ? 0 : _publish(q);
	_qp_put(q, shared);
	return ret;
}

int shm_reap(struct shm_done *out, unsigned min_nr, unsigned max_nr, int timeout_ms, unsigned *nr)
{
	int shared, ret = 0;
	struct timespec t0, t1;

	*nr = 0;
	if ((ret = _enter()))
		return ret;
	struct gqp *q = _qp_get(&shared);
	if (shared) {
		_qp_put(q, shared);
		return max_nr ? -EBUSY : 0;
	}
	int timed = 0; /* the clock is read only once a wait is needed */
	for (;;) {
		struct vtr_cqe c[BATCH];
		int n;

		/* Completions already here, without waiting. */
		while ((n = vtr_qp_reap(&q->qp, c, BATCH)) > 0)
			for (int i = 0; i < n; i++)
				_complete(q, &c[i]);
		while (*nr < max_nr && q->done_head != q->done_tail)
			out[(*nr)++] = q->done[q->done_head++ % q->qp.cq_entries];
		if (*nr >= min_nr || *nr == max_nr)
			break;
		_publish(q); /* a reaper waits for what it has staged */
		if (q->async_inflight == 0 && q->done_head == q->done_tail) {
			ret = -ETIMEDOUT; /* nothing more can come */
			break;
		}
		int left = -1;
		if (timeout_ms >= 0 && !timed) {
			clock_gettime(CLOCK_MONOTONIC, &t0);
			timed = 1;
		}
		if (timeout_ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
			if (ms >= timeout_ms) {
				ret = -ETIMEDOUT;
				break;
			}
			left = timeout_ms - (int)ms;
		}
		ret = _check_alive(_wait_some(q, left < 0 || left > WAIT_TIMEOUT_MS ? WAIT_TIMEOUT_MS : left));
		if (ret && ret != -ETIMEDOUT) {
			/* The agent is gone, but what it completed before leaving is still ours. */
			while (*nr < max_nr && q->done_head != q->done_tail)
				out[(*nr)++] = q->done[q->done_head++ % q->qp.cq_entries];
			if (*nr >= min_nr)
				ret = 0;
			break;
		}
		ret = 0;
	}
	_qp_put(q, shared);
	return ret;
}

unsigned shm_inflight(void)
{
	int shared;

	if (!__atomic_load_n(&g_conn.up, __ATOMIC_ACQUIRE))
		return 0;
	struct gqp *q = _qp_get(&shared);
	unsigned n = shared ? 0 : q->async_inflight + (q->done_tail - q->done_head);
	_qp_put(q, shared);
	return n;
}
