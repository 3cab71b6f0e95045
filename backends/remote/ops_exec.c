/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec and exec_with_resource across the transport, in genop's layout: the library path (or
 * the host's handle of a registered resource) and the symbol, then the caller's arguments.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <vaccel.h>

#include "backends/remote/ops.h"

/* Forwards a genop-shaped call: in[] and out[] are the op's arguments after the op type. */
int shm_forward(struct vaccel_session *sess, vaccel_op_type_t op, struct vtr_io *in,
		    uint32_t nr_in, struct vaccel_arg *read, size_t nr_read, struct vaccel_arg *write,
		    size_t nr_write)
{
	struct vtr_io out[VTR_MAX_ARGS];

	if (shm_gone(sess))
		return VACCEL_ESESS;
	if (nr_in + nr_read + nr_write > VTR_MAX_ARGS) {
		vaccel_error("[shm] too many arguments (%zu) for one request",
			     (size_t)nr_in + nr_read + nr_write);
		return VACCEL_EINVAL;
	}
	for (size_t i = 0; i < nr_read; i++)
		in[nr_in++] = (struct vtr_io){read[i].buf, read[i].size, read[i].type};
	for (size_t i = 0; i < nr_write; i++)
		out[i] = (struct vtr_io){write[i].buf, write[i].size, write[i].type};
	return shm_vret(shm_call(VTR_OP_VACCEL, shm_rsess(sess), op, in, nr_in, out, (uint32_t)nr_write));
}

int shm_exec(struct vaccel_session *sess, const char *library, const char *fn_symbol,
		    struct vaccel_arg *read, size_t nr_read, struct vaccel_arg *write, size_t nr_write)
{
	struct vtr_io in[VTR_MAX_ARGS] = {
		{(void *)library, strlen(library) + 1, VACCEL_ARG_STRING},
		{(void *)fn_symbol, strlen(fn_symbol) + 1, VACCEL_ARG_STRING},
	};
	return shm_forward(sess, VACCEL_OP_EXEC, in, 2, read, nr_read, write, nr_write);
}

int shm_exec_with_resource(struct vaccel_session *sess, struct vaccel_resource *res,
			   const char *fn_symbol, struct vaccel_arg *read, size_t nr_read,
			   struct vaccel_arg *write, size_t nr_write)
{
	uint64_t handle = (uint64_t)res->remote_id;
	struct vtr_io in[VTR_MAX_ARGS] = {
		{&handle, sizeof(handle), VACCEL_ARG_UINT64},
		{(void *)fn_symbol, strlen(fn_symbol) + 1, VACCEL_ARG_STRING},
	};
	if (!res->remote_id) {
		vaccel_error("[shm] resource %lld is not registered with the host", (long long)res->id);
		return VACCEL_EINVAL;
	}
	return shm_forward(sess, VACCEL_OP_EXEC_WITH_RESOURCE, in, 2, read, nr_read, write, nr_write);
}
