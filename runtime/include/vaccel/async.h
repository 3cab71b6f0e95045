// SPDX-License-Identifier: Apache-2.0
// Asynchronous submission (ours, beyond upstream vAccel), io_uring style: a thread submits
// requests without waiting, each tagged with its own user_data, and reaps their completions
// later, so one thread can keep many requests in flight.
//
// Rules:
// - Submission and reaping are per thread: a thread reaps the completions of the requests
//   it submitted (on any session of the same plugin).
// - Completions may come in any order; match them by user_data. (Through the shm transport
//   they arrive in submission order per thread today; do not rely on it.)
// - Inputs are taken at submit time (copied, or by offset when they live in the transport's
//   buffer pool: then they must not change until the completion). Output buffers must stay
//   valid, and unread, until the completion is reaped: outputs are in place by then.
// - A thread may have as many requests in flight as its plugin allows (the shm transport:
//   its completion ring, 256 by default). Beyond that a submit returns VACCEL_EAGAIN, or
//   with VACCEL_ASYNC_WAIT waits until a request completes (its completion is kept for the
//   next reap).
// - VACCEL_ASYNC_MORE queues a request without publishing it yet; the next submit without
//   the flag, or vaccel_async_flush(), publishes the whole batch at once.
// - Plugins without asynchronous support run the request at submit time and keep its
//   completion for the next reap.
// The synchronous calls are unaffected and can be mixed with asynchronous ones.
#pragma once

#include "arg.h"
#include "error.h"
#include "session.h"
#include <errno.h>
#include <stdint.h>

#ifndef VACCEL_ETIMEDOUT
#define VACCEL_ETIMEDOUT ETIMEDOUT
#endif

#ifdef __cplusplus
extern "C" {
#endif

struct vaccel_completion {
	uint64_t user_data;
	/* the return value the synchronous call would have had (VACCEL_OK or VACCEL_E*) */
	int ret;
};

#define VACCEL_ASYNC_WAIT 0x1u /* wait for room instead of VACCEL_EAGAIN */
#define VACCEL_ASYNC_MORE 0x2u /* more follows: publish with the next submit or flush */

/* Submit vaccel_genop's request (read[0] is the op type). VACCEL_OK, VACCEL_EAGAIN,
 * VACCEL_EINVAL, VACCEL_EBUSY (no queue of its own for this thread), ... */
int vaccel_genop_async(struct vaccel_session *sess, struct vaccel_arg *read, int nr_read,
		       struct vaccel_arg *write, int nr_write, uint64_t user_data,
		       unsigned int flags);
int vaccel_noop_async(struct vaccel_session *sess, uint64_t user_data, unsigned int flags);
/* Publishes requests queued with VACCEL_ASYNC_MORE. */
int vaccel_async_flush(struct vaccel_session *sess);
/* Reaps between min_nr and max_nr completions of this thread's requests, waiting up to
 * timeout_ms (-1: no limit) for the first min_nr. *nr is how many were reaped.
 * VACCEL_OK, VACCEL_ETIMEDOUT (fewer than min_nr arrived; *nr says how many),
 * VACCEL_ESESS (the transport was lost), VACCEL_EINVAL. */
int vaccel_async_reap(struct vaccel_session *sess, struct vaccel_completion *out,
		      unsigned int min_nr, unsigned int max_nr, int timeout_ms,
		      unsigned int *nr);
/* Requests this thread has submitted and not yet reaped, on sess's plugin. */
unsigned int vaccel_async_inflight(struct vaccel_session *sess);

/* Plugin side: a plugin with native asynchronous support exports this symbol. */
struct vaccel_plugin_async_ops {
	int (*genop)(struct vaccel_session *sess, struct vaccel_arg *read, int nr_read,
		     struct vaccel_arg *write, int nr_write, uint64_t user_data,
		     unsigned int flags);
	int (*flush)(struct vaccel_session *sess);
	int (*reap)(struct vaccel_session *sess, struct vaccel_completion *out,
		    unsigned int min_nr, unsigned int max_nr, int timeout_ms,
		    unsigned int *nr);
	unsigned int (*inflight)(struct vaccel_session *sess);
};
#define VACCEL_PLUGIN_ASYNC_SYMBOL "vaccel_plugin_async_ops"

/* Optional, beside the ops: a plugin may export a function of this type under this name,
 * doing what genop does for VACCEL_OP_NOOP without further arguments; vaccel_noop_async
 * then calls it directly (flags already checked), skipping the generic argument handling. */
typedef int (*vaccel_plugin_async_noop_fn)(struct vaccel_session *sess, uint64_t user_data,
					   unsigned int flags);
#define VACCEL_PLUGIN_ASYNC_NOOP_SYMBOL "vaccel_plugin_async_noop"

#ifdef __cplusplus
}
#endif
