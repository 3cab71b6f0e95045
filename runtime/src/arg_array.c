// SPDX-License-Identifier: Apache-2.0
// struct vaccel_arg_array: a growable list of args with a read/write cursor.
// add_* append (borrowing the caller's memory unless stated), get_* read the
// arg at the cursor and advance, set_* write into the arg at the cursor and
// advance. A type or size mismatch is VACCEL_EINVAL, a cursor past the end
// VACCEL_ERANGE, and adding to a full wrapped array VACCEL_ENOSPC.
#include "rt.h"
#include <stdlib.h>
#include <string.h>

static int _reserve(struct vaccel_arg_array *a, size_t more)
{
	if (a->count + more <= a->capacity)
		return 0;
	if (!a->args_owned)
		return -ENOSPC; /* wrapped storage belongs to the caller */
	size_t ncap = a->capacity ? a->capacity : 4;
	while (ncap < a->count + more)
		ncap *= 2;
	struct vaccel_arg *n = realloc(a->args, ncap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	a->args = n;
	a->capacity = ncap;
	return 0;
}

static int _push(struct vaccel_arg_array *a, void *buf, size_t size,
		 vaccel_arg_type_t type, uint32_t custom_id, bool owned)
{
	if (!a || (size && !buf))
		return VACCEL_EINVAL;
	int ret = _reserve(a, 1);
	if (ret)
		return -ret;
	struct vaccel_arg *arg = &a->args[a->count++];
	arg->buf = buf;
	arg->size = size;
	arg->type = type;
	arg->custom_type_id = custom_id;
	arg->owned = owned;
	return VACCEL_OK;
}

/* The arg at the cursor, checked against an expected type (VACCEL_ARG_MAX
 * accepts any type). */
static int _peek(struct vaccel_arg_array *a, vaccel_arg_type_t type,
		 struct vaccel_arg **out)
{
	if (!a)
		return VACCEL_EINVAL;
	if (a->position >= a->count)
		return VACCEL_ERANGE;
	struct vaccel_arg *arg = &a->args[a->position];
	if (type != VACCEL_ARG_MAX && arg->type != type) {
		vaccel_debug("arg %zu: expected %s, got %s", a->position,
			     vaccel_arg_type_to_str(type),
			     vaccel_arg_type_to_str(arg->type));
		return VACCEL_EINVAL;
	}
	*out = arg;
	return VACCEL_OK;
}

/* _peek, and for a CUSTOM arg also its custom type id. */
static int _peek_id(struct vaccel_arg_array *a, vaccel_arg_type_t type,
		    uint32_t custom_id, struct vaccel_arg **out)
{
	int ret = _peek(a, type, out);
	if (ret)
		return ret;
	if (type == VACCEL_ARG_CUSTOM && (*out)->custom_type_id != custom_id)
		return VACCEL_EINVAL;
	return VACCEL_OK;
}

/* The arg at the cursor as bytes (checked against type), cursor advanced. */
static int _get_bytes(struct vaccel_arg_array *a, vaccel_arg_type_t type,
		      void **buf, size_t *size)
{
	struct vaccel_arg *arg;
	if (!buf || !size)
		return VACCEL_EINVAL;
	int ret = _peek(a, type, &arg);
	if (ret)
		return ret;
	*buf = arg->buf;
	*size = arg->size;
	a->position++;
	return VACCEL_OK;
}

int vaccel_arg_array_init(struct vaccel_arg_array *array,
			  size_t initial_capacity)
{
	if (!array)
		return VACCEL_EINVAL;
	memset(array, 0, sizeof(*array));
	array->args_owned = true;
	if (initial_capacity) {
		array->args = calloc(initial_capacity, sizeof(*array->args));
		if (!array->args)
			return VACCEL_ENOMEM;
		array->capacity = initial_capacity;
	}
	return VACCEL_OK;
}

void vaccel_arg_array_clear(struct vaccel_arg_array *array)
{
	if (!array)
		return;
	for (size_t i = 0; i < array->count; i++)
		if (array->args[i].owned)
			vaccel_arg_release(&array->args[i]);
	if (array->args_owned)
		array->count = 0;
	array->position = 0;
}

int vaccel_arg_array_release(struct vaccel_arg_array *array)
{
	if (!array)
		return VACCEL_EINVAL;
	vaccel_arg_array_clear(array);
	if (array->args_owned)
		free(array->args);
	array->args = NULL;
	array->count = 0;
	array->capacity = 0;
	array->position = 0;
	array->args_owned = true;
	return VACCEL_OK;
}

int vaccel_arg_array_new(struct vaccel_arg_array **array,
			 size_t initial_capacity)
{
	if (!array)
		return VACCEL_EINVAL;
	struct vaccel_arg_array *a = malloc(sizeof(*a));
	if (!a)
		return VACCEL_ENOMEM;
	int ret = vaccel_arg_array_init(a, initial_capacity);
	if (ret) {
		free(a);
		return ret;
	}
	a->owned = true;
	*array = a;
	return VACCEL_OK;
}

int vaccel_arg_array_delete(struct vaccel_arg_array *array)
{
	if (!array)
		return VACCEL_EINVAL;
	vaccel_arg_array_release(array);
	free(array);
	return VACCEL_OK;
}

int vaccel_arg_array_wrap(struct vaccel_arg_array *array,
			  struct vaccel_arg *args, size_t count)
{
	if (!array || (count && !args))
		return VACCEL_EINVAL;
	array->args = args;
	array->count = count;
	array->capacity = count;
	array->position = 0;
	array->owned = false;
	array->args_owned = false;
	return VACCEL_OK;
}

int vaccel_arg_array_add_raw(struct vaccel_arg_array *array, void *buf,
			     size_t size)
{
	return _push(array, buf, size, VACCEL_ARG_RAW, 0, false);
}

int vaccel_arg_array_get_raw(struct vaccel_arg_array *array, void **buf,
			     size_t *size)
{
	return _get_bytes(array, VACCEL_ARG_MAX, buf, size);
}

/* Copy src into the arg's existing buffer; src may be shorter. */
static int _write_into(struct vaccel_arg_array *array, vaccel_arg_type_t type,
		       const void *src, size_t size, bool exact)
{
	struct vaccel_arg *arg;
	if (!src && size)
		return VACCEL_EINVAL;
	int ret = _peek(array, type, &arg);
	if (ret)
		return ret;
	if (exact ? size != arg->size : size > arg->size)
		return VACCEL_EINVAL;
	if (size && !arg->buf)
		return VACCEL_EINVAL;
	if (size)
		memcpy(arg->buf, src, size);
	array->position++;
	return VACCEL_OK;
}

int vaccel_arg_array_set_raw(struct vaccel_arg_array *array, void *buf,
			     size_t size)
{
	return _write_into(array, VACCEL_ARG_MAX, buf, size, false);
}

#define RT_DEFINE_TYPED(NAME, CTYPE, TAG, ATAG)                                \
	int vaccel_arg_array_add_##NAME(struct vaccel_arg_array *array,        \
					CTYPE *value)                          \
	{                                                                      \
		if (!value)                                                    \
			return VACCEL_EINVAL;                                  \
		return _push(array, value, sizeof(CTYPE), TAG, 0, false);      \
	}                                                                      \
	int vaccel_arg_array_add_##NAME##_array(                               \
		struct vaccel_arg_array *array, CTYPE *values, size_t count)   \
	{                                                                      \
		if (!values && count)                                          \
			return VACCEL_EINVAL;                                  \
		return _push(array, values, count * sizeof(CTYPE), ATAG, 0,    \
			     false);                                           \
	}                                                                      \
	int vaccel_arg_array_get_##NAME(struct vaccel_arg_array *array,        \
					CTYPE *value)                          \
	{                                                                      \
		struct vaccel_arg *arg;                                        \
		if (!value)                                                    \
			return VACCEL_EINVAL;                                  \
		int ret = _peek(array, TAG, &arg);                             \
		if (ret)                                                       \
			return ret;                                            \
		if (arg->size != sizeof(CTYPE) || !arg->buf)                   \
			return VACCEL_EINVAL;                                  \
		memcpy(value, arg->buf, sizeof(CTYPE));                        \
		array->position++;                                             \
		return VACCEL_OK;                                              \
	}                                                                      \
	int vaccel_arg_array_get_##NAME##_array(                               \
		struct vaccel_arg_array *array, CTYPE **values, size_t *count) \
	{                                                                      \
		struct vaccel_arg *arg;                                        \
		if (!values || !count)                                         \
			return VACCEL_EINVAL;                                  \
		int ret = _peek(array, ATAG, &arg);                            \
		if (ret)                                                       \
			return ret;                                            \
		if (arg->size % sizeof(CTYPE))                                 \
			return VACCEL_EINVAL;                                  \
		*values = (CTYPE *)arg->buf;                                   \
		*count = arg->size / sizeof(CTYPE);                            \
		array->position++;                                             \
		return VACCEL_OK;                                              \
	}                                                                      \
	int vaccel_arg_array_set_##NAME(struct vaccel_arg_array *array,        \
					CTYPE *value)                          \
	{                                                                      \
		if (!value)                                                    \
			return VACCEL_EINVAL;                                  \
		return _write_into(array, TAG, value, sizeof(CTYPE), true);    \
	}                                                                      \
	int vaccel_arg_array_set_##NAME##_array(                               \
		struct vaccel_arg_array *array, CTYPE *values, size_t count)   \
	{                                                                      \
		return _write_into(array, ATAG, values, count * sizeof(CTYPE), \
				   true);                                      \
	}

VACCEL_ARG_NUMERIC_TYPES(RT_DEFINE_TYPED)

int vaccel_arg_array_add_string(struct vaccel_arg_array *array, char *str)
{
	if (!str)
		return VACCEL_EINVAL;
	return _push(array, str, strlen(str) + 1, VACCEL_ARG_STRING, 0, false);
}

int vaccel_arg_array_get_string(struct vaccel_arg_array *array, char **str)
{
	struct vaccel_arg *arg;
	if (!str)
		return VACCEL_EINVAL;
	int ret = _peek(array, VACCEL_ARG_STRING, &arg);
	if (ret)
		return ret;
	/* A string arg must carry its terminator inside its size. */
	if (!arg->buf || !arg->size || !memchr(arg->buf, '\0', arg->size))
		return VACCEL_EINVAL;
	*str = (char *)arg->buf;
	array->position++;
	return VACCEL_OK;
}

int vaccel_arg_array_set_string(struct vaccel_arg_array *array, char *str)
{
	if (!str)
		return VACCEL_EINVAL;
	return _write_into(array, VACCEL_ARG_STRING, str, strlen(str) + 1,
			   false);
}

int vaccel_arg_array_add_buffer(struct vaccel_arg_array *array, void *buf,
				size_t size)
{
	return _push(array, buf, size, VACCEL_ARG_BUFFER, 0, false);
}

int vaccel_arg_array_get_buffer(struct vaccel_arg_array *array, void **buf,
				size_t *size)
{
	return _get_bytes(array, VACCEL_ARG_BUFFER, buf, size);
}

int vaccel_arg_array_set_buffer(struct vaccel_arg_array *array, void *buf,
				size_t size)
{
	return _write_into(array, VACCEL_ARG_BUFFER, buf, size, false);
}

int vaccel_arg_array_add_custom(struct vaccel_arg_array *array,
				uint32_t custom_id, void *buf, size_t size,
				vaccel_arg_type_validator_fn validator)
{
	if (validator && !validator(buf, size, custom_id))
		return VACCEL_EINVAL;
	return _push(array, buf, size, VACCEL_ARG_CUSTOM, custom_id, false);
}

int vaccel_arg_array_get_custom(struct vaccel_arg_array *array,
				uint32_t expected_id, void **buf, size_t *size,
				vaccel_arg_type_validator_fn validator)
{
	struct vaccel_arg *arg;
	if (!buf || !size)
		return VACCEL_EINVAL;
	int ret = _peek_id(array, VACCEL_ARG_CUSTOM, expected_id, &arg);
	if (ret)
		return ret;
	if (validator && !validator(arg->buf, arg->size, expected_id))
		return VACCEL_EINVAL;
	*buf = arg->buf;
	*size = arg->size;
	array->position++;
	return VACCEL_OK;
}

int vaccel_arg_array_set_custom(struct vaccel_arg_array *array,
				uint32_t expected_id, void *buf, size_t size,
				vaccel_arg_type_validator_fn validator)
{
	struct vaccel_arg *arg;
	int ret = _peek_id(array, VACCEL_ARG_CUSTOM, expected_id, &arg);
	if (ret)
		return ret;
	if (validator && !validator(buf, size, expected_id))
		return VACCEL_EINVAL;
	return _write_into(array, VACCEL_ARG_CUSTOM, buf, size, false);
}

int vaccel_arg_array_add_serialized(struct vaccel_arg_array *array,
				    vaccel_arg_type_t type, uint32_t custom_id,
				    const void *data, size_t data_size,
				    vaccel_arg_serializer_fn serializer)
{
	void *buf = NULL;
	size_t size = 0;
	if (!array || !data || (unsigned)type >= VACCEL_ARG_MAX)
		return VACCEL_EINVAL;
	if (serializer) {
		int ret = serializer(data, data_size, custom_id, &buf, &size);
		if (ret)
			return ret;
	} else {
		buf = malloc(data_size ? data_size : 1);
		if (!buf)
			return VACCEL_ENOMEM;
		memcpy(buf, data, data_size);
		size = data_size;
	}
	int ret = _push(array, buf, size, type, custom_id, true);
	if (ret)
		free(buf);
	return ret;
}

int vaccel_arg_array_get_serialized(struct vaccel_arg_array *array,
				    vaccel_arg_type_t expected_type,
				    uint32_t expected_custom_id, void *data,
				    size_t expected_size,
				    vaccel_arg_deserializer_fn deserializer)
{
	struct vaccel_arg *arg;
	if (!data)
		return VACCEL_EINVAL;
	int ret = _peek_id(array, expected_type, expected_custom_id, &arg);
	if (ret)
		return ret;
	if (deserializer) {
		ret = deserializer(arg->buf, arg->size, expected_custom_id,
				   expected_size, data);
		if (ret)
			return ret;
	} else {
		if (arg->size != expected_size)
			return VACCEL_EINVAL;
		memcpy(data, arg->buf, expected_size);
	}
	array->position++;
	return VACCEL_OK;
}

int vaccel_arg_array_set_serialized(struct vaccel_arg_array *array,
				    vaccel_arg_type_t expected_type,
				    uint32_t expected_custom_id, void *data,
				    size_t data_size,
				    vaccel_arg_serializer_fn serializer)
{
	struct vaccel_arg *arg;
	if (!data)
		return VACCEL_EINVAL;
	int ret = _peek_id(array, expected_type, expected_custom_id, &arg);
	if (ret)
		return ret;
	if (!serializer)
		return _write_into(array, expected_type, data, data_size,
				   false);
	void *buf = NULL;
	size_t size = 0;
	ret = serializer(data, data_size, expected_custom_id, &buf, &size);
	if (ret)
		return ret;
	ret = _write_into(array, expected_type, buf, size, false);
	free(buf);
	return ret;
}

int vaccel_arg_array_add_range(struct vaccel_arg_array *dest,
			       const struct vaccel_arg_array *src,
			       size_t start_idx, size_t count, bool copy)
{
	if (!dest || !src || start_idx > src->count ||
	    count > src->count - start_idx)
		return VACCEL_EINVAL;
	int ret = _reserve(dest, count);
	if (ret)
		return -ret;
	for (size_t i = 0; i < count; i++) {
		const struct vaccel_arg *s = &src->args[start_idx + i];
		if (copy) {
			struct vaccel_arg *d = &dest->args[dest->count];
			ret = vaccel_arg_init(d, s->buf, s->size, s->type,
					      s->custom_type_id);
			if (ret)
				return ret;
			dest->count++;
		} else {
			ret = _push(dest, s->buf, s->size, s->type,
				    s->custom_type_id, false);
			if (ret)
				return ret;
		}
	}
	return VACCEL_OK;
}

int vaccel_arg_array_add_remaining(struct vaccel_arg_array *dest,
				   const struct vaccel_arg_array *src,
				   bool copy)
{
	if (!src)
		return VACCEL_EINVAL;
	return vaccel_arg_array_add_range(dest, src, src->position,
					  src->count - src->position, copy);
}

int vaccel_arg_array_add_all(struct vaccel_arg_array *dest,
			     const struct vaccel_arg_array *src, bool copy)
{
	if (!src)
		return VACCEL_EINVAL;
	return vaccel_arg_array_add_range(dest, src, 0, src->count, copy);
}

int vaccel_arg_array_get_remaining(struct vaccel_arg_array *array,
				   struct vaccel_arg **args, size_t *count)
{
	if (!array || !args || !count)
		return VACCEL_EINVAL;
	*count = array->count - array->position;
	*args = *count ? &array->args[array->position] : NULL;
	array->position = array->count;
	return VACCEL_OK;
}

size_t vaccel_arg_array_remaining_count(const struct vaccel_arg_array *array)
{
	return array ? array->count - array->position : 0;
}

size_t vaccel_arg_array_position(const struct vaccel_arg_array *array)
{
	return array ? array->position : 0;
}

void vaccel_arg_array_set_position(struct vaccel_arg_array *array,
				   size_t position)
{
	if (array && position <= array->count)
		array->position = position;
}

void vaccel_arg_array_reset_position(struct vaccel_arg_array *array)
{
	if (array)
		array->position = 0;
}

size_t vaccel_arg_array_count(const struct vaccel_arg_array *array)
{
	return array ? array->count : 0;
}

struct vaccel_arg *vaccel_arg_array_raw(struct vaccel_arg_array *array)
{
	return array ? array->args : NULL;
}
