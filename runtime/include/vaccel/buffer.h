// SPDX-License-Identifier: Apache-2.0
// Buffers for zero-copy calls (ours; upstream vAccel has no such API).
//
// vaccel_buffer_alloc() hands out memory that the session's plugin can pass
// to the other side without copying. With the shm transport it is a buffer
// of the shared pool: a call whose arguments all lie in such buffers sends
// only their offsets, and the host reads inputs and writes outputs in place
// (outputs are not copied back: they are already there). Any argument may
// still live in ordinary memory; it is then copied once, as before.
// With a local plugin (no transport) the memory is ordinary memory that the
// runtime tracks, so the same program works unchanged on both.
//
// Lifetime: a buffer lives until vaccel_buffer_free(), for any session of
// the same plugin. With the transport, it is only valid for the connection
// it came from: after vaccel_cleanup() (or a reconnection) it is unmapped,
// must not be touched, and freeing it answers VACCEL_EINVAL.
//
// Sharing: the host can read and write a pool buffer at any time while a
// call names it, and the memory is not zeroed. Do not change a buffer while
// a call that uses it is in flight, and keep secrets out of it. Buffers the
// application holds are not available to the transport for copying other
// arguments; the transport keeps a few of the smallest buffers for itself
// so that calls never wait forever on the application's allocations.
//
// Thread safety: both functions may be called from any thread, on shared
// sessions. A buffer must be freed once, by one thread.
#pragma once

#include <stddef.h>

#include "vaccel/session.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Allocates size bytes (64-byte aligned; page-aligned from 4 KiB up, like
 * the transport's pool) usable for zero-copy arguments of sess's plugin;
 * *ptr is set on success only. Returns VACCEL_OK,
 * VACCEL_EINVAL (NULL argument, size 0, session not initialized),
 * VACCEL_ENOMEM (no free buffer that fits, or size exceeds the largest pool
 * class: the log says which and how to enlarge the pool), VACCEL_ESESS (the
 * transport lost or closed its connection to the host; a new session
 * reconnects, and buffers of the old connection are then foreign). */
int vaccel_buffer_alloc(struct vaccel_session *sess, size_t size, void **ptr);

/* Frees a buffer from vaccel_buffer_alloc(). Returns VACCEL_OK, or
 * VACCEL_EINVAL with a log line when ptr is not such a buffer: NULL, freed
 * already, memory from elsewhere (malloc), a pointer into the middle of a
 * buffer, or a buffer of an earlier connection. Misuse changes nothing. */
int vaccel_buffer_free(struct vaccel_session *sess, void *ptr);

/* Plugin side (optional): a plugin whose memory is not the application's
 * exports `const struct vaccel_plugin_buffer_ops vaccel_plugin_buffer_ops`
 * (visibility default); the runtime finds it with dlsym on the plugin's
 * handle. Both hooks return VACCEL_OK or a positive VACCEL_E* code, and must
 * refuse pointers they did not hand out with VACCEL_EINVAL. */
struct vaccel_plugin_buffer_ops {
	int (*alloc)(struct vaccel_session *sess, size_t size, void **ptr);
	int (*free)(struct vaccel_session *sess, void *ptr);
};

#ifdef __cplusplus
}
#endif
