/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host side: turning an untrusted request into a private, validated one.
 *
 * The SQE itself was copied out of the ring by vtr_qp_host_take. This copies its argument
 * table out of the pool exactly once, into the request, and checks every field against the
 * host's own private layout: known opcode, argument count within limits, table and every
 * argument inside one pool area (computed without overflow), argument flags known, inputs
 * before outputs. Nothing read from shared memory is used as a pointer or read twice.
 * Payload bytes may still change under the host afterwards; that only spoils the guest's
 * own result.
 */
#ifndef VTR_VALIDATE_H
#define VTR_VALIDATE_H

#include <stdint.h>

#include "shm/pool.h"
#include "transport/qp.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vtr_req {
	struct vtr_sqe sqe;  /* private copy */
	uint32_t nr_in;      /* args[0 .. nr_in) are inputs, the rest outputs */
	uint32_t nr_args;
	struct vtr_arg args[VTR_MAX_ARGS];
};

/* Why a request was refused; each maps to the -errno its completion carries. */
enum vtr_bad {
	VTR_REQ_OK = 0,
	VTR_BAD_OPCODE,    /* -ENOSYS */
	VTR_BAD_NR_ARGS,   /* -E2BIG */
	VTR_BAD_TABLE,     /* -EFAULT: argument table outside the pool or misaligned */
	VTR_BAD_ARG_RANGE, /* -EFAULT: an argument outside the pool */
	VTR_BAD_ARG_FLAGS, /* -EINVAL: unknown flags, or an input after an output */
	VTR_BAD_MAX,
};

/* Validates sqe (already private) and fills req. Returns VTR_REQ_OK or the reason. */
enum vtr_bad vtr_req_validate(const struct vtr_sqe *sqe, const void *region_base,
			      const struct vshm_pool_ranges *pool, struct vtr_req *req);
/* The -errno a refused request completes with, and the reason in words. */
int vtr_bad_errno(enum vtr_bad b);
const char *vtr_bad_str(enum vtr_bad b);

#ifdef __cplusplus
}
#endif

#endif /* VTR_VALIDATE_H */
