/* SPDX-License-Identifier: Apache-2.0 */
/* Tensor records: the host's copy and checks (tensor.h). */
#include "transport/tensor.h"

#include <errno.h>
#include <string.h>

int vtr_tensors_copy(const void *src, uint64_t len, struct vtr_tensor *out, uint32_t max,
		     uint32_t *nr)
{
	*nr = 0;
	if (len % sizeof(struct vtr_tensor))
		return -EINVAL;
	if (len / sizeof(struct vtr_tensor) > max)
		return -E2BIG;
	/* The one read of the records from shared memory; every check uses the copy. */
	memcpy(out, src, len);
	*nr = (uint32_t)(len / sizeof(struct vtr_tensor));
	return 0;
}

int vtr_tensor_check(const struct vtr_tensor *t, const uint8_t *elem_size, uint32_t nr_dtypes,
		     uint32_t min_dims)
{
	uint64_t n;

	if (t->dtype >= nr_dtypes || !elem_size[t->dtype])
		return -EINVAL;
	if (t->nr_dims < min_dims || t->nr_dims > VTR_TENSOR_MAX_DIMS)
		return -EINVAL;
	n = elem_size[t->dtype];
	for (uint32_t i = 0; i < t->nr_dims; i++) {
		if (t->dims[i] < 0)
			return -EINVAL;
		if (__builtin_mul_overflow(n, (uint64_t)t->dims[i], &n))
			return -EOVERFLOW;
	}
	return n == t->size ? 0 : -EMSGSIZE;
}

int vtr_tensor_place(uint64_t *cursor, uint64_t size, uint64_t cap, uint64_t *off)
{
	uint64_t start = *cursor;

	if (start > cap || cap - start < size)
		return -ENOSPC;
	*off = start;
	start += size;
	/* The next tensor starts on the next line, or at cap when no line is left (start <=
	 * cap here, so start + ALIGN - 1 cannot overflow once compared with cap). */
	if (cap - start < VTR_TENSOR_ALIGN - 1)
		*cursor = cap;
	else
		*cursor = (start + VTR_TENSOR_ALIGN - 1) & ~(uint64_t)(VTR_TENSOR_ALIGN - 1);
	return 0;
}

int vtr_nodes_copy(const void *src, uint64_t len, struct vtr_node *out, uint32_t max,
		   uint32_t *nr)
{
	*nr = 0;
	if (len % sizeof(struct vtr_node))
		return -EINVAL;
	if (len / sizeof(struct vtr_node) > max)
		return -E2BIG;
	memcpy(out, src, len); /* the one read; the checks below use the copy */
	for (uint64_t i = 0; i < len / sizeof(struct vtr_node); i++)
		if (!memchr(out[i].name, 0, sizeof(out[i].name)))
			return -EINVAL;
	*nr = (uint32_t)(len / sizeof(struct vtr_node));
	return 0;
}
