/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin's ops, one file per op family: how each op's arguments cross the transport.
 *   ops_exec.c   exec, exec_with_resource (genop layout: strings, a resource handle, args)
 *   ops_blas.c   sgemm (scalars and matrices; matrices already in the pool travel by offset)
 *   ops_async.c  asynchronous genop, flush, reap
 * Sessions, resources, noop and the ops table are shm_plugin.c. Functions return vAccel's
 * codes (VACCEL_OK or a positive VACCEL_E*).
 */
#ifndef SHM_OPS_H
#define SHM_OPS_H

#include <stdint.h>

#include <vaccel.h>

#include "backends/shm/conn.h"

#pragma GCC visibility push(hidden)

/* The host's id of a session, and the connection number it was made on. */
static inline uint32_t shm_rsess(const struct vaccel_session *sess)
{
	return (uint32_t)sess->remote_id;
}

static inline uint64_t shm_sess_gen(const struct vaccel_session *sess)
{
	return (uint64_t)(uintptr_t)sess->priv;
}

/* A session lives on the connection it was made on; after the agent hung up (or a
 * reconnect) the host no longer has it. */
static inline int shm_gone(const struct vaccel_session *sess)
{
	return !shm_conn_alive(shm_sess_gen(sess));
}

/* Forwards a genop-shaped call: in[] (nr_in filled, room for VTR_MAX_ARGS) are the op's
 * own first arguments, read[] and write[] the caller's. */
int shm_forward(struct vaccel_session *sess, vaccel_op_type_t op, struct vtr_io *in, uint32_t nr_in,
		struct vaccel_arg *read, size_t nr_read, struct vaccel_arg *write, size_t nr_write);

int shm_exec(struct vaccel_session *sess, const char *library, const char *fn_symbol,
	     struct vaccel_arg *read, size_t nr_read, struct vaccel_arg *write, size_t nr_write);
int shm_exec_with_resource(struct vaccel_session *sess, struct vaccel_resource *res,
			   const char *fn_symbol, struct vaccel_arg *read, size_t nr_read,
			   struct vaccel_arg *write, size_t nr_write);
int shm_sgemm(struct vaccel_session *sess, long long int m, long long int n, long long int k,
	      float alpha, float *a, long long int lda, float *b, long long int ldb, float beta,
	      float *c, long long int ldc);

#pragma GCC visibility pop

#endif
