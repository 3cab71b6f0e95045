/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The buffer pool: class specs, the guest's allocator and the host's range table.
 *
 * Allocator: one mutex and one condition variable per pool. Each class keeps a stack of
 * free buffer numbers (O(1) push/pop, and LIFO reuse keeps recently used buffers warm in
 * cache) and one state byte per buffer. The state bytes are written under the mutex with
 * release stores and read lock-free by vshm_pool_find with acquire loads; everything else
 * is touched only under the mutex. The class table itself is immutable after open, so
 * vshm_pool_free can reject foreign pointers before taking the lock.
 */
#include "shm/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shm/barrier.h"

#define _LAYOUT_AREA_MAX (1ull << 46) /* vshm_layout_add's limit on one area */

enum { _FREE = 0, _USED = 1 };

struct _class {
	uintptr_t start;  /* mapped address of buffer 0 */
	uintptr_t end;    /* start + size * count */
	uint64_t off;     /* region offset of buffer 0 */
	uint64_t size;
	uint32_t count;
	uint32_t nr_free; /* under lock */
	uint32_t *stack;  /* free buffer numbers, top at nr_free - 1; under lock */
	uint8_t *state;   /* _FREE/_USED per buffer; written under lock, read lock-free */
};

struct vshm_pool {
	pthread_mutex_t lock;
	pthread_cond_t freed; /* broadcast by free when someone waits */
	uint32_t waiters;     /* under lock: lets free skip the wake-up syscall */
	uint32_t nr_cls;
	struct _class cls[VSHM_POOL_MAX_CLASSES];
	void *mem;            /* one allocation for every stack and state array */
};

static void _err(struct vshm_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void _err(struct vshm_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

struct _spec_class {
	uint64_t size;
	uint64_t count;
};

/* Reads a decimal number at *s into *v; returns 0, -EINVAL (no digits) or -ERANGE. */
static int _parse_u64(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t n = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (n > (UINT64_MAX - d) / 10)
			return -ERANGE;
		n = n * 10 + d;
	}
	*s = p;
	*v = n;
	return 0;
}

/* Parses one "SIZE[k|m|g]:COUNT" token of len bytes (already trimmed). */
static int _parse_class(const char *tok, size_t len, unsigned nr, struct _spec_class *c,
			struct vshm_err *err)
{
	char buf[64];
	const char *p = buf;
	unsigned shift = 0;
	int ret;

	if (len == 0) {
		_err(err, "pool class %u is empty (stray comma?)", nr);
		return -EINVAL;
	}
	if (len >= sizeof(buf)) {
		_err(err, "pool class %u \"%.20s...\" is too long", nr, tok);
		return -EINVAL;
	}
	memcpy(buf, tok, len);
	buf[len] = '\0';

	ret = _parse_u64(&p, &c->size);
	if (ret) {
		_err(err, "pool class %u \"%s\": %s", nr, buf,
		     ret == -ERANGE ? "size is too large" : "size must start with a number");
		return -EINVAL;
	}
	switch (*p) {
	case 'k': case 'K': shift = 10; p++; break;
	case 'm': case 'M': shift = 20; p++; break;
	case 'g': case 'G': shift = 30; p++; break;
	case ':': break;
	default:
		if (*p)
			_err(err, "pool class %u \"%s\": unknown size suffix '%c' (use k, m or g)",
			     nr, buf, *p);
		else
			_err(err, "pool class %u \"%s\": expected ':' and a buffer count after the size",
			     nr, buf);
		return -EINVAL;
	}
	if (*p != ':') {
		_err(err, "pool class %u \"%s\": expected ':' between size and count", nr, buf);
		return -EINVAL;
	}
	p++;
	if (c->size > (UINT64_MAX >> shift)) {
		_err(err, "pool class %u \"%s\": size is too large", nr, buf);
		return -EINVAL;
	}
	c->size <<= shift;
	ret = _parse_u64(&p, &c->count);
	if (ret || *p) {
		_err(err, "pool class %u \"%s\": %s", nr, buf,
		     ret == -ERANGE ? "count is too large" : "count must be a whole number");
		return -EINVAL;
	}

	if (c->size == 0 || c->count == 0) {
		_err(err, "pool class %u \"%s\": %s must be greater than 0", nr, buf,
		     c->size == 0 ? "size" : "count");
		return -EINVAL;
	}
	if (c->size % VSHM_CACHELINE) {
		_err(err, "pool class %u \"%s\": size %llu is not a multiple of 64 bytes", nr, buf,
		     (unsigned long long)c->size);
		return -EINVAL;
	}
	/* Page-sized and larger buffers stay page aligned (areas of 4096+ bytes start on a page). */
	if (c->size >= 4096 && c->size % 4096) {
		_err(err, "pool class %u \"%s\": size %llu is 4096 or more but not a multiple of 4096",
		     nr, buf, (unsigned long long)c->size);
		return -EINVAL;
	}
	if (c->size > UINT32_MAX) {
		_err(err, "pool class %u \"%s\": size %llu does not fit the 32-bit class size (max %u)",
		     nr, buf, (unsigned long long)c->size, UINT32_MAX - 4095);
		return -EINVAL;
	}
	if (c->count > UINT32_MAX) {
		_err(err, "pool class %u \"%s\": count is too large (max %u)", nr, buf, UINT32_MAX);
		return -EINVAL;
	}
	if (c->count > _LAYOUT_AREA_MAX / c->size) {
		_err(err, "pool class %u \"%s\": %llu x %llu bytes is larger than an area may be",
		     nr, buf, (unsigned long long)c->count, (unsigned long long)c->size);
		return -EINVAL;
	}
	return 0;
}

int vshm_pool_layout_add(struct vshm_layout *l, const char *spec, struct vshm_err *err)
{
	struct _spec_class cls[VSHM_POOL_MAX_CLASSES];
	unsigned n = 0;
	const char *s = spec;

	if (!spec || !*spec) {
		_err(err, "pool spec is empty (expected e.g. \"%s\")", VSHM_POOL_DEFAULT_SPEC);
		return -EINVAL;
	}
	/* Parse and check everything first so a bad spec leaves the layout untouched. */
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		const char *tok = s;
		int ret;

		while (len && (*tok == ' ' || *tok == '\t')) {
			tok++;
			len--;
		}
		while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
			len--;
		if (n == VSHM_POOL_MAX_CLASSES) {
			_err(err, "pool spec has more than %u classes", VSHM_POOL_MAX_CLASSES);
			return -EINVAL;
		}
		ret = _parse_class(tok, len, n, &cls[n], err);
		if (ret)
			return ret;
		if (n && cls[n].size <= cls[n - 1].size) {
			_err(err,
			     "pool class %u: size %llu is not larger than class %u's %llu (sizes must "
			     "strictly increase)",
			     n, (unsigned long long)cls[n].size, n - 1,
			     (unsigned long long)cls[n - 1].size);
			return -EINVAL;
		}
		n++;
		if (!comma)
			break;
		s = comma + 1;
	}

	for (uint32_t i = 0; i < l->nr_areas; i++) {
		if (l->areas[i].kind == VSHM_AREA_POOL) {
			_err(err, "layout already has pool classes");
			return -EINVAL;
		}
	}
	if (l->nr_areas > VSHM_MAX_AREAS || VSHM_MAX_AREAS - l->nr_areas < n) {
		_err(err, "layout table is too full for %u pool classes (%u of %u entries used)", n,
		     l->nr_areas, VSHM_MAX_AREAS);
		return -ENOSPC;
	}
	for (unsigned i = 0; i < n; i++) {
		int ret = vshm_layout_add(l, VSHM_AREA_POOL, i, cls[i].size * cls[i].count,
					  (uint32_t)cls[i].size, (uint32_t)cls[i].count);

		/* Checked above; a failure here is a bug in those checks, not in the spec. */
		if (ret) {
			_err(err, "adding pool class %u to the layout failed (%d)", i, ret);
			return ret;
		}
	}
	return 0;
}

int vshm_pool_open(struct vshm_region *r, struct vshm_pool **out)
{
	const struct vshm_layout *l = vshm_region_layout(r);
	const struct vshm_area *areas[VSHM_POOL_MAX_CLASSES] = { 0 };
	struct vshm_pool *p;
	uint64_t total = 0;
	uint32_t n = 0;
	char *mem;
	int ret;

	*out = NULL;
	for (uint32_t i = 0; i < l->nr_areas && i < VSHM_MAX_AREAS; i++) {
		const struct vshm_area *a = &l->areas[i];

		if (a->kind != VSHM_AREA_POOL)
			continue;
		if (a->index >= VSHM_POOL_MAX_CLASSES || areas[a->index])
			return -EINVAL;
		areas[a->index] = a;
		n++;
	}
	if (n == 0)
		return -EINVAL;
	for (uint32_t c = 0; c < n; c++) {
		const struct vshm_area *a = areas[c];

		/* Classes are numbered 0..n-1 and grow, so "first that fits" is the smallest. */
		if (!a || a->param0 == 0 || a->param0 % VSHM_CACHELINE || a->param1 == 0 ||
		    (a->param0 >= 4096 && a->param0 % 4096))
			return -EINVAL;
		if (c && a->param0 <= areas[c - 1]->param0)
			return -EINVAL;
		if (a->param1 > a->size / a->param0)
			return -EINVAL;
		total += a->param1;
	}

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->mem = mem = malloc(total * (sizeof(uint32_t) + 1));
	if (!mem) {
		ret = -ENOMEM;
		goto err;
	}
	for (uint32_t c = 0; c < n; c++) {
		const struct vshm_area *a = areas[c];
		struct _class *k = &p->cls[c];

		k->start = (uintptr_t)vshm_region_base(r) + a->offset;
		k->size = a->param0;
		k->count = a->param1;
		k->end = k->start + k->size * k->count;
		k->off = a->offset;
		k->stack = (uint32_t *)mem;
		mem += (size_t)k->count * sizeof(uint32_t);
		/* Buffer 0 on top: first allocations come out in address order. */
		for (uint32_t i = 0; i < k->count; i++)
			k->stack[i] = k->count - 1 - i;
		k->nr_free = k->count;
	}
	for (uint32_t c = 0; c < n; c++) {
		p->cls[c].state = (uint8_t *)mem;
		memset(mem, _FREE, p->cls[c].count);
		mem += p->cls[c].count;
	}
	p->nr_cls = n;

	{
		pthread_condattr_t ca;

		/* Timeouts are measured on the monotonic clock so a clock change can't stretch them. */
		if (pthread_condattr_init(&ca)) {
			ret = -ENOMEM;
			goto err;
		}
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		ret = -pthread_cond_init(&p->freed, &ca);
		pthread_condattr_destroy(&ca);
		if (ret)
			goto err;
	}
	ret = -pthread_mutex_init(&p->lock, NULL);
	if (ret) {
		pthread_cond_destroy(&p->freed);
		goto err;
	}
	*out = p;
	return 0;
err:
	free(p->mem);
	free(p);
	return ret;
}

void vshm_pool_close(struct vshm_pool *p)
{
	if (!p)
		return;
	pthread_cond_destroy(&p->freed);
	pthread_mutex_destroy(&p->lock);
	free(p->mem);
	free(p);
}

/* Under lock: pops a free buffer of class c or a larger one; 0 or -ENOMEM. */
static int _take(struct vshm_pool *p, uint32_t c, struct vshm_buf *out)
{
	/* The best class may be exhausted while a larger one is not: waste beats waiting. */
	for (; c < p->nr_cls; c++) {
		struct _class *k = &p->cls[c];
		uint32_t i;

		if (!k->nr_free)
			continue;
		i = k->stack[--k->nr_free];
		/* Release pairs with the acquire in vshm_pool_find. */
		vshm_store_release(&k->state[i], (uint8_t)_USED);
		out->ptr = (void *)(k->start + (uintptr_t)i * k->size);
		out->off = k->off + (uint64_t)i * k->size;
		out->cap = k->size;
		out->cls = c;
		out->idx = i;
		return 0;
	}
	return -ENOMEM;
}

/* deadline NULL: wait forever (when waiting at all). */
static int _alloc(struct vshm_pool *p, uint64_t size, int wait, const struct timespec *deadline,
		  struct vshm_buf *out)
{
	uint32_t c = 0;
	int ret;

	while (c < p->nr_cls && p->cls[c].size < size)
		c++;
	if (c == p->nr_cls)
		return -E2BIG;

	pthread_mutex_lock(&p->lock);
	while ((ret = _take(p, c, out)) == -ENOMEM && wait) {
		int w;

		p->waiters++;
		if (deadline)
			w = pthread_cond_timedwait(&p->freed, &p->lock, deadline);
		else
			w = pthread_cond_wait(&p->freed, &p->lock);
		p->waiters--;
		if (w == ETIMEDOUT) {
			/* A buffer freed just at the deadline still counts. */
			ret = _take(p, c, out);
			if (ret)
				ret = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int vshm_pool_alloc(struct vshm_pool *p, uint64_t size, int flags, struct vshm_buf *out)
{
	if (flags & ~VSHM_POOL_WAIT)
		return -EINVAL;
	return _alloc(p, size, flags & VSHM_POOL_WAIT, NULL, out);
}

int vshm_pool_alloc_timeout(struct vshm_pool *p, uint64_t size, int timeout_ms,
			    struct vshm_buf *out)
{
	struct timespec dl;

	if (timeout_ms < 0)
		return _alloc(p, size, 1, NULL, out);
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	return _alloc(p, size, 1, &dl, out);
}

/* The class holding address a, or NULL. Lock-free: the class table never changes. */
static const struct _class *_class_of(const struct vshm_pool *p, uintptr_t a)
{
	for (uint32_t c = 0; c < p->nr_cls; c++)
		if (a >= p->cls[c].start && a < p->cls[c].end)
			return &p->cls[c];
	return NULL;
}

int vshm_pool_free(struct vshm_pool *p, void *ptr)
{
	uintptr_t a = (uintptr_t)ptr;
	const struct _class *kc = _class_of(p, a);
	struct _class *k;
	uint32_t i;

	if (!kc || (a - kc->start) % kc->size)
		return -EINVAL;
	k = (struct _class *)kc;
	i = (uint32_t)((a - k->start) / k->size);

	pthread_mutex_lock(&p->lock);
	if (vshm_load_relaxed(&k->state[i]) != _USED) {
		pthread_mutex_unlock(&p->lock);
		return -EALREADY;
	}
	vshm_store_release(&k->state[i], (uint8_t)_FREE);
	k->stack[k->nr_free++] = i;
	/* Waiters may want any class that fits them: wake them all; only they pay a syscall. */
	if (p->waiters)
		pthread_cond_broadcast(&p->freed);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

uint32_t vshm_pool_waiters(struct vshm_pool *p)
{
	pthread_mutex_lock(&p->lock);
	uint32_t n = p->waiters;
	pthread_mutex_unlock(&p->lock);
	return n;
}

int vshm_pool_find(const struct vshm_pool *p, const void *ptr, uint64_t len, uint64_t *off)
{
	uintptr_t a = (uintptr_t)ptr;
	const struct _class *k = _class_of(p, a);
	uint64_t rel, i, in;

	if (!k)
		return -ENOENT;
	rel = a - k->start;
	i = rel / k->size;
	in = rel - i * k->size;
	/* len against the room left in the buffer: no ptr + len that could wrap. */
	if (len > k->size - in)
		return -ENOENT;
	/* Acquire pairs with the release in _take: the caller's own allocation is visible. */
	if (vshm_load_acquire(&k->state[i]) != _USED)
		return -ENOENT;
	*off = k->off + rel;
	return 0;
}

uint32_t vshm_pool_nr_classes(const struct vshm_pool *p)
{
	return p->nr_cls;
}

int vshm_pool_class_info(struct vshm_pool *p, uint32_t cls, uint64_t *size, uint32_t *count,
			 uint32_t *nr_free)
{
	if (cls >= p->nr_cls)
		return -EINVAL;
	if (size)
		*size = p->cls[cls].size;
	if (count)
		*count = p->cls[cls].count;
	if (nr_free) {
		pthread_mutex_lock(&p->lock);
		*nr_free = p->cls[cls].nr_free;
		pthread_mutex_unlock(&p->lock);
	}
	return 0;
}

const char *vshm_pool_strerror(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case -E2BIG:
		return "larger than the largest pool buffer";
	case -ENOMEM:
		return "no free pool buffer large enough";
	case -ETIMEDOUT:
		return "timed out waiting for a free pool buffer";
	case -EINVAL:
		return "not the start of a buffer of this pool (or a bad argument)";
	case -EALREADY:
		return "pool buffer is not allocated (double free)";
	case -ENOENT:
		return "range is not inside one allocated pool buffer";
	case -ENOSPC:
		return "layout table has no room for the pool classes";
	default:
		return "unknown pool error";
	}
}

int vshm_pool_ranges_init(struct vshm_pool_ranges *pr, const struct vshm_layout *l)
{
	memset(pr, 0, sizeof(*pr));
	for (uint32_t i = 0; i < l->nr_areas && i < VSHM_MAX_AREAS; i++) {
		const struct vshm_area *a = &l->areas[i];

		if (a->kind != VSHM_AREA_POOL)
			continue;
		if (pr->n == VSHM_POOL_MAX_CLASSES || a->size > UINT64_MAX - a->offset) {
			memset(pr, 0, sizeof(*pr));
			return -EINVAL;
		}
		pr->r[pr->n].off = a->offset;
		pr->r[pr->n].end = a->offset + a->size;
		pr->n++;
	}
	return 0;
}
