/* SPDX-License-Identifier: Apache-2.0 */
#include "transport/validate.h"

#include <errno.h>
#include <string.h>

static const struct {
	int err;
	const char *str;
} bad_info[VTR_BAD_MAX] = {
	[VTR_REQ_OK] = {0, "ok"},
	[VTR_BAD_OPCODE] = {-ENOSYS, "unknown opcode"},
	[VTR_BAD_NR_ARGS] = {-E2BIG, "too many arguments"},
	[VTR_BAD_TABLE] = {-EFAULT, "argument table outside the buffer pool"},
	[VTR_BAD_ARG_RANGE] = {-EFAULT, "argument outside the buffer pool"},
	[VTR_BAD_ARG_FLAGS] = {-EINVAL, "bad argument flags or order"},
};

int vtr_bad_errno(enum vtr_bad b)
{
	return (unsigned)b < VTR_BAD_MAX ? bad_info[b].err : -EINVAL;
}

const char *vtr_bad_str(enum vtr_bad b)
{
	return (unsigned)b < VTR_BAD_MAX ? bad_info[b].str : "unknown";
}

enum vtr_bad vtr_req_validate(const struct vtr_sqe *sqe, const void *region_base,
			      const struct vshm_pool_ranges *pool, struct vtr_req *req)
{
	uint32_t nr = sqe->nr_args;

	req->sqe = *sqe;
	req->nr_in = 0;
	req->nr_args = 0;
	if (sqe->opcode >= VTR_OP_MAX)
		return VTR_BAD_OPCODE;
	if (nr > VTR_MAX_ARGS)
		return VTR_BAD_NR_ARGS;
	if (nr == 0)
		return VTR_REQ_OK;
	/* nr <= 32, so the table length cannot overflow. */
	if (sqe->args_off % 8 || !vshm_pool_range_ok(pool, sqe->args_off, nr * sizeof(struct vtr_arg)))
		return VTR_BAD_TABLE;
	/* The one read of the table from shared memory; all checks below use the copy. */
	memcpy(req->args, (const char *)region_base + sqe->args_off, nr * sizeof(struct vtr_arg));

	int outputs = 0;
	for (uint32_t i = 0; i < nr; i++) {
		const struct vtr_arg *a = &req->args[i];

		if (!vshm_pool_range_ok(pool, a->off, a->len))
			return VTR_BAD_ARG_RANGE;
		if (a->flags == VTR_ARG_IN) {
			if (outputs)
				return VTR_BAD_ARG_FLAGS;
			req->nr_in++;
		} else if (a->flags == VTR_ARG_OUT) {
			outputs = 1;
		} else {
			return VTR_BAD_ARG_FLAGS;
		}
	}
	req->nr_args = nr;
	return VTR_REQ_OK;
}
