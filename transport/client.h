/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest's submit/complete client of one queue pair: request slots, argument tables in
 * the buffer pool, synchronous calls, asynchronous submission and reaping, and the stash of
 * finished asynchronous requests that a synchronous wait met first.
 *
 * Ownership: a client belongs to whoever holds its queue pair (one thread, or a lock the
 * caller takes); nothing here is thread-safe, and nothing here is shared with the host
 * except the queue pair (qp.h's matrix) and the pool buffers its requests name.
 *
 * Each request takes one slot of cq_entries; the SQE's user_data is the slot number, so the
 * CQ can never overflow (qp.h). Arguments go into one pool buffer holding the argument table
 * and the small arguments; larger ones get a pool buffer each, or travel by offset when
 * they already live in the pool (zero copy). Outputs are copied in too (in/out semantics)
 * and back after the completion, unless they live in the pool.
 *
 * The hot paths of asynchronous submission are static inline here (liburing's habit);
 * everything else is client.c. Functions return 0 (or a count, or a completion's res) or
 * -errno.
 */
#ifndef VTR_CLIENT_H
#define VTR_CLIENT_H

#include <stdint.h>

#include "shm/pool.h"
#include "transport/qp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Linked into the guest plugin: calls from the plugin's files need no PLT. */
#pragma GCC visibility push(hidden)

/* One argument of a call: bytes in the caller's memory (possibly a pool buffer). */
struct vtr_io {
	void *buf;
	uint64_t len;
	uint32_t type;
};

/* A finished asynchronous request: the caller's user_data and the completion's res. */
struct vtr_completion {
	uint64_t user_data;
	int32_t res;
};

/* One request in flight: what its completion needs first, four to a cache line. */
struct vtr_client_req {
	uint64_t user_data; /* the caller's (asynchronous requests) */
	uint32_t kind;      /* VTR_REQ_* bits */
	uint32_t pad;
};

#define VTR_REQ_ASYNC 1u /* its completion is kept for a reap */
#define VTR_REQ_ARGS 2u  /* it has arguments: the slot's struct vtr_client_args holds them */

/* A request's arguments: pool buffers to give back and outputs to copy out. */
struct vtr_client_args {
	uint32_t nr_in, nr_out;
	uint32_t owned;        /* bit i: argument i's pool buffer was allocated here */
	struct vshm_buf table; /* argument table and small arguments (ptr NULL: none) */
	void *out_dst[VTR_MAX_ARGS];
};

#define VTR_CLIENT_BATCH 32u      /* staged requests published at most at once */
#define VTR_CLIENT_WAIT_MS 1000   /* a wait re-checks the other side's liveness this often */
#define VTR_CLIENT_SMALL_ARG 256u /* arguments up to this size travel in the table's buffer */

/*
 * After a wait gave up (err: -ETIMEDOUT, -ECONNRESET, ...): is the host still there?
 * Returns err to keep waiting (-ETIMEDOUT) or the error that ends the wait.
 */
typedef int (*vtr_client_check_fn)(int err);

struct vtr_client {
	struct vtr_qp qp;
	struct vshm_pool *pool;
	void *base;                 /* the region's base in this process */
	vtr_client_check_fn check;
	struct vtr_client_req *reqs; /* cq_entries slots */
	struct vtr_client_args *rargs; /* the slots' arguments, in the same allocation */
	uint32_t *free_slots;
	uint32_t nr_free;
	uint32_t nr_batch;    /* SQEs staged (VTR_SUBMIT_MORE), not yet published */
	uint32_t room;        /* more SQEs that may be staged before looking again (0: look) */
	/* Finished asynchronous requests not yet reaped: a ring of done_cap (a power of two)
	 * that grows when the caller keeps submitting with VTR_SUBMIT_WAIT without reaping. */
	struct vtr_completion *done;
	uint32_t done_head, done_tail, done_cap;
	uint32_t async_inflight;
};

#define VTR_SUBMIT_WAIT 0x1u /* wait for room instead of -EAGAIN */
#define VTR_SUBMIT_MORE 0x2u /* stage only; published with the next submit or vtr_client_flush */

/* Over an attached queue pair (c->qp): slots for cq_entries requests. 0 or -ENOMEM. */
int vtr_client_init(struct vtr_client *c, struct vshm_pool *pool, void *base,
		    vtr_client_check_fn check);
/* Frees the slots (the pair's in-flight pool buffers belong to the region and go with it). */
void vtr_client_free(struct vtr_client *c);

/*
 * One synchronous request; asynchronous requests staged before it go first. 0 with *res
 * the completion's res (>= 0 or -errno), or -errno of the pool (nothing was sent) or of
 * the wait (then the request's slot and buffers stay reserved: it may still be answered).
 */
int vtr_client_call(struct vtr_client *c, uint16_t opcode, uint32_t sess_id, uint32_t op,
		    const struct vtr_io *in, uint32_t nr_in, const struct vtr_io *out,
		    uint32_t nr_out, int32_t *res);

/* An asynchronous request with arguments. 0, -EAGAIN (no room), -E2BIG, -errno. */
int vtr_client_submit(struct vtr_client *c, uint16_t opcode, uint32_t sess_id, uint32_t op,
		      const struct vtr_io *in, uint32_t nr_in, const struct vtr_io *out,
		      uint32_t nr_out, uint64_t user_data, unsigned flags);

/*
 * Between min_nr and max_nr finished asynchronous requests, oldest first (the stash, then
 * the CQ in place). 0, -ETIMEDOUT (fewer than min_nr; *nr says how many), -errno.
 */
int vtr_client_reap(struct vtr_client *c, struct vtr_completion *out, unsigned min_nr,
		    unsigned max_nr, int timeout_ms, unsigned *nr);

/* Slow half of vtr_client_stage: counts room again, publishing and waiting if allowed. */
int vtr_client_room(struct vtr_client *c, unsigned flags);
/* Publishes the staged batch; returns 0 (out of line: the callers' fast path stays lean). */
int vtr_client_flush(struct vtr_client *c);

/* Asynchronous requests submitted (staged included) and not yet reaped. */
static inline unsigned vtr_client_pending(const struct vtr_client *c)
{
	return c->async_inflight + (c->done_tail - c->done_head);
}

/*
 * Takes a slot and the next SQE slot of the ring for an asynchronous request. 0, -EAGAIN,
 * -errno of a wait; nothing is visible to the host until vtr_client_commit.
 */
static inline int vtr_client_stage(struct vtr_client *c, unsigned flags, uint32_t *slot,
				   struct vtr_sqe **sqe)
{
	int ret;

	if (__builtin_expect(c->room == 0, 0) && (ret = vtr_client_room(c, flags)))
		return ret;
	*slot = c->free_slots[--c->nr_free];
	*sqe = vtr_qp_sqe_at(&c->qp, c->nr_batch);
	return 0;
}

/*
 * Fields go straight into the ring slot (invisible until published). Building the SQE
 * elsewhere and copying it would load over narrower stores, which waits for the store
 * buffer and so for the ring lines it is still acquiring.
 */
static inline void vtr_client_sqe_fill(struct vtr_sqe *sqe, uint16_t opcode, uint32_t sess_id,
				       uint32_t op, uint32_t slot)
{
	sqe->opcode = opcode;
	sqe->flags = 0;
	sqe->sess_id = sess_id;
	sqe->op = op;
	sqe->user_data = slot;
	sqe->nr_args = 0;
	sqe->args_off = 0;
}

/*
 * The request staged last counts as staged; published with its batch. Returns 0. Asks for
 * a later slot's line for writing now (prefetchw: a no-op on CPUs without it), so that its
 * stores do not queue behind the miss, and with write intent, because the host read it
 * last.
 */
static inline int vtr_client_commit(struct vtr_client *c, unsigned flags)
{
	__asm__ volatile("prefetchw %0" ::"m"(*(const char *)vtr_qp_sqe_at(&c->qp, c->nr_batch + 8)));
	c->room--;
	c->nr_batch++;
	c->async_inflight++;
	if (!(flags & VTR_SUBMIT_MORE) || c->nr_batch == VTR_CLIENT_BATCH)
		return vtr_client_flush(c);
	return 0;
}

/* An asynchronous request without arguments (a noop), staged, filled and committed. */
static inline int vtr_client_submit0(struct vtr_client *c, uint32_t slot, struct vtr_sqe *sqe,
				     uint16_t opcode, uint32_t sess_id, uint32_t op,
				     uint64_t user_data, unsigned flags)
{
	c->reqs[slot].user_data = user_data;
	c->reqs[slot].kind = VTR_REQ_ASYNC;
	vtr_client_sqe_fill(sqe, opcode, sess_id, op, slot);
	return vtr_client_commit(c, flags);
}

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* VTR_CLIENT_H */
