/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Is the agent still there? A local agent's end of the socket closes when it exits; a VM's
 * agent is watched through the header's epoch and heartbeat (vm.c). A lost connection
 * fails every call with VACCEL_ESESS until a new session reconnects.
 */
#include <errno.h>
#include <poll.h>

#include <vaccel.h>

#include "backends/remote/conn_state.h"

/* 1 if the agent's end of the socket is closed (it exited or was killed). */
static int _host_gone(void)
{
	struct pollfd p = {.fd = g_conn.cli.sock, .events = POLLRDHUP};
	/* Relaxed: the device pointer is read once per check; a reconnect may clear it. */
	const struct vivg_dev *vm = vshm_load_relaxed(&g_conn.vm);

	if (vm)
		return shm_vm_host_gone(vm);
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR));
}

static void _lose(void)
{
	int was = 0;

	/* L1: the CAS's release pairs with the acquire in shm_conn_alive; only the first
	 * thread to notice says so. */
	if (vshm_cas(&g_conn.lost, &was, 1))
		vaccel_error("[shm] lost the agent at %s: calls fail with VACCEL_ESESS until a new "
			     "session reconnects", g_conn.path);
}

int shm_check_alive(int err)
{
	if (err == 0)
		return 0; /* completions arrived: whatever happens next, these count */
	if (err == -ECONNRESET || _host_gone()) {
		_lose();
		return -ECONNRESET;
	}
	return err;
}

/* Plain loads, no atomic RMW on this path. */
int shm_enter(void)
{
	if (!vshm_load_acquire(&g_conn.up)) /* C1 */
		return -ENOTCONN;
	if (vshm_load_relaxed(&g_conn.lost))
		return -ECONNRESET;
	/* In a VM, an agent restarted on the same region rewrote it under us: a call must not
	 * go into its fresh rings with our old indices. One load of a read-mostly line. */
	struct vivg_dev *vm = vshm_load_relaxed(&g_conn.vm);
	if (vm && vshm_region_host_epoch(vm->region) != g_conn.vm_epoch) {
		_lose();
		return -ECONNRESET;
	}
	return 0;
}

int shm_conn_alive(uint64_t gen)
{
	/* C1, L1 */
	return vshm_load_acquire(&g_conn.up) && gen == g_conn.gen && !vshm_load_acquire(&g_conn.lost);
}
