/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The wait ladder, the consumer's side of a queue pair: poll the ring for a time budget,
 * then announce sleep (NEED_WAKEUP, full fence, re-check: vtr_qp_announce_sleep in qp.h)
 * and sleep on the doorbell. The producer's side (publish, fence, read the flag, ring) is
 * vtr_qp_kick in qp.h; the two fences are the Dekker handshake described there.
 *
 * The polling budget is fixed (vtr_qp_set_spin_ns) unless a bound is set with
 * vtr_qp_set_spin_max_ns: then a waiter whose recent waits lasted W on average polls for up
 * to 2W (at least the fixed budget, at most the bound), so requests that reliably take,
 * say, 2 ms are polled through instead of costing a sleep and a wake-up each; a waiter whose
 * waits last longer than the bound sleeps after the fixed budget as before. Past the fixed
 * budget the waiter yields the CPU now and then; when another thread took it for a time
 * slice, the waiter sleeps, and if that happens twice within ~50 ms it keeps to the fixed
 * budget for ~50 ms (on a shared CPU a poller sees the completion later than a sleeper).
 * Only a waiter with requests in flight ever polls. A waiter whose recent waits all lasted
 * 300 us or more (within the bound) naps first: it sleeps until 80 us before the shortest
 * of them would end, then polls (wait.c: a polling vCPU can slow the core's other one).
 */
#ifndef VTR_WAIT_H
#define VTR_WAIT_H

#include <stdint.h>

#include "transport/qp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sets the polling budget of the wait ladder in nanoseconds. */
void vtr_qp_set_spin_ns(struct vtr_qp *qp, uint64_t ns);
/* Bounds the adaptive polling budget (see the top of this file); 0 turns it off (default). */
void vtr_qp_set_spin_max_ns(struct vtr_qp *qp, uint64_t ns);

/*
 * Sleeps on qp->wait_fd until it is signalled or timeout_ms passes (-1: forever), watching
 * qp->watch_fd for a hang-up. Consumes the eventfd count.
 * 0 woken, -ETIMEDOUT, -ECONNRESET (the other side hung up), -errno.
 */
int vtr_qp_sleep(struct vtr_qp *qp, int timeout_ms);

/*
 * Waits for at least one completion and takes up to n: polls for the spin budget, then
 * sleeps on the doorbell. timeout_ms bounds each sleep (-1: forever); on a timeout it returns
 * -ETIMEDOUT so the caller can check the host's liveness. Count, -ETIMEDOUT, -EPROTO.
 */
int vtr_qp_wait(struct vtr_qp *qp, struct vtr_cqe *cqes, uint32_t n, int timeout_ms);
/* The same wait, leaving the completions in the ring: count ready (> 0) or the same errors. */
int vtr_qp_wait_ready(struct vtr_qp *qp, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* VTR_WAIT_H */
