// SPDX-License-Identifier: Apache-2.0
// Asynchronous submission: dispatch to a plugin's native support (the symbol
// vaccel_plugin_async_ops, and vaccel_plugin_async_noop for vaccel_noop_async when the
// plugin has it), or run the request now and keep its completion for the next reap
// (plugins without it).
#include "rt.h"
#include "vaccel/async.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>

#define RT_ASYNC_FALLBACK_CAP 4096u

/* Completions of requests run at submit time, per thread. */
struct rt_fallback_cq {
	uint32_t head, tail;
	struct vaccel_completion c[RT_ASYNC_FALLBACK_CAP];
};

/* Every thread-local of this file uses one TLS model: with ld 2.40, a shared libvaccel whose
 * local thread-locals mixed initial-exec and dynamic access got IE relocations against the
 * wrong symbols. */
static __thread struct rt_fallback_cq *t_fb __attribute__((tls_model("initial-exec")));
static pthread_key_t rt_fb_key;
static pthread_once_t rt_fb_once = PTHREAD_ONCE_INIT;

static void _fb_key_init(void)
{
	pthread_key_create(&rt_fb_key, free);
}

/* What a plugin offers for asynchronous calls: its ops, and its noop entry (optional). */
struct rt_async {
	const struct vaccel_plugin_async_ops *ops;
	vaccel_plugin_async_noop_fn noop;
};

/* Plugins never move or unload their code (RTLD_NODELETE): a lookup can be cached. */
static struct {
	const struct vaccel_plugin *p;
	struct rt_async a;
} rt_async_cache[64];
static unsigned rt_async_cached;
static pthread_mutex_t rt_async_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The last plugin this thread asked about and what it offers, so that a thread submitting
 * to one plugin finds them with a few loads (initial-exec: no __tls_get_addr call).
 */
static __thread const struct vaccel_plugin *t_async_plugin __attribute__((tls_model("initial-exec")));
static __thread struct rt_async t_async __attribute__((tls_model("initial-exec")));

/* The slow way to t_async: the shared cache, or dlsym. p is not NULL. */
__attribute__((noinline)) static const struct rt_async *_async_lookup(const struct vaccel_plugin *p)
{
	unsigned n = __atomic_load_n(&rt_async_cached, __ATOMIC_ACQUIRE);
	struct rt_async a = {0};
	unsigned i;

	for (i = 0; i < n && rt_async_cache[i].p != p; i++)
		;
	if (i < n) {
		a = rt_async_cache[i].a;
	} else {
		if (p->dl_handle) {
			a.ops = dlsym(p->dl_handle, VACCEL_PLUGIN_ASYNC_SYMBOL);
			/* A function pointer through dlsym's void *, as POSIX allows. */
			*(void **)&a.noop = dlsym(p->dl_handle, VACCEL_PLUGIN_ASYNC_NOOP_SYMBOL);
		}
		pthread_mutex_lock(&rt_async_lock);
		n = rt_async_cached;
		if (n < sizeof(rt_async_cache) / sizeof(rt_async_cache[0])) {
			rt_async_cache[n].p = p;
			rt_async_cache[n].a = a;
			/* Release: a reader that sees the count sees the entry. */
			__atomic_store_n(&rt_async_cached, n + 1, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&rt_async_lock);
	}
	t_async = a;
	t_async_plugin = p;
	return &t_async;
}

/* What sess's plugin offers for asynchronous calls; NULL without a plugin. */
static inline const struct rt_async *_async(const struct vaccel_session *sess)
{
	const struct vaccel_plugin *p = sess->plugin;

	if (__builtin_expect(p && p == t_async_plugin, 1))
		return &t_async;
	return p ? _async_lookup(p) : NULL;
}

static inline const struct vaccel_plugin_async_ops *_ops(const struct vaccel_session *sess)
{
	const struct rt_async *a = _async(sess);

	return a ? a->ops : NULL;
}

static int _fallback_push(uint64_t user_data, int ret)
{
	if (!t_fb) {
		t_fb = calloc(1, sizeof(*t_fb));
		if (!t_fb)
			return VACCEL_ENOMEM;
		/* Freed when the thread exits. */
		pthread_once(&rt_fb_once, _fb_key_init);
		pthread_setspecific(rt_fb_key, t_fb);
	}
	if (t_fb->tail - t_fb->head == RT_ASYNC_FALLBACK_CAP)
		return VACCEL_EAGAIN;
	t_fb->c[t_fb->tail++ % RT_ASYNC_FALLBACK_CAP] = (struct vaccel_completion){user_data, ret};
	return VACCEL_OK;
}

/* Runs the request now and keeps its completion (plugins without asynchronous support). */
__attribute__((noinline)) static int _fallback(struct vaccel_session *sess, struct vaccel_arg *read,
					       int nr_read, struct vaccel_arg *write, int nr_write,
					       uint64_t user_data)
{
	if (t_fb && t_fb->tail - t_fb->head == RT_ASYNC_FALLBACK_CAP)
		return VACCEL_EAGAIN;
	return _fallback_push(user_data, vaccel_genop(sess, read, nr_read, write, nr_write));
}

static inline int _genop_async(struct vaccel_session *sess, struct vaccel_arg *read, int nr_read,
			       struct vaccel_arg *write, int nr_write, uint64_t user_data,
			       unsigned int flags)
{
	const struct vaccel_plugin_async_ops *ops;

	if (!sess || !read || nr_read < 1 || nr_write < 0 || (nr_write && !write) ||
	    (flags & ~(VACCEL_ASYNC_WAIT | VACCEL_ASYNC_MORE)))
		return VACCEL_EINVAL;
	if (!sess->plugin)
		return VACCEL_ENOTSUP;
	ops = _ops(sess);
	if (__builtin_expect(ops && ops->genop, 1))
		return ops->genop(sess, read, nr_read, write, nr_write, user_data, flags);
	return _fallback(sess, read, nr_read, write, nr_write, user_data);
}

int vaccel_genop_async(struct vaccel_session *sess, struct vaccel_arg *read, int nr_read,
		       struct vaccel_arg *write, int nr_write, uint64_t user_data,
		       unsigned int flags)
{
	return _genop_async(sess, read, nr_read, write, nr_write, user_data, flags);
}

/* vaccel_noop_async as a genop of VACCEL_OP_NOOP (and its argument errors). */
__attribute__((noinline)) static int _noop_as_genop(struct vaccel_session *sess, uint64_t user_data,
						    unsigned int flags)
{
	int32_t op = VACCEL_OP_NOOP;
	struct vaccel_arg read[1] = {{.buf = &op, .size = sizeof(op), .type = VACCEL_ARG_INT32}};

	return _genop_async(sess, read, 1, NULL, 0, user_data, flags);
}

int vaccel_noop_async(struct vaccel_session *sess, uint64_t user_data, unsigned int flags)
{
	const struct rt_async *a;

	/* The plugin's own noop entry when it has one: no arguments to build and check. */
	if (sess && !(flags & ~(VACCEL_ASYNC_WAIT | VACCEL_ASYNC_MORE)) && (a = _async(sess)) &&
	    a->noop)
		return a->noop(sess, user_data, flags);
	return _noop_as_genop(sess, user_data, flags);
}

int vaccel_async_flush(struct vaccel_session *sess)
{
	const struct vaccel_plugin_async_ops *ops;

	if (!sess)
		return VACCEL_EINVAL;
	ops = _ops(sess);
	return ops && ops->flush ? ops->flush(sess) : VACCEL_OK;
}

int vaccel_async_reap(struct vaccel_session *sess, struct vaccel_completion *out,
		      unsigned int min_nr, unsigned int max_nr, int timeout_ms,
		      unsigned int *nr)
{
	const struct vaccel_plugin_async_ops *ops;
	unsigned got = 0;

	if (!sess || !nr || (max_nr && !out) || min_nr > max_nr)
		return VACCEL_EINVAL;
	*nr = 0;
	ops = _ops(sess);
	if (ops && ops->reap)
		return ops->reap(sess, out, min_nr, max_nr, timeout_ms, nr);
	/* Everything ran at submit time: what is not here now will never come. */
	while (t_fb && got < max_nr && t_fb->head != t_fb->tail)
		out[got++] = t_fb->c[t_fb->head++ % RT_ASYNC_FALLBACK_CAP];
	*nr = got;
	return got >= min_nr ? VACCEL_OK : VACCEL_ETIMEDOUT;
}

unsigned int vaccel_async_inflight(struct vaccel_session *sess)
{
	const struct vaccel_plugin_async_ops *ops;

	if (!sess)
		return 0;
	ops = _ops(sess);
	if (ops && ops->inflight)
		return ops->inflight(sess);
	return t_fb ? t_fb->tail - t_fb->head : 0;
}
