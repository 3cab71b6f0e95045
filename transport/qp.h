/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A queue pair in the shared region: a submission ring (SQ) of 64-byte request descriptors
 * that the guest produces and the host consumes, and a completion ring (CQ) of 16-byte
 * completions that the host produces and the guest consumes.
 *
 * Area (kind VSHM_AREA_QP, param0 = SQ entries, param1 = CQ entries):
 *   0     struct vtr_qp_shared   owner word (guest threads claim a QP with a CAS; the host
 *                                ignores it)
 *   64    SQ ring (transport/ring.h layout)
 *   ...   CQ ring, cache-line aligned
 *
 * Ownership:        guest writes                 host writes
 *   SQ              prod index, SQEs              cons index, NEED_WAKEUP (cons_wake)
 *   CQ              cons index, NEED_WAKEUP       prod index, CQEs
 *
 * Wait ladder (both directions): a waiting consumer polls for a time budget, then announces
 * sleep (NEED_WAKEUP = 1), issues a full fence, re-checks the ring and only then sleeps on its
 * doorbell. A producer publishes, issues a full fence, reads NEED_WAKEUP and rings the doorbell
 * only when it is set. The two fences make it a Dekker handshake: either the producer sees
 * the flag, or the consumer's re-check sees the new entry, so no wake-up is lost; on the busy
 * path nobody sleeps and no doorbell (syscall, VM exit) is rung.
 *
 * The waiting consumer's side (polling budget, sleeping, adaptive polling) is transport/wait.h.
 *
 * CQ overflow never happens: the guest keeps at most cq_entries requests in flight, and
 * the host only takes from an SQ as many requests as its CQ has free slots.
 */
#ifndef VTR_QP_H
#define VTR_QP_H

#include <stdint.h>

#include "shm/barrier.h"
#include "transport/ring.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Request descriptor: exactly one cache line. */
struct vtr_sqe {
	uint16_t opcode;    /* enum vtr_opcode */
	uint16_t flags;
	uint32_t sess_id;   /* host session id, as returned by VTR_OP_SESS_INIT */
	uint64_t user_data; /* returned unchanged in the CQE */
	uint64_t args_off;  /* region offset of the argument table (struct vtr_arg[nr_args]) */
	uint32_t nr_args;
	uint32_t op;        /* op-specific word: vAccel op type, resource id, flags */
	uint8_t inl[32];    /* inline bytes for small requests */
};

/* Completion: user_data of the request and res = 0, a positive value or -errno. */
struct vtr_cqe {
	uint64_t user_data;
	int32_t res;
	uint32_t flags;
};

/* One argument: bytes at a region offset, inside the buffer pool. */
struct vtr_arg {
	uint64_t off;
	uint64_t len;
	uint32_t type;  /* vAccel arg type, or op-specific */
	uint32_t flags; /* VTR_ARG_IN / VTR_ARG_OUT */
};

#define VTR_MAX_ARGS 32u /* arguments per request */

#define VTR_ARG_IN 1u
#define VTR_ARG_OUT 2u

enum vtr_opcode {
	VTR_OP_NOP = 0,      /* ring-level no-op: answered by the poller itself */
	VTR_OP_SESS_INIT,    /* op = session flags; res = host session id */
	VTR_OP_SESS_RELEASE, /* sess_id */
	VTR_OP_SESS_UPDATE,  /* sess_id, op = flags */
	VTR_OP_RES_REGISTER, /* args: type word, then (name, bytes) pairs; res = resource id */
	VTR_OP_RES_UNREGISTER, /* sess_id, op = resource id */
	VTR_OP_VACCEL,       /* a vAccel operation: op = vaccel_op_type_t, args per op */
	VTR_OP_MAX,
};

struct vtr_qp_shared {
	uint32_t owner; /* 0: free; else a guest thread's claim */
	uint32_t magic;
	uint8_t pad[56];
};

#ifndef __cplusplus
_Static_assert(sizeof(struct vtr_sqe) == 64, "an SQE is one cache line");
_Static_assert(sizeof(struct vtr_cqe) == 16, "a CQE is 16 bytes");
_Static_assert(sizeof(struct vtr_arg) == 24, "an argument descriptor is 24 bytes");
_Static_assert(sizeof(struct vtr_qp_shared) == 64, "QP header is one line");
#endif

#define VTR_QP_MAGIC 0x50514156u /* "VAQP" */

/* How one side wakes the other: an eventfd, or an ivshmem doorbell register (VM). */
struct vtr_doorbell {
	int fd;                 /* eventfd to write, or -1 */
	volatile uint32_t *reg; /* ivshmem BAR0 doorbell register, or NULL */
	uint32_t reg_value;     /* (peer << 16) | vector */
};

/* One side's handle on a queue pair (private memory). */
struct vtr_qp {
	struct vtr_qp_shared *sh;
	struct vtr_ring sq;
	struct vtr_ring cq;
	uint32_t sq_entries, cq_entries;
	uint32_t inflight;         /* guest: submitted and not yet reaped */
	struct vtr_doorbell peer;  /* rings the other side */
	int wait_fd;               /* eventfd this side sleeps on, or -1 (poll only) */
	int watch_fd;              /* a socket whose hang-up means the other side is gone, or -1 */
	uint64_t spin_cycles;      /* TSC budget of the polling step of the wait ladder */
	uint64_t spin_max_cycles;  /* bound of the adaptive budget; 0: the budget is fixed */
	uint64_t wait_avg;         /* recent waits' length in TSC cycles (moving average) */
	uint64_t wait_low;         /* recent waits' low end in TSC cycles (see wait.h: naps) */
	uint64_t shared_until;     /* TSC: the CPU was found shared; the budget is fixed until */
	uint64_t shared_seen;      /* TSC of the last time the CPU was found taken */
	uint64_t wakeups;          /* times this side slept and was woken */
	uint64_t naps;             /* waits that slept through most of their expected length */
	uint64_t doorbells;        /* doorbells this side rang */
};

enum vtr_qp_side { VTR_QP_GUEST = 1, VTR_QP_HOST = 2 };

/* Bytes a queue pair occupies in the region. */
uint64_t vtr_qp_bytes(uint32_t sq_entries, uint32_t cq_entries);
/* Creator (host): formats the area. 0 or -EINVAL. */
int vtr_qp_format(void *mem, uint64_t bytes, uint32_t sq_entries, uint32_t cq_entries);
/*
 * Attaches one side; geometry from the caller's trusted layout. wait_fd and peer may be -1
 * (polling only). 0, -EINVAL, -EPROTO (ring indices inconsistent).
 */
int vtr_qp_attach(struct vtr_qp *qp, void *mem, uint64_t bytes, uint32_t sq_entries,
		  uint32_t cq_entries, enum vtr_qp_side side, int wait_fd,
		  const struct vtr_doorbell *peer);

/* Guest threads: claim/release a queue pair (cooperation between guest threads only). */
int vtr_qp_claim(struct vtr_qp_shared *sh, uint32_t who);
void vtr_qp_unclaim(struct vtr_qp_shared *sh, uint32_t who);

/* Rings the other side's doorbell. 0 or -errno of the write. */
int vtr_doorbell_ring(const struct vtr_doorbell *db);


/*
 * After publishing to ring r (whose consumer is the other side): fence, read the consumer's
 * NEED_WAKEUP, ring the doorbell if set. The fence pairs with the one in
 * vtr_qp_announce_sleep; it is the only full fence on the busy path.
 */
static inline void vtr_qp_kick(struct vtr_qp *qp, struct vtr_ring *r)
{
	vshm_fence_full();
	if (__builtin_expect(vshm_load_relaxed(&r->sh->cons_wake) != 0, 0)) {
		vtr_doorbell_ring(&qp->peer);
		qp->doorbells++;
	}
}

/*
 * Consumer of r, before sleeping: set NEED_WAKEUP, fence, re-check. Returns 1 if entries
 * arrived meanwhile (the flag is cleared again and the caller must not sleep), 0 if the caller
 * may sleep. -EPROTO on a corrupt index.
 */
static inline int vtr_qp_announce_sleep(struct vtr_ring *r)
{
	vshm_store_relaxed(&r->sh->cons_wake, 1u);
	vshm_fence_full();
	int ready = _vtr_ring_ready(r);
	if (ready != 0) {
		vshm_store_relaxed(&r->sh->cons_wake, 0u);
		return ready < 0 ? ready : 1;
	}
	return 0;
}

static inline void vtr_qp_wake_done(struct vtr_ring *r)
{
	vshm_store_relaxed(&r->sh->cons_wake, 0u);
}

/* ---- guest side ---- */

/*
 * Submits n SQEs (one publish, one kick). Returns how many were queued: fewer than n when the
 * in-flight limit (CQ size) or the SQ is reached; 0 means the caller must reap first.
 */
static inline int vtr_qp_submit(struct vtr_qp *qp, const struct vtr_sqe *sqes, uint32_t n)
{
	uint32_t room = qp->cq_entries - qp->inflight;

	if (n > room)
		n = room;
	if (n == 0)
		return 0;
	int got = n == 1 ? vtr_ring_push(&qp->sq, sqes) : vtr_ring_push_burst(&qp->sq, sqes, n);
	if (got > 0) {
		qp->inflight += (uint32_t)got;
		vtr_qp_kick(qp, &qp->sq);
	}
	return got;
}

/*
 * Builds requests in place: the k-th SQE slot after the last published one, or NULL when the
 * in-flight limit or the SQ would be exceeded. vtr_qp_publish(qp, n) publishes n staged
 * requests with one index store and one kick.
 */
static inline struct vtr_sqe *vtr_qp_stage(struct vtr_qp *qp, uint32_t k)
{
	if (qp->inflight + k + 1 > qp->cq_entries)
		return NULL;
	return (struct vtr_sqe *)vtr_ring_stage(&qp->sq, k);
}

/*
 * The same for a caller that stages many: how many more requests fit after the k staged
 * (in-flight limit and SQ space; the host's SQ index is re-read only when the cached one
 * says there is less space than the in-flight limit allows), and the k-th staged slot
 * without checks. Completions only ever add room, so a count taken here stays safe.
 */
static inline uint32_t vtr_qp_stage_room(struct vtr_qp *qp, uint32_t k)
{
	if (qp->inflight + k >= qp->cq_entries)
		return 0;
	uint32_t cq_room = qp->cq_entries - qp->inflight - k;
	int sq_free = _vtr_ring_free(&qp->sq, k + cq_room);

	if (sq_free <= (int)k)
		return 0; /* full, or a corrupt index: nothing fits */
	uint32_t sq_room = (uint32_t)sq_free - k;
	return sq_room < cq_room ? sq_room : cq_room;
}

static inline struct vtr_sqe *vtr_qp_sqe_at(const struct vtr_qp *qp, uint32_t k)
{
	return (struct vtr_sqe *)qp->sq.slots + ((qp->sq.head + k) & qp->sq.mask);
}

static inline void vtr_qp_publish(struct vtr_qp *qp, uint32_t n)
{
	if (n == 0)
		return;
	vtr_ring_publish(&qp->sq, n);
	qp->inflight += n;
	vtr_qp_kick(qp, &qp->sq);
}

/*
 * Completions read in place: vtr_qp_cq_peek says how many are ready (count, 0 or -EPROTO),
 * vtr_qp_cqe(qp, i) is the i-th, and vtr_qp_cq_advance(qp, n) gives n slots back to the
 * host with one index store.
 */
static inline int vtr_qp_cq_peek(struct vtr_qp *qp)
{
	return vtr_ring_peek(&qp->cq);
}

static inline const struct vtr_cqe *vtr_qp_cqe(const struct vtr_qp *qp, uint32_t i)
{
	return (const struct vtr_cqe *)qp->cq.slots + ((qp->cq.head + i) & qp->cq.mask);
}

/* The same as three values a loop can keep in registers: cqes[(first + i) & mask]. */
struct vtr_cq_view {
	const struct vtr_cqe *cqes;
	uint32_t first, mask;
};

static inline struct vtr_cq_view vtr_qp_cq_view(const struct vtr_qp *qp)
{
	return (struct vtr_cq_view){(const struct vtr_cqe *)qp->cq.slots, qp->cq.head, qp->cq.mask};
}

static inline void vtr_qp_cq_advance(struct vtr_qp *qp, uint32_t n)
{
	vtr_ring_consume(&qp->cq, n);
	qp->inflight -= n;
}

/* Takes up to n completions without waiting. Count, or -EPROTO. */
static inline int vtr_qp_reap(struct vtr_qp *qp, struct vtr_cqe *cqes, uint32_t n)
{
	int got = n == 1 ? vtr_ring_pop(&qp->cq, cqes) : vtr_ring_pop_burst(&qp->cq, cqes, n);

	if (got > 0)
		qp->inflight -= (uint32_t)got;
	return got;
}


/* ---- host side ---- */

/*
 * Copies up to n SQEs into private memory, never more than the CQ has room for, so that
 * every request taken can be completed. Count, or -EPROTO (the guest corrupted an index).
 */
static inline int vtr_qp_host_take(struct vtr_qp *qp, struct vtr_sqe *sqes, uint32_t n)
{
	/* The SQ first: a corrupt index is reported even while the CQ is full. */
	int ready = _vtr_ring_ready(&qp->sq);

	if (ready <= 0)
		return ready;
	int fr = _vtr_ring_free(&qp->cq, n);

	if (fr < 0)
		return fr;
	if ((uint32_t)fr < n)
		n = (uint32_t)fr;
	if (n == 0)
		return 0;
	return vtr_ring_pop_burst(&qp->sq, sqes, n);
}

/*
 * The host, before sleeping: announces sleep on the SQ (NEED_WAKEUP, full fence) and
 * re-checks it. 1: requests arrived that can be served now (the flag is withdrawn; do not
 * sleep). 0: may sleep; the flag stays set, also when requests wait while the CQ is full
 * (a guest that does not reap must not keep the host awake, but its next publish, which
 * a guest within its in-flight limit makes only after reaping, rings). The CQ's room is
 * read after the SQ index: a guest reaps before it publishes, so a publish seen here comes
 * with the room it made. -EPROTO on a corrupt index.
 */
static inline int vtr_qp_host_announce_sleep(struct vtr_qp *qp)
{
	vshm_store_relaxed(&qp->sq.sh->cons_wake, 1u);
	vshm_fence_full();
	int ready = _vtr_ring_ready(&qp->sq);
	if (ready <= 0)
		return ready;
	int room = _vtr_ring_free(&qp->cq, 1);
	if (room == 0)
		return 0;
	vshm_store_relaxed(&qp->sq.sh->cons_wake, 0u);
	return room < 0 ? room : 1;
}

/* Posts n completions (room was reserved by vtr_qp_host_take) and kicks the guest. */
static inline int vtr_qp_host_complete(struct vtr_qp *qp, const struct vtr_cqe *cqes, uint32_t n)
{
	int got = vtr_ring_push_burst(&qp->cq, cqes, n);

	if (got > 0)
		vtr_qp_kick(qp, &qp->cq);
	return got;
}

/* ---- host side: what the agent reads for its own bookkeeping (stat, parking) ---- */

/* SQ entries the host has seen published and not taken yet (its own view: no shared read). */
static inline uint32_t vtr_qp_host_sq_seen(const struct vtr_qp *qp)
{
	return qp->sq.cached - qp->sq.head;
}

/* SQ entries published and not taken, re-reading the guest's index. Count or -EPROTO. */
static inline int vtr_qp_host_sq_ready(struct vtr_qp *qp)
{
	return _vtr_ring_ready(&qp->sq);
}

/* CQ entries posted and not yet reaped, re-reading the guest's index. Count or -EPROTO. */
static inline int vtr_qp_host_cq_pending(struct vtr_qp *qp)
{
	int fr = _vtr_ring_free(&qp->cq, qp->cq.size);

	return fr < 0 ? fr : (int)(qp->cq.size - (uint32_t)fr);
}

/*
 * For a host that rings the guest itself (its qp attached without a doorbell): 1 if the
 * guest announced sleep on the CQ. Call after vtr_qp_host_complete, whose kick issued the
 * full fence this read needs (it pairs with the guest's fence in vtr_qp_announce_sleep).
 */
static inline int vtr_qp_host_guest_asleep(const struct vtr_qp *qp)
{
	return vshm_load_relaxed(&qp->cq.sh->cons_wake) != 0;
}

#ifdef __cplusplus
}
#endif

#endif /* VTR_QP_H */
