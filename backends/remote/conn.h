/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the plugin's op files see of the connection: one per process to the agent (its
 * region, pool, queue pairs and doorbells), and calls over this thread's queue pair.
 * connect.c and vm.c make the connection, liveness.c watches it, claim.c gives each thread
 * a pair, calls.c runs requests through transport/client.h. Functions return 0 (or a
 * positive result) or -errno.
 */
#ifndef SHM_CONN_H
#define SHM_CONN_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <vaccel/async.h>
#include <vaccel/error.h>

#include "transport/client.h"
#include "transport/qp.h"

/* Everything here is the plugin's own: calls between its files need no PLT. */
#pragma GCC visibility push(hidden)


/*
 * Connects once per process; again after a failure or after the agent hung up (the lost
 * connection stays mapped until shm_conn_close). Errors are logged with the path.
 */
int shm_conn_ensure(void);
void shm_conn_close(void);
const char *shm_conn_socket_path(void);
/* VACCEL_SHM_DEVICE: inside a VM, the ivshmem device to use ("auto": the first one, or a PCI
 * address, or its sysfs folder) instead of the socket. NULL when unset. */
const char *shm_conn_device(void);
/* "the agent at SOCKET" or "ivshmem device DEV", for messages (per-thread buffer). */
const char *shm_conn_where(void);

struct vshm_pool;
/* The connection's buffer pool and region base (NULL while not connected). */
struct vshm_pool *shm_conn_pool(void);
void *shm_conn_base(void);
/* Changes on every (re)connection: memory from an earlier connection is foreign. */
uint64_t shm_conn_generation(void);
/* 1 while connection number gen is the current one and the agent has not hung up. */
int shm_conn_alive(uint64_t gen);

/*
 * One synchronous request: inputs are copied into the pool (or passed by offset when they
 * already live there), outputs are copied in too (in/out semantics) and back after the
 * completion. Returns the completion's res (>= 0) or -errno.
 */
int64_t shm_call(uint16_t opcode, uint32_t sess_id, uint32_t op, const struct vtr_io *in,
		 uint32_t nr_in, const struct vtr_io *out, uint32_t nr_out);

/* A completion's res (0, an id, or -errno) as vAccel's return code. */
static inline int shm_vret(int64_t res)
{
	if (res >= 0)
		return VACCEL_OK;
	if (res == -ENOTCONN || res == -ECONNRESET || res == -EPIPE)
		return VACCEL_ESESS;
	return (int)-res;
}

/* The same values as VACCEL_ASYNC_WAIT and VACCEL_ASYNC_MORE, so flags pass unchanged. */
#define SHM_SUBMIT_WAIT VTR_SUBMIT_WAIT /* wait for room instead of -EAGAIN */
#define SHM_SUBMIT_MORE VTR_SUBMIT_MORE /* queue only; publish with the next submit or shm_flush */

/*
 * Asynchronous request on this thread's own queue pair, for a session of connection number
 * gen. 0, -EAGAIN (no room), -EBUSY (this thread has no queue pair of its own), -ENOTCONN,
 * -ECONNRESET (the connection was lost, or gen is an earlier one), -E2BIG, -errno of the pool.
 */
int shm_submit(uint64_t gen, uint16_t opcode, uint32_t sess_id, uint32_t op,
	       const struct vtr_io *in, uint32_t nr_in, const struct vtr_io *out, uint32_t nr_out,
	       uint64_t user_data, unsigned flags);
/* The same for a request without arguments (a noop): nothing goes into the pool. */
int shm_submit0(uint64_t gen, uint16_t opcode, uint32_t sess_id, uint32_t op, uint64_t user_data,
		unsigned flags);
int shm_flush(void);
/*
 * Between min_nr and max_nr finished requests of this thread, oldest first, their res as
 * vAccel codes (shm_vret). 0, -ETIMEDOUT (fewer than min_nr; *nr says how many), -errno.
 */
int shm_reap(struct vaccel_completion *out, unsigned min_nr, unsigned max_nr, int timeout_ms,
	     unsigned *nr);
unsigned shm_inflight(void);

#pragma GCC visibility pop

#endif
