/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The buffer pool: fixed size classes carved from the shared region.
 *
 * Each class is one VSHM_AREA_POOL area of the layout table:
 *   index  = class number, 0 .. VSHM_POOL_MAX_CLASSES-1, contiguous from 0
 *   param0 = buffer size in bytes (a multiple of 64; from 4096 up, a multiple of 4096)
 *   param1 = buffer count; the area holds at least param0 * param1 bytes
 * Class sizes strictly increase with the class number.
 *
 * Who owns what:
 *   host (creator): writes the classes into the layout (vshm_pool_layout_add) and later
 *                   only reads and writes inside ranges a validated request names; it checks
 *                   those ranges with vshm_pool_range_ok against its private layout.
 *   guest:          owns allocation. The allocator state (free lists, allocated bits) lives
 *                   in guest-private memory, so a host or another guest can never corrupt it.
 * Both sides learn the classes from their validated private layout, never from the region.
 *
 * Functions return 0 or -errno as documented on each.
 */
#ifndef VSHM_POOL_H
#define VSHM_POOL_H

#include <stdint.h>

#include "shm/region.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VSHM_POOL_MAX_CLASSES 16u

/*
 * The agent's default classes: 2 + 8 + 32 + 64 + 128 = 234 MiB, so that with the header and
 * a few queue pairs the region still fits the 256 MiB power of two an ivshmem BAR needs.
 */
#define VSHM_POOL_DEFAULT_SPEC "4k:512,64k:128,1m:32,16m:4,64m:2"

/* vshm_pool_alloc flags */
#define VSHM_POOL_WAIT (1 << 0) /* block until a buffer is freed instead of -ENOMEM */

struct vshm_pool;

/* One allocated buffer. Only ptr is local to this process; off is what crosses the region. */
struct vshm_buf {
	void *ptr;    /* mapped address in this process */
	uint64_t off; /* offset from the region base */
	uint64_t cap; /* class size: usable bytes */
	uint32_t cls; /* class number */
	uint32_t idx; /* buffer number inside the class */
};

/*
 * Parses a class spec such as "4k:1024,64k:256,1m:32" (size with optional k/m/g suffix,
 * ':', count; sizes strictly increasing) and adds one POOL area per class. Either every class
 * is added or none. Returns 0, -EINVAL (bad spec; err says which token and why) or -ENOSPC
 * (the layout table has no room for all classes).
 */
int vshm_pool_layout_add(struct vshm_layout *l, const char *spec, struct vshm_err *err);

/*
 * Guest: builds an allocator over r's pool classes (from r's private layout). r must outlive
 * the pool. Returns 0, -EINVAL (no pool classes, or a class that is malformed or does not
 * fit its area) or -ENOMEM.
 */
int vshm_pool_open(struct vshm_region *r, struct vshm_pool **out);
/* Frees the allocator (not the region). Outstanding buffers become invalid. NULL is fine. */
void vshm_pool_close(struct vshm_pool *p);

/*
 * Takes a buffer of the smallest class that holds size bytes; when that class is exhausted,
 * a larger one. Never truncates. Returns 0, -E2BIG (size exceeds the largest class),
 * -ENOMEM (every class that fits is exhausted and VSHM_POOL_WAIT is not set; with it, the
 * call sleeps until a buffer is freed) or -EINVAL (unknown flags).
 */
int vshm_pool_alloc(struct vshm_pool *p, uint64_t size, int flags, struct vshm_buf *out);
/*
 * As vshm_pool_alloc with VSHM_POOL_WAIT, but gives up after timeout_ms milliseconds
 * (< 0: never). Returns 0, -E2BIG, -EINVAL or -ETIMEDOUT.
 */
int vshm_pool_alloc_timeout(struct vshm_pool *p, uint64_t size, int timeout_ms,
			    struct vshm_buf *out);

/*
 * Returns a buffer. Returns 0, -EINVAL (ptr is not the start of a buffer of this pool:
 * foreign memory, the middle of a buffer, another region's pool) or -EALREADY (the buffer is
 * not allocated: a double free). Misuse never changes the pool's state.
 */
int vshm_pool_free(struct vshm_pool *p, void *ptr);
/* Threads asleep in a waiting allocation right now (lets a test free only once one sleeps). */
uint32_t vshm_pool_waiters(struct vshm_pool *p);

/*
 * Zero copy: if [ptr, ptr + len) lies inside one buffer that is currently allocated, sets
 * *off to ptr's offset from the region base. len 0 needs ptr inside such a buffer. Lock-free.
 * Returns 0 or -ENOENT.
 */
int vshm_pool_find(const struct vshm_pool *p, const void *ptr, uint64_t len, uint64_t *off);

/* Number of classes, and the size, count and free buffers of one. Returns 0 or -EINVAL. */
uint32_t vshm_pool_nr_classes(const struct vshm_pool *p);
int vshm_pool_class_info(struct vshm_pool *p, uint32_t cls, uint64_t *size, uint32_t *count,
			 uint32_t *nr_free);

/* What a pool error code means, in words. */
const char *vshm_pool_strerror(int err);

/*
 * Host side: the pool areas of a private layout, for validating offsets named by requests
 * on the hot path (no allocation, no locks).
 */
struct vshm_pool_ranges {
	uint32_t n;
	struct {
		uint64_t off, end; /* [off, end) of one pool area; end cannot overflow */
	} r[VSHM_POOL_MAX_CLASSES];
};

/* Collects l's pool areas. Returns 0 (n may be 0: nothing validates) or -EINVAL (too many). */
int vshm_pool_ranges_init(struct vshm_pool_ranges *pr, const struct vshm_layout *l);

/*
 * 1 if [off, off + len) lies inside one pool area, else 0. Computed without overflow: off is
 * checked first, then len against the room left after off. len 0 needs off inside an area.
 */
static inline int vshm_pool_range_ok(const struct vshm_pool_ranges *pr, uint64_t off,
				     uint64_t len)
{
	for (uint32_t i = 0; i < pr->n && i < VSHM_POOL_MAX_CLASSES; i++)
		if (off >= pr->r[i].off && off < pr->r[i].end && len <= pr->r[i].end - off)
			return 1;
	return 0;
}

#ifdef __cplusplus
}
#endif

#endif /* VSHM_POOL_H */
