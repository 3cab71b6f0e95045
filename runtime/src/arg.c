// SPDX-License-Identifier: Apache-2.0
// struct vaccel_arg: one typed argument buffer, owned or borrowed.
#include "rt.h"
#include <stdlib.h>
#include <string.h>

int vaccel_arg_init(struct vaccel_arg *arg, const void *buf, size_t size,
		    vaccel_arg_type_t type, uint32_t custom_id)
{
	/* a NULL buf asks for size zeroed bytes; a buf needs a size */
	if (!arg || (buf && !size) || (unsigned)type >= VACCEL_ARG_MAX)
		return VACCEL_EINVAL;
	void *copy = NULL;
	if (size) {
		copy = buf ? malloc(size) : calloc(1, size);
		if (!copy)
			return VACCEL_ENOMEM;
		if (buf)
			memcpy(copy, buf, size);
	}
	arg->buf = copy;
	arg->size = size;
	arg->type = type;
	arg->custom_type_id = custom_id;
	arg->owned = true;
	return VACCEL_OK;
}

int vaccel_arg_init_from_buf(struct vaccel_arg *arg, void *buf, size_t size,
			     vaccel_arg_type_t type, uint32_t custom_id)
{
	if (!arg || (!buf != !size) || (unsigned)type >= VACCEL_ARG_MAX)
		return VACCEL_EINVAL;
	arg->buf = buf;
	arg->size = size;
	arg->type = type;
	arg->custom_type_id = custom_id;
	arg->owned = false;
	return VACCEL_OK;
}

int vaccel_arg_release(struct vaccel_arg *arg)
{
	if (!arg)
		return VACCEL_EINVAL;
	if (arg->owned)
		free(arg->buf);
	arg->buf = NULL;
	arg->size = 0;
	arg->type = VACCEL_ARG_MAX;
	arg->custom_type_id = 0;
	arg->owned = false;
	return VACCEL_OK;
}

int vaccel_arg_new(struct vaccel_arg **arg, const void *buf, size_t size,
		   vaccel_arg_type_t type, uint32_t custom_id)
{
	if (!arg)
		return VACCEL_EINVAL;
	struct vaccel_arg *a = malloc(sizeof(*a));
	if (!a)
		return VACCEL_ENOMEM;
	int ret = vaccel_arg_init(a, buf, size, type, custom_id);
	if (ret) {
		free(a);
		return ret;
	}
	*arg = a;
	return VACCEL_OK;
}

int vaccel_arg_from_buf(struct vaccel_arg **arg, void *buf, size_t size,
			vaccel_arg_type_t type, uint32_t custom_id)
{
	if (!arg)
		return VACCEL_EINVAL;
	struct vaccel_arg *a = malloc(sizeof(*a));
	if (!a)
		return VACCEL_ENOMEM;
	int ret = vaccel_arg_init_from_buf(a, buf, size, type, custom_id);
	if (ret) {
		free(a);
		return ret;
	}
	*arg = a;
	return VACCEL_OK;
}

int vaccel_arg_delete(struct vaccel_arg *arg)
{
	int ret = vaccel_arg_release(arg);
	if (ret)
		return ret;
	free(arg);
	return VACCEL_OK;
}
