/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside a VM: the ivshmem device instead of the agent's socket. The region is BAR2, the
 * doorbell (ivshmem-doorbell) BAR0's register; with ivshmem-plain there is none and the
 * host polls. One vAccel process per device (a lock file), a reset handshake with the host
 * when a process starts, and the host's liveness read from the header's epoch and heartbeat.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <vaccel.h>

#include "backends/remote/conn_state.h"

#define HOST_STALE_MS 3000   /* a heartbeat unchanged this long means the agent is gone */
#define BADMSG_RETRY_MS 1000 /* how long a region without magic may be initialising */

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

void shm_vm_unlock(void)
{
	if (g_conn.vm_lock >= 0) {
		close(g_conn.vm_lock); /* the next process of this VM may take the device */
		g_conn.vm_lock = -1;
	}
}

/*
 * The reset handshake: a new guest epoch in the header, answered by the host once it has
 * released what an earlier process of this VM left and formatted the queue pairs afresh.
 */
static int _vm_reset(int doorbell)
{
	struct vshm_region *reg = g_conn.vm->region;
	uint64_t epoch;
	int64_t t0 = shm_now_ms();

	do {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		epoch = ((uint64_t)t.tv_sec << 32) ^ (uint64_t)t.tv_nsec ^ ((uint64_t)getpid() << 16);
	} while (epoch == 0 || epoch == vshm_region_guest_epoch(reg));
	vshm_region_guest_epoch_set(reg, epoch);
	while (vshm_region_reset_acked(reg) != epoch) {
		if (doorbell)
			vivg_ring(g_conn.vm, 0, 0); /* wakes a sleeping poller */
		if (shm_now_ms() - t0 > CONNECT_TIMEOUT_MS) {
			vaccel_error("[shm] no vAccel agent answers on %s within %d ms: %s", g_conn.path, CONNECT_TIMEOUT_MS,
				     doorbell ? "is the agent that QEMU's ivshmem chardev connects to "
						"still running?"
					      : "is vaccel-agent running with --plain-region on the "
						"file QEMU maps?");
			return -ETIMEDOUT;
		}
		usleep(doorbell ? 1000 : 200);
	}
	g_conn.vm_epoch = vshm_region_host_epoch(reg);
	/* Relaxed: the heartbeat's last value and time are hints only this process reads. */
	vshm_store_relaxed(&g_conn.vm_hb, vshm_region_heartbeat(reg));
	vshm_store_relaxed(&g_conn.vm_hb_ms, shm_now_ms());
	return 0;
}

/* Inside a VM: the region is the ivshmem device's BAR2; BAR0's doorbell wakes the host. */
int shm_vm_connect_locked(const char *dev)
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
	for (int64_t t0 = shm_now_ms();;) {
		ret = vivg_open(&vo, &g_conn.vm, NULL, &err);
		if (ret != -EBADMSG || shm_now_ms() - t0 > BADMSG_RETRY_MS)
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
	ret = shm_conn_count_qps_locked();
	if (ret)
		return ret;
	ret = shm_conn_attach_locked(NULL, doorbell);
	if (ret)
		return ret;
	vaccel_debug("[shm] ivshmem device %s: %s mode, peer %d, %u queue pairs", name,
		     doorbell ? "doorbell" : "plain", doorbell ? id : -1, g_conn.nr_qps);
	return 0;
}

/*
 * Inside a VM: 1 if the agent restarted (a new host epoch) or its heartbeat has not moved
 * for HOST_STALE_MS. Called after waits time out, from any thread.
 */
int shm_vm_host_gone(const struct vivg_dev *vm)
{
	uint64_t hb = vshm_region_heartbeat(vm->region);
	int64_t now = shm_now_ms();

	if (vshm_region_host_epoch(vm->region) != g_conn.vm_epoch)
		return 1;
	/* Relaxed: threads racing here store values that are all recent enough. */
	if (hb != vshm_load_relaxed(&g_conn.vm_hb)) {
		vshm_store_relaxed(&g_conn.vm_hb, hb);
		vshm_store_relaxed(&g_conn.vm_hb_ms, now);
		return 0;
	}
	return now - vshm_load_relaxed(&g_conn.vm_hb_ms) > HOST_STALE_MS;
}
