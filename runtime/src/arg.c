// SPDX-License-Identifier: Apache-2.0
// struct vaccel_arg: one typed argument buffer, owned or borrowed.
#include "rt.h"
#include <stdlib.h>
#include <string.h>

static const char *const rt_arg_type_names[VACCEL_ARG_MAX] = {
	[VACCEL_ARG_RAW] = "VACCEL_ARG_RAW",
	[VACCEL_ARG_INT8] = "VACCEL_ARG_INT8",
	[VACCEL_ARG_INT8_ARRAY] = "VACCEL_ARG_INT8_ARRAY",
	[VACCEL_ARG_INT16] = "VACCEL_ARG_INT16",
	[VACCEL_ARG_INT16_ARRAY] = "VACCEL_ARG_INT16_ARRAY",
	[VACCEL_ARG_INT32] = "VACCEL_ARG_INT32",
	[VACCEL_ARG_INT32_ARRAY] = "VACCEL_ARG_INT32_ARRAY",
	[VACCEL_ARG_INT64] = "VACCEL_ARG_INT64",
	[VACCEL_ARG_INT64_ARRAY] = "VACCEL_ARG_INT64_ARRAY",
	[VACCEL_ARG_UINT8] = "VACCEL_ARG_UINT8",
	[VACCEL_ARG_UINT8_ARRAY] = "VACCEL_ARG_UINT8_ARRAY",
	[VACCEL_ARG_UINT16] = "VACCEL_ARG_UINT16",
	[VACCEL_ARG_UINT16_ARRAY] = "VACCEL_ARG_UINT16_ARRAY",
	[VACCEL_ARG_UINT32] = "VACCEL_ARG_UINT32",
	[VACCEL_ARG_UINT32_ARRAY] = "VACCEL_ARG_UINT32_ARRAY",
	[VACCEL_ARG_UINT64] = "VACCEL_ARG_UINT64",
	[VACCEL_ARG_UINT64_ARRAY] = "VACCEL_ARG_UINT64_ARRAY",
	[VACCEL_ARG_FLOAT32] = "VACCEL_ARG_FLOAT32",
	[VACCEL_ARG_FLOAT32_ARRAY] = "VACCEL_ARG_FLOAT32_ARRAY",
	[VACCEL_ARG_FLOAT64] = "VACCEL_ARG_FLOAT64",
	[VACCEL_ARG_FLOAT64_ARRAY] = "VACCEL_ARG_FLOAT64_ARRAY",
	[VACCEL_ARG_BOOL] = "VACCEL_ARG_BOOL",
	[VACCEL_ARG_BOOL_ARRAY] = "VACCEL_ARG_BOOL_ARRAY",
	[VACCEL_ARG_CHAR] = "VACCEL_ARG_CHAR",
	[VACCEL_ARG_CHAR_ARRAY] = "VACCEL_ARG_CHAR_ARRAY",
	[VACCEL_ARG_UCHAR] = "VACCEL_ARG_UCHAR",
	[VACCEL_ARG_UCHAR_ARRAY] = "VACCEL_ARG_UCHAR_ARRAY",
	[VACCEL_ARG_STRING] = "VACCEL_ARG_STRING",
	[VACCEL_ARG_BUFFER] = "VACCEL_ARG_BUFFER",
	[VACCEL_ARG_CUSTOM] = "VACCEL_ARG_CUSTOM",
};

const char *vaccel_arg_type_to_str(vaccel_arg_type_t type)
{
	if ((unsigned)type >= VACCEL_ARG_MAX)
		return "VACCEL_ARG_MAX";
	return rt_arg_type_names[type];
}

int vaccel_arg_init(struct vaccel_arg *arg, const void *buf, size_t size,
		    vaccel_arg_type_t type, uint32_t custom_id)
{
	if (!arg || (size && !buf) || (unsigned)type >= VACCEL_ARG_MAX)
		return VACCEL_EINVAL;
	void *copy = NULL;
	if (size) {
		copy = malloc(size);
		if (!copy)
			return VACCEL_ENOMEM;
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
	if (!arg || (size && !buf) || (unsigned)type >= VACCEL_ARG_MAX)
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
	if (!arg)
		return VACCEL_EINVAL;
	vaccel_arg_release(arg);
	free(arg);
	return VACCEL_OK;
}

void *vaccel_extract_serial_arg(struct vaccel_arg *args, int idx)
{
	if (!args || idx < 0)
		return NULL;
	return args[idx].buf;
}

int vaccel_write_serial_arg(struct vaccel_arg *args, int idx, void *buf)
{
	if (!args || idx < 0 || !buf || !args[idx].buf)
		return VACCEL_EINVAL;
	memcpy(args[idx].buf, buf, args[idx].size);
	return VACCEL_OK;
}
