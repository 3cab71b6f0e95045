/* SPDX-License-Identifier: Apache-2.0 */
/* The guest's submit/complete client: slots, argument tables, call, submit, reap (client.h). */
#include "transport/client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "transport/wait.h"

int vtr_client_init(struct vtr_client *c, struct vshm_pool *pool, void *base,
		    vtr_client_check_fn check)
{
	uint32_t n = c->qp.cq_entries;

	c->pool = pool;
	c->base = base;
	c->check = check;
	/* One allocation for both slot arrays, so that freeing reqs frees rargs too. */
	c->reqs = calloc(n, sizeof(*c->reqs) + sizeof(*c->rargs));
	c->rargs = c->reqs ? (struct vtr_client_args *)(c->reqs + n) : NULL;
	c->free_slots = calloc(n, sizeof(*c->free_slots));
	c->done = calloc(n, sizeof(*c->done));
	c->done_cap = n; /* ring sizes are powers of two */
	if (!c->reqs || !c->free_slots || !c->done)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		c->free_slots[i] = n - 1 - i;
	c->nr_free = n;
	return 0;
}

void vtr_client_free(struct vtr_client *c)
{
	free(c->reqs);
	free(c->free_slots);
	free(c->done);
	c->reqs = NULL;
	c->rargs = NULL;
	c->free_slots = NULL;
	c->done = NULL;
}

/* Bytes of pool memory a call needs in its table buffer (table + small arguments). */
static uint64_t _table_bytes(const struct vtr_io *in, uint32_t nr_in, const struct vtr_io *out,
			     uint32_t nr_out, uint64_t *off_small)
{
	uint64_t b = (uint64_t)(nr_in + nr_out) * sizeof(struct vtr_arg);

	*off_small = (b + 63) & ~63ull;
	b = *off_small;
	for (uint32_t i = 0; i < nr_in; i++)
		if (in[i].len <= VTR_CLIENT_SMALL_ARG)
			b += (in[i].len + 7) & ~7ull;
	for (uint32_t i = 0; i < nr_out; i++)
		if (out[i].len <= VTR_CLIENT_SMALL_ARG)
			b += (out[i].len + 7) & ~7ull;
	return b;
}

/* Gives back the pool buffers of a finished (or failed) request's arguments. */
static void _release(struct vtr_client *c, struct vtr_client_args *a)
{
	if (a->table.ptr) {
		const struct vtr_arg *args = a->table.ptr;
		for (uint32_t i = 0; i < a->nr_in + a->nr_out; i++)
			if (a->owned & (1u << i))
				vshm_pool_free(c->pool, (char *)c->base + args[i].off);
		vshm_pool_free(c->pool, a->table.ptr);
	}
	a->table.ptr = NULL;
	a->owned = 0;
}

/*
 * Puts a request's arguments in the pool and fills its SQE: inputs copied in (or passed by
 * offset when they already live in a pool buffer), outputs copied in too (in/out) unless in
 * the pool. 0 or -errno (nothing left allocated on error).
 */
static int _marshal(struct vtr_client *c, struct vtr_client_args *r, struct vtr_sqe *sqe,
		    const struct vtr_io *in, uint32_t nr_in, const struct vtr_io *out, uint32_t nr_out)
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
	ret = vshm_pool_alloc(c->pool, _table_bytes(in, nr_in, out, nr_out, &small_off),
			      VSHM_POOL_WAIT, &r->table);
	if (ret)
		return ret;
	args = r->table.ptr;
	for (uint32_t i = 0; i < nr; i++) {
		const struct vtr_io *io = i < nr_in ? &in[i] : &out[i - nr_in];
		struct vshm_buf b;
		uint64_t off;

		args[i] = (struct vtr_arg){.len = io->len, .type = io->type,
					   .flags = i < nr_in ? VTR_ARG_IN : VTR_ARG_OUT};
		if (i >= nr_in)
			r->out_dst[i - nr_in] = io->buf;
		if (io->len && vshm_pool_find(c->pool, io->buf, io->len, &off) == 0) {
			args[i].off = off; /* already in the pool: only the offset travels */
			continue;
		}
		if (io->len <= VTR_CLIENT_SMALL_ARG) {
			args[i].off = r->table.off + small_off;
			if (io->len)
				memcpy((char *)r->table.ptr + small_off, io->buf, io->len);
			small_off += (io->len + 7) & ~7ull;
			continue;
		}
		ret = vshm_pool_alloc(c->pool, io->len, VSHM_POOL_WAIT, &b);
		if (ret) {
			r->nr_in = i; /* release what was taken so far */
			r->nr_out = 0;
			_release(c, r);
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
static void _finish(struct vtr_client *c, struct vtr_client_args *r, int32_t res)
{
	const struct vtr_arg *args = r->table.ptr;

	for (uint32_t i = 0; res >= 0 && args && i < r->nr_out; i++) {
		const struct vtr_arg *a = &args[r->nr_in + i];
		void *src = (char *)c->base + a->off;
		if (src != r->out_dst[i] && a->len)
			memcpy(r->out_dst[i], src, a->len);
	}
	_release(c, r);
}

static void _slot_put(struct vtr_client *c, uint32_t slot)
{
	c->free_slots[c->nr_free++] = slot;
}

/* Publishes the staged batch (one index store, one kick). */
static void _publish(struct vtr_client *c)
{
	vtr_qp_publish(&c->qp, c->nr_batch);
	c->nr_batch = 0;
}

__attribute__((noinline)) int vtr_client_flush(struct vtr_client *c)
{
	_publish(c);
	return 0;
}

/* The stash doubled, its entries moved to the front in order. 0 or -ENOMEM. */
static int _stash_grow(struct vtr_client *c)
{
	uint32_t n = c->done_tail - c->done_head;
	struct vtr_completion *d = malloc(sizeof(*d) * c->done_cap * 2);

	if (!d)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		d[i] = c->done[(c->done_head + i) & (c->done_cap - 1)];
	free(c->done);
	c->done = d;
	c->done_head = 0;
	c->done_tail = n;
	c->done_cap *= 2;
	return 0;
}

/*
 * Keeps a finished asynchronous request for the next reap. Out of memory, it is lost: the
 * reaper then never sees it, which the caller learns from vtr_client_pending not reaching 0.
 */
static void _stash(struct vtr_client *c, struct vtr_completion d)
{
	if (c->done_tail - c->done_head == c->done_cap && _stash_grow(c))
		return;
	c->done[c->done_tail++ & (c->done_cap - 1)] = d;
}

/*
 * Finishes the request of one completion and frees its slot. Returns 1 with *d set for an
 * asynchronous request, 0 otherwise. A synchronous request is only met here after its
 * caller gave up waiting: its output buffers may be gone, so nothing is copied out.
 */
static int _complete(struct vtr_client *c, uint64_t slot64, int32_t res, struct vtr_completion *d)
{
	uint32_t slot = (uint32_t)slot64;

	if (slot64 >= c->qp.cq_entries)
		return 0; /* not ours: the host is trusted, but never index out of bounds */
	struct vtr_client_req *r = &c->reqs[slot];
	if (r->kind & VTR_REQ_ARGS) {
		if (r->kind & VTR_REQ_ASYNC)
			_finish(c, &c->rargs[slot], res);
		else
			_release(c, &c->rargs[slot]);
	}
	_slot_put(c, slot);
	if (!(r->kind & VTR_REQ_ASYNC))
		return 0;
	c->async_inflight--;
	*d = (struct vtr_completion){.user_data = r->user_data, .res = res};
	return 1;
}

/* _complete, keeping an asynchronous request's completion in the stash. */
static void _complete_stash(struct vtr_client *c, const struct vtr_cqe *cqe)
{
	struct vtr_completion d;

	if (_complete(c, cqe->user_data, cqe->res, &d))
		_stash(c, d);
}

/* Waits for completions (min 1) and finishes them; 0 or what the liveness check says. */
static int _wait_some(struct vtr_client *c)
{
	struct vtr_cqe cqes[VTR_CLIENT_BATCH];
	int n = vtr_qp_wait(&c->qp, cqes, VTR_CLIENT_BATCH, VTR_CLIENT_WAIT_MS);

	for (int i = 0; i < n; i++)
		_complete_stash(c, &cqes[i]);
	return n < 0 ? c->check(n) : 0;
}

int vtr_client_call(struct vtr_client *c, uint16_t opcode, uint32_t sess_id, uint32_t op,
		    const struct vtr_io *in, uint32_t nr_in, const struct vtr_io *out,
		    uint32_t nr_out, int32_t *res)
{
	struct vtr_sqe sqe = {.opcode = opcode, .sess_id = sess_id, .op = op};
	struct vtr_cqe cqes[VTR_CLIENT_BATCH];
	int ret;

	/* Requests staged asynchronously go first, in order. */
	_publish(c);
	while (c->nr_free == 0)
		if ((ret = _wait_some(c)) && ret != -ETIMEDOUT)
			return ret;
	uint32_t slot = c->free_slots[--c->nr_free];
	struct vtr_client_req *r = &c->reqs[slot];
	r->kind = nr_in + nr_out ? VTR_REQ_ARGS : 0;
	ret = _marshal(c, &c->rargs[slot], &sqe, in, nr_in, out, nr_out);
	if (ret) {
		_slot_put(c, slot);
		return ret;
	}
	sqe.user_data = slot;
	c->room = 0; /* this request takes room the asynchronous path counted on */
	while (vtr_qp_submit(&c->qp, &sqe, 1) == 0)
		if ((ret = _wait_some(c)) && ret != -ETIMEDOUT)
			return ret;
	for (;;) {
		int n = vtr_qp_wait(&c->qp, cqes, VTR_CLIENT_BATCH, VTR_CLIENT_WAIT_MS);
		if (n < 0 && (ret = c->check(n)) == -ETIMEDOUT)
			continue;
		if (n < 0)
			return ret;
		int mine = -1;
		for (int i = 0; i < n; i++) {
			if (cqes[i].user_data == slot)
				mine = i;
			else
				_complete_stash(c, &cqes[i]);
		}
		if (mine >= 0) {
			*res = cqes[mine].res;
			if (r->kind & VTR_REQ_ARGS)
				_finish(c, &c->rargs[slot], *res);
			_slot_put(c, slot);
			return 0;
		}
	}
}

int vtr_client_room(struct vtr_client *c, unsigned flags)
{
	int ret;

	for (;;) {
		uint32_t room = vtr_qp_stage_room(&c->qp, c->nr_batch);
		c->room = room < c->nr_free ? room : c->nr_free;
		if (c->room)
			return 0;
		_publish(c);
		if (!(flags & VTR_SUBMIT_WAIT))
			return -EAGAIN;
		if ((ret = _wait_some(c)) && ret != -ETIMEDOUT)
			return ret;
	}
}

int vtr_client_submit(struct vtr_client *c, uint16_t opcode, uint32_t sess_id, uint32_t op,
		      const struct vtr_io *in, uint32_t nr_in, const struct vtr_io *out,
		      uint32_t nr_out, uint64_t user_data, unsigned flags)
{
	struct vtr_sqe *sqe;
	uint32_t slot;
	int ret = vtr_client_stage(c, flags, &slot, &sqe);

	if (ret)
		return ret;
	c->reqs[slot].user_data = user_data;
	c->reqs[slot].kind = VTR_REQ_ASYNC | (nr_in + nr_out ? VTR_REQ_ARGS : 0);
	vtr_client_sqe_fill(sqe, opcode, sess_id, op, slot);
	ret = _marshal(c, &c->rargs[slot], sqe, in, nr_in, out, nr_out);
	if (ret) {
		_slot_put(c, slot); /* the staged slot is simply not published */
		return ret;
	}
	return vtr_client_commit(c, flags);
}

/*
 * Moves up to room finished asynchronous requests to out: the stash first (it holds the
 * oldest), then straight from the completion ring, read in place and given back with one
 * index store. Every completion ready is taken; those beyond room go to the stash.
 */
static unsigned _drain(struct vtr_client *c, struct vtr_completion *out, unsigned room)
{
	unsigned got = 0;
	struct vtr_completion d;

	while (got < room && c->done_head != c->done_tail)
		out[got++] = c->done[c->done_head++ & (c->done_cap - 1)];
	int n = vtr_qp_cq_peek(&c->qp);
	if (n <= 0)
		return got; /* a corrupt index shows up in the wait that follows */
	/* Locals, so that the stores to out and the slot stack do not force reloads. */
	struct vtr_cq_view cq = vtr_qp_cq_view(&c->qp);
	const struct vtr_client_req *reqs = c->reqs;
	uint32_t *free_slots = c->free_slots, nr_free = c->nr_free, done = 0;
	for (int i = 0; i < n; i++) {
		const struct vtr_cqe *e = &cq.cqes[(cq.first + (uint32_t)i) & cq.mask];
		uint64_t slot = e->user_data;
		int32_t res = e->res;

		if (__builtin_expect(slot < c->qp.cq_entries && reqs[slot].kind == VTR_REQ_ASYNC, 1)) {
			/* An asynchronous request without arguments: nothing to finish. */
			d = (struct vtr_completion){.user_data = reqs[slot].user_data, .res = res};
			free_slots[nr_free++] = (uint32_t)slot;
			done++;
		} else {
			c->nr_free = nr_free;
			int mine = _complete(c, slot, res, &d);
			nr_free = c->nr_free;
			if (!mine)
				continue;
		}
		if (got < room)
			out[got++] = d;
		else
			_stash(c, d);
	}
	c->nr_free = nr_free;
	c->async_inflight -= done;
	vtr_qp_cq_advance(&c->qp, (uint32_t)n);
	return got;
}

static int64_t _ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

int vtr_client_reap(struct vtr_client *c, struct vtr_completion *out, unsigned min_nr,
		    unsigned max_nr, int timeout_ms, unsigned *nr)
{
	struct timespec t0;
	int timed = 0, ret = 0; /* the clock is read only once a wait is needed */

	*nr = 0;
	for (;;) {
		*nr += _drain(c, out + *nr, max_nr - *nr);
		if (*nr >= min_nr || *nr == max_nr)
			break;
		_publish(c); /* a reaper waits for what it has staged */
		if (c->async_inflight == 0 && c->done_head == c->done_tail) {
			ret = -ETIMEDOUT; /* nothing more can come */
			break;
		}
		int left = -1;
		if (timeout_ms >= 0 && !timed) {
			clock_gettime(CLOCK_MONOTONIC, &t0);
			timed = 1;
		}
		if (timeout_ms >= 0) {
			int64_t ms = _ms_since(&t0);
			if (ms >= timeout_ms) {
				ret = -ETIMEDOUT;
				break;
			}
			left = timeout_ms - (int)ms;
		}
		/* Completions stay in the ring for _drain to take in place. */
		int ready = vtr_qp_wait_ready(&c->qp, left < 0 || left > VTR_CLIENT_WAIT_MS
							       ? VTR_CLIENT_WAIT_MS
							       : left);
		ret = ready > 0 ? 0 : c->check(ready);
		if (ret && ret != -ETIMEDOUT) {
			/* The host is gone, but what it completed before leaving is still ours. */
			*nr += _drain(c, out + *nr, max_nr - *nr);
			if (*nr >= min_nr)
				ret = 0;
			break;
		}
		ret = 0;
	}
	return ret;
}
