// SPDX-License-Identifier: Apache-2.0
// The older struct vaccel_arg_list API, which upstream keeps deprecated.
// Slots marked in idcs_allocated_space hold buffers this file allocated
// (serializer output, zeroed outputs); vaccel_delete_args frees those.
#include "rt.h"
#include <stdlib.h>
#include <string.h>

/* This file implements the deprecated API; its own uses are intended. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

struct vaccel_arg_list *vaccel_args_init(uint32_t size)
{
	if (!size)
		return NULL;
	struct vaccel_arg_list *l = malloc(sizeof(*l));
	if (!l)
		return NULL;
	l->list = calloc(size, sizeof(*l->list));
	l->idcs_allocated_space = calloc(size, sizeof(int));
	if (!l->list || !l->idcs_allocated_space) {
		free(l->list);
		free(l->idcs_allocated_space);
		free(l);
		return NULL;
	}
	l->size = size;
	l->curr_idx = 0;
	return l;
}

/* Fill the next slot; VACCEL_EINVAL when the list is full. */
static int _append(struct vaccel_arg_list *l, void *buf, uint32_t size,
		   vaccel_arg_type_t type, uint32_t custom_id, bool ours)
{
	if (l->curr_idx < 0 || (uint32_t)l->curr_idx >= l->size)
		return VACCEL_EINVAL;
	struct vaccel_arg *a = &l->list[l->curr_idx];
	a->buf = buf;
	a->size = size;
	a->type = type;
	a->custom_type_id = custom_id;
	a->owned = false;
	l->idcs_allocated_space[l->curr_idx] = ours;
	l->curr_idx++;
	return VACCEL_OK;
}

static bool _full(const struct vaccel_arg_list *l)
{
	return l->curr_idx < 0 || (uint32_t)l->curr_idx >= l->size;
}

int vaccel_add_serial_arg(struct vaccel_arg_list *args, void *buf,
			  uint32_t size)
{
	if (!args || !buf || !size)
		return VACCEL_EINVAL;
	return _append(args, buf, size, VACCEL_ARG_RAW, 0, false);
}

int vaccel_add_nonserial_arg(struct vaccel_arg_list *args, void *buf,
			     uint32_t type,
			     void *(*serializer)(void *, uint32_t *))
{
	if (!args || !buf || !serializer || _full(args))
		return VACCEL_EINVAL;
	uint32_t bytes = 0;
	void *ser = serializer(buf, &bytes);
	if (!ser || !bytes) {
		free(ser);
		return VACCEL_EINVAL;
	}
	return _append(args, ser, bytes, VACCEL_ARG_CUSTOM, type, true);
}

int vaccel_expect_serial_arg(struct vaccel_arg_list *args, void *buf,
			     uint32_t size)
{
	if (!args || !buf || !size)
		return VACCEL_EINVAL;
	return _append(args, buf, size, VACCEL_ARG_RAW, 0, false);
}

int vaccel_expect_nonserial_arg(struct vaccel_arg_list *args,
				uint32_t expected_size)
{
	if (!args || !expected_size || _full(args))
		return VACCEL_EINVAL;
	void *buf = calloc(1, expected_size);
	if (!buf)
		return VACCEL_ENOMEM;
	return _append(args, buf, expected_size, VACCEL_ARG_RAW, 0, true);
}

void *vaccel_extract_serial_arg(struct vaccel_arg *args, int idx)
{
	if (!args || idx < 0)
		return NULL;
	return args[idx].buf;
}

void *vaccel_extract_nonserial_arg(struct vaccel_arg *args, int idx,
				   void *(*deserializer)(void *, uint32_t))
{
	if (!args || idx < 0 || !deserializer || args[idx].size > UINT32_MAX)
		return NULL;
	return deserializer(args[idx].buf, (uint32_t)args[idx].size);
}

int vaccel_write_serial_arg(struct vaccel_arg *args, int idx, void *buf)
{
	if (!args || idx < 0 || !buf || !args[idx].buf)
		return VACCEL_EINVAL;
	memcpy(args[idx].buf, buf, args[idx].size);
	return VACCEL_OK;
}

int vaccel_write_nonserial_arg(struct vaccel_arg *args, int idx, void *buf,
			       void *(*serializer)(void *, uint32_t *))
{
	if (!args || idx < 0 || !buf || !serializer)
		return VACCEL_EINVAL;
	uint32_t bytes = 0;
	void *ser = serializer(buf, &bytes);
	int ret = VACCEL_OK;
	/* Only the serialized bytes, and only if the output can hold them
	 * (upstream copies without looking at the output's size). */
	if (!ser || !bytes || !args[idx].buf || bytes > args[idx].size)
		ret = VACCEL_EINVAL;
	else
		memcpy(args[idx].buf, ser, bytes);
	free(ser);
	return ret;
}

int vaccel_delete_args(struct vaccel_arg_list *args)
{
	if (!args)
		return VACCEL_EINVAL;
	if (!args->list || !args->size || !args->idcs_allocated_space)
		return VACCEL_EINVAL;
	for (uint32_t i = 0; i < args->size; i++)
		if (args->idcs_allocated_space[i])
			free(args->list[i].buf);
	free(args->list);
	free(args->idcs_allocated_space);
	free(args);
	return VACCEL_OK;
}
