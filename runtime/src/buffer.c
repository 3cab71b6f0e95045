// SPDX-License-Identifier: Apache-2.0
// vaccel_buffer_alloc/free: the session plugin's buffer hooks when it has
// them (the shm transport: pool memory), else memory the runtime tracks, so
// that misuse is refused the same way with every plugin.
#include "rt.h"
#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <search.h>
#include <stdint.h>
#include <stdlib.h>

/* A cache line; a page for buffers of a page or more, like pool buffers. A
 * tensor's alignment matters to its consumers: libtorch's CNN of perf/infer
 * ran 25% slower on a 64-byte-aligned 588 KiB input than on a page-aligned
 * one. */
#define RT_BUF_ALIGN 64
#define RT_BUF_PAGE 4096

/* Local buffers: a tree of their addresses (tsearch), under the lock. */
static pthread_mutex_t rt_buf_lock = PTHREAD_MUTEX_INITIALIZER;
static void *rt_buf_root;

static int _cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
	return x < y ? -1 : x > y;
}

/* The plugin's hooks, or NULL when it has none. dlsym on each call: the
 * lookup is cheap next to an allocation, and nothing goes stale when
 * vaccel_cleanup() unloads the plugin (its dl_handle becomes NULL). */
static const struct vaccel_plugin_buffer_ops *
_hooks(const struct vaccel_plugin *p)
{
	const struct vaccel_plugin_buffer_ops *ops;

	/* dlsym(NULL, ...) would search the whole program. */
	if (!p->dl_handle)
		return NULL;
	ops = dlsym(p->dl_handle, "vaccel_plugin_buffer_ops");
	if (ops && (!ops->alloc || !ops->free))
		return NULL;
	return ops;
}

/* 0 or -ENOMEM. */
static int _local_alloc(size_t size, void **ptr)
{
	void *p = NULL;
	size_t align = size >= RT_BUF_PAGE ? RT_BUF_PAGE : RT_BUF_ALIGN;
	size_t rounded = (size + align - 1) & ~(align - 1);

	if (rounded < size || posix_memalign(&p, align, rounded))
		return -ENOMEM;
	pthread_mutex_lock(&rt_buf_lock);
	void **node = tsearch(p, &rt_buf_root, _cmp_ptr);
	pthread_mutex_unlock(&rt_buf_lock);
	if (!node) {
		free(p);
		return -ENOMEM;
	}
	*ptr = p;
	return 0;
}

/* 0 or -EINVAL (not a live local buffer). Lookup and removal are one step
 * under the lock, so of two racing frees exactly one succeeds. */
static int _local_free(void *ptr)
{
	pthread_mutex_lock(&rt_buf_lock);
	int found = tfind(ptr, &rt_buf_root, _cmp_ptr) != NULL;
	if (found)
		tdelete(ptr, &rt_buf_root, _cmp_ptr);
	pthread_mutex_unlock(&rt_buf_lock);
	if (!found)
		return -EINVAL;
	free(ptr);
	return 0;
}

int vaccel_buffer_alloc(struct vaccel_session *sess, size_t size, void **ptr)
{
	if (!sess || !ptr || !size) {
		vaccel_error("vaccel_buffer_alloc: %s",
			     !sess ? "no session" :
			     !ptr  ? "no place for the pointer (ptr is NULL)" :
				     "size 0");
		return VACCEL_EINVAL;
	}
	if (!sess->plugin) {
		vaccel_error("vaccel_buffer_alloc: session is not initialized");
		return VACCEL_EINVAL;
	}
	const struct vaccel_plugin_buffer_ops *ops = _hooks(sess->plugin);
	if (ops)
		return ops->alloc(sess, size, ptr);
	int ret = _local_alloc(size, ptr);
	if (ret)
		vaccel_error("session:%" PRId64 " cannot allocate a %zu-byte "
			     "buffer: out of memory",
			     sess->id, size);
	return -ret;
}

int vaccel_buffer_free(struct vaccel_session *sess, void *ptr)
{
	if (!sess || !sess->plugin) {
		vaccel_error("vaccel_buffer_free: %s",
			     sess ? "session is not initialized" : "no session");
		return VACCEL_EINVAL;
	}
	if (!ptr) {
		vaccel_error("vaccel_buffer_free: NULL is not a buffer");
		return VACCEL_EINVAL;
	}
	const struct vaccel_plugin_buffer_ops *ops = _hooks(sess->plugin);
	if (ops)
		return ops->free(sess, ptr);
	if (_local_free(ptr)) {
		vaccel_error("session:%" PRId64 " vaccel_buffer_free(%p): not a "
			     "live buffer of vaccel_buffer_alloc (freed "
			     "already, memory from elsewhere, or the middle of "
			     "a buffer)",
			     sess->id, ptr);
		return VACCEL_EINVAL;
	}
	return VACCEL_OK;
}
