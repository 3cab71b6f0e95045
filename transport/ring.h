/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A single-producer single-consumer ring of fixed-size elements that lives in a shared
 * region and works when the two sides map the region at different addresses.
 *
 * Shared part (struct vtr_ring_shared, followed by the slots), one cache line each:
 *   line 0  prod        producer's free-running index   written by the producer only
 *   line 1  cons        consumer's free-running index   written by the consumer only
 *   line 2  wake flags  NEED_WAKEUP words of the wait ladder (written on sleep transitions)
 *   line 3  info        slots/element size, written once by the creator (informational:
 *                       each side takes the geometry from its own trusted layout copy)
 *   256...  slots       nr_slots * esize bytes, written by the producer, read by the consumer
 *
 * Private part (struct vtr_ring): each side's own index and a cached copy of the other
 * side's index; the other side's line is re-read only when the cache says full (producer)
 * or empty (consumer), so in steady state each side writes its own line and reads little.
 *
 * Barrier contract (acquire names its release):
 *   R1 producer: slots written, then store-release prod      pairs with A2
 *   A2 consumer: load-acquire prod, then read slots           pairs with R1
 *   R2 consumer: slots read, then store-release cons          pairs with A1
 *   A1 producer: load-acquire cons, then overwrite slots      pairs with R2
 *
 * The other side may be hostile (an untrusted guest): an index read from shared memory is
 * accepted only if it keeps 0 <= prod - cons <= nr_slots; otherwise the call returns
 * -EPROTO and the private state is left as it was. Element geometry is never read from
 * shared memory.
 *
 * Progress: every push/pop is wait-free (bounded steps, no retry loops).
 * A full or empty ring is not an error: push returns 0 items, pop returns 0 items.
 */
#ifndef VTR_RING_H
#define VTR_RING_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "shm/barrier.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VTR_RING_MAGIC 0x474e4952u /* "RING" */
#define VTR_RING_HDR_BYTES 256u
#define VTR_RING_MAX_SLOTS (1u << 24)
#define VTR_RING_MAX_ESIZE 4096u

struct vtr_ring_shared {
	uint32_t prod;
	uint8_t pad0[60];
	uint32_t cons;
	uint8_t pad1[60];
	uint32_t cons_wake; /* consumer is (about to be) asleep: producer must ring */
	uint32_t prod_wake; /* producer is asleep on a full ring: consumer must ring */
	uint8_t pad2[56];
	uint32_t magic;
	uint32_t nr_slots;
	uint32_t esize;
	uint8_t pad3[52];
};

#ifndef __cplusplus
_Static_assert(sizeof(struct vtr_ring_shared) == VTR_RING_HDR_BYTES, "ring header is 4 lines");
_Static_assert(offsetof(struct vtr_ring_shared, cons) == 64, "cons on its own line");
_Static_assert(offsetof(struct vtr_ring_shared, cons_wake) == 128, "wake flags on their own line");
_Static_assert(offsetof(struct vtr_ring_shared, magic) == 192, "info line at 192");
#endif

enum vtr_ring_role { VTR_RING_PRODUCER = 1, VTR_RING_CONSUMER = 2 };

/* One side's private handle. */
struct vtr_ring {
	struct vtr_ring_shared *sh;
	uint8_t *slots;
	uint32_t size;  /* nr_slots, a power of two */
	uint32_t mask;
	uint32_t esize; /* bytes per element, a multiple of 8 */
	uint32_t head;  /* own index: next slot to write (producer) or read (consumer) */
	uint32_t cached; /* the other side's index as last seen */
	enum vtr_ring_role role;
};

/* Bytes a ring of nr_slots elements of esize bytes occupies in the region. */
static inline uint64_t vtr_ring_bytes(uint32_t nr_slots, uint32_t esize)
{
	return VTR_RING_HDR_BYTES + (uint64_t)nr_slots * esize;
}

/* Creator: zero the indices and write the info line. 0 or -EINVAL (bad geometry). */
int vtr_ring_format(void *mem, uint64_t bytes, uint32_t nr_slots, uint32_t esize);

/*
 * Attach one side to a formatted ring. nr_slots and esize come from the caller's trusted
 * layout, not from shared memory. The current shared indices are read once (and checked).
 * 0, -EINVAL (bad geometry or area too small), -EPROTO (indices inconsistent).
 */
int vtr_ring_attach(struct vtr_ring *r, void *mem, uint64_t bytes, uint32_t nr_slots,
		    uint32_t esize, enum vtr_ring_role role);

static inline void *_vtr_ring_slot(const struct vtr_ring *r, uint32_t idx)
{
	return r->slots + (size_t)(idx & r->mask) * r->esize;
}

/* Copies n contiguous elements; the common sizes become plain moves. */
static inline void _vtr_ring_copy(void *dst, const void *src, uint32_t esize, uint32_t n)
{
	if (n == 1) {
		switch (esize) {
		case 8:
			memcpy(dst, src, 8);
			return;
		case 16:
			memcpy(dst, src, 16);
			return;
		case 64:
			memcpy(dst, src, 64);
			return;
		}
	}
	memcpy(dst, src, (size_t)esize * n);
}

/* Free slots as the producer sees them, refreshing the cache only if fewer than want. */
static inline int _vtr_ring_free(struct vtr_ring *r, uint32_t want)
{
	uint32_t used = r->head - r->cached;

	if (__builtin_expect(r->size - used < want, 0)) {
		/* A1: pairs with R2; the consumer is done with slots before cons moves. */
		uint32_t cons = vshm_load_acquire(&r->sh->cons);

		used = r->head - cons;
		if (__builtin_expect(used > r->size, 0))
			return -EPROTO;
		r->cached = cons;
	}
	return (int)(r->size - used);
}

/*
 * Items ready as the consumer sees them. The producer's line is re-read only when the cache
 * says empty: a consumer that keeps up would otherwise pull that line on every partial
 * batch and make each of the producer's publishes a coherence miss.
 */
static inline int _vtr_ring_ready(struct vtr_ring *r)
{
	uint32_t avail = r->cached - r->head;

	if (avail == 0) {
		/* A2: pairs with R1; slots up to prod are written before prod moves. */
		uint32_t prod = vshm_load_acquire(&r->sh->prod);

		avail = prod - r->head;
		if (__builtin_expect(avail > r->size, 0))
			return -EPROTO;
		r->cached = prod;
	}
	return (int)avail;
}

/* Push one element. 1 pushed, 0 ring full, -EPROTO consumer index corrupt. */
static inline int vtr_ring_push(struct vtr_ring *r, const void *elem)
{
	int fr = _vtr_ring_free(r, 1);

	if (fr <= 0)
		return fr;
	_vtr_ring_copy(_vtr_ring_slot(r, r->head), elem, r->esize, 1);
	r->head++;
	/* R1: pairs with A2; the slot is visible before the new index. */
	vshm_store_release(&r->sh->prod, r->head);
	return 1;
}

/* Pop one element. 1 popped, 0 ring empty, -EPROTO producer index corrupt. */
static inline int vtr_ring_pop(struct vtr_ring *r, void *elem)
{
	int av = _vtr_ring_ready(r);

	if (av <= 0)
		return av;
	_vtr_ring_copy(elem, _vtr_ring_slot(r, r->head), r->esize, 1);
	r->head++;
	/* R2: pairs with A1; the slot is read before the producer may reuse it. */
	vshm_store_release(&r->sh->cons, r->head);
	return 1;
}

/* Copy n elements between a flat buffer and the ring starting at idx, across the end. */
static inline void _vtr_ring_to_slots(struct vtr_ring *r, uint32_t idx, const void *src, uint32_t n)
{
	uint32_t first = r->size - (idx & r->mask);

	if (first > n)
		first = n;
	_vtr_ring_copy(_vtr_ring_slot(r, idx), src, r->esize, first);
	if (n > first)
		_vtr_ring_copy(r->slots, (const uint8_t *)src + (size_t)first * r->esize, r->esize,
			       n - first);
}

static inline void _vtr_ring_from_slots(struct vtr_ring *r, uint32_t idx, void *dst, uint32_t n)
{
	uint32_t first = r->size - (idx & r->mask);

	if (first > n)
		first = n;
	_vtr_ring_copy(dst, _vtr_ring_slot(r, idx), r->esize, first);
	if (n > first)
		_vtr_ring_copy((uint8_t *)dst + (size_t)first * r->esize, r->slots, r->esize,
			       n - first);
}

/*
 * Push up to n elements from elems, publishing the index once for the whole batch.
 * Returns how many were pushed (0 if full) or -EPROTO.
 */
static inline int vtr_ring_push_burst(struct vtr_ring *r, const void *elems, uint32_t n)
{
	int fr = _vtr_ring_free(r, n);

	if (fr <= 0)
		return fr;
	if ((uint32_t)fr < n)
		n = (uint32_t)fr;
	_vtr_ring_to_slots(r, r->head, elems, n);
	r->head += n;
	/* R1: pairs with A2. */
	vshm_store_release(&r->sh->prod, r->head);
	return (int)n;
}

/* Pop up to n elements into elems, publishing once. Count (0 if empty) or -EPROTO. */
static inline int vtr_ring_pop_burst(struct vtr_ring *r, void *elems, uint32_t n)
{
	int av = _vtr_ring_ready(r);

	if (av <= 0)
		return av;
	if ((uint32_t)av < n)
		n = (uint32_t)av;
	_vtr_ring_from_slots(r, r->head, elems, n);
	r->head += n;
	/* R2: pairs with A1. */
	vshm_store_release(&r->sh->cons, r->head);
	return (int)n;
}

/*
 * Consumer, reading in place instead of copying out: vtr_ring_peek says how many elements
 * are ready (count, 0, or -EPROTO; like pop, it looks at the producer's index only when
 * what it saw last is used up), vtr_ring_at(r, i) is the i-th of them (valid until
 * consumed), and vtr_ring_consume(r, n) hands n of them back to the producer with one index
 * store; n is at most what the last peek returned.
 */
static inline int vtr_ring_peek(struct vtr_ring *r)
{
	return _vtr_ring_ready(r);
}

static inline const void *vtr_ring_at(const struct vtr_ring *r, uint32_t i)
{
	return _vtr_ring_slot(r, r->head + i);
}

static inline void vtr_ring_consume(struct vtr_ring *r, uint32_t n)
{
	r->head += n;
	/* R2: pairs with A1; the slots were read before the producer may reuse them. */
	vshm_store_release(&r->sh->cons, r->head);
}

/*
 * Consumer, while it waits on an empty ring: ask for the line of the next slot, so that it
 * travels towards this core together with the index instead of as a second miss after it.
 */
static inline void vtr_ring_prefetch_next(const struct vtr_ring *r)
{
	__builtin_prefetch(_vtr_ring_slot(r, r->head), 0, 3);
}

/*
 * Producer, building a batch in place: the slot k positions past the next free one, or NULL
 * if the ring has no room for k + 1 more. Staged slots are invisible to the consumer until
 * vtr_ring_publish(r, n) publishes the first n of them at once (R1 there).
 */
static inline void *vtr_ring_stage(struct vtr_ring *r, uint32_t k)
{
	if (_vtr_ring_free(r, k + 1) < (int)(k + 1))
		return NULL;
	return _vtr_ring_slot(r, r->head + k);
}

static inline void vtr_ring_publish(struct vtr_ring *r, uint32_t n)
{
	r->head += n;
	/* R1: pairs with A2; the staged slots are visible before the new index. */
	vshm_store_release(&r->sh->prod, r->head);
}

/* Polls a consumer makes without pause before it starts pausing between polls. */
#define VTR_RING_TIGHT_POLLS 128u

/*
 * Busy-wait pop for up to max_polls polls: 1 popped, 0 budget spent, -EPROTO.
 * The first polls are tight (a round trip is shorter than a few pauses) and prefetch the
 * next slot; after VTR_RING_TIGHT_POLLS each poll also pauses. The sleep step of the wait
 * ladder is the queue pair's business, not the ring's.
 */
static inline int vtr_ring_pop_spin(struct vtr_ring *r, void *elem, uint64_t max_polls)
{
	for (uint64_t i = 0; i < max_polls; i++) {
		int n = vtr_ring_pop(r, elem);

		if (n)
			return n;
		vtr_ring_prefetch_next(r);
		if (i >= VTR_RING_TIGHT_POLLS)
			vshm_cpu_relax();
	}
	return 0;
}

/* Elements in the ring as this side can tell (may be stale by the other side's progress). */
static inline uint32_t vtr_ring_count(struct vtr_ring *r)
{
	if (r->role == VTR_RING_PRODUCER)
		return r->head - vshm_load_acquire(&r->sh->cons);
	return vshm_load_acquire(&r->sh->prod) - r->head;
}

#ifdef __cplusplus
}
#endif

#endif /* VTR_RING_H */
