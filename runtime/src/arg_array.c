// SPDX-License-Identifier: Apache-2.0
// struct vaccel_arg_array: a list of args with a read/write cursor, with
// upstream's checks and codes. add_* append (borrowing the caller's memory
// except add_serialized and copying add_range), get_* read the arg at the
// cursor and advance, set_* write into it and advance. A wrong type, size
// or pointer is VACCEL_EINVAL; a cursor past the end, a range outside the
// source or adding to a full wrapped array is VACCEL_ERANGE.
#include "rt.h"
#include <stdlib.h>
#include <string.h>

/* Slots an array made with capacity 0 starts with (upstream's default). */
enum { RT_ARG_ARRAY_DEFAULT_CAPACITY = 8 };

/* Element size of each fixed-size type (0: variable) and whether it is an
 * array type; booleans must also hold 0 or 1. */
struct rt_arg_shape {
	unsigned short elem;
	bool array;
};

#define RT_ARG_SHAPE(NAME, CTYPE, TAG, ATAG) \
	[TAG] = { sizeof(CTYPE), false }, [ATAG] = { sizeof(CTYPE), true },
static const struct rt_arg_shape rt_arg_shapes[VACCEL_ARG_MAX] = {
	VACCEL_ARG_NUMERIC_TYPES(RT_ARG_SHAPE)
};

static bool _bools_valid(const void *buf, size_t size)
{
	const unsigned char *b = buf;
	for (size_t i = 0; i < size; i++)
		if (b[i] > 1)
			return false;
	return true;
}

/* Whether buf/size is a well-formed value of a built-in type. RAW and
 * CUSTOM carry anything. */
static bool _builtin_valid(vaccel_arg_type_t type, const void *buf,
			   size_t size)
{
	if ((unsigned)type >= VACCEL_ARG_MAX)
		return false;
	if (type == VACCEL_ARG_RAW || type == VACCEL_ARG_CUSTOM)
		return true;
	if (!buf || !size)
		return false;
	if (type == VACCEL_ARG_STRING)
		return ((const char *)buf)[size - 1] == '\0';
	if (type == VACCEL_ARG_BUFFER)
		return true;
	const struct rt_arg_shape *s = &rt_arg_shapes[type];
	if (s->array ? size % s->elem != 0 : size != s->elem)
		return false;
	if (type == VACCEL_ARG_BOOL || type == VACCEL_ARG_BOOL_ARRAY)
		return _bools_valid(buf, size);
	return true;
}

/* Make room for more args; wrapped storage is fixed-size. */
static int _reserve(struct vaccel_arg_array *a, size_t more)
{
	if (more <= a->capacity - a->count)
		return VACCEL_OK;
	if (!a->owned)
		return VACCEL_ERANGE;
	size_t ncap = a->capacity ? a->capacity : RT_ARG_ARRAY_DEFAULT_CAPACITY;
	while (ncap - a->count < more) {
		if (ncap > SIZE_MAX / 2 / sizeof(*a->args))
			return VACCEL_ENOMEM;
		ncap *= 2;
	}
	struct vaccel_arg *n = realloc(a->args, ncap * sizeof(*n));
	if (!n)
		return VACCEL_ENOMEM;
	a->args = n;
	a->capacity = ncap;
	return VACCEL_OK;
}

/* Append after checking a built-in type's value. */
static int _push(struct vaccel_arg_array *a, void *buf, size_t size,
		 vaccel_arg_type_t type, uint32_t custom_id, bool owned)
{
	if (!a)
		return VACCEL_EINVAL;
	int ret = _reserve(a, 1);
	if (ret)
		return ret;
	if (!_builtin_valid(type, buf, size))
		return VACCEL_EINVAL;
	struct vaccel_arg *arg = &a->args[a->count++];
	arg->buf = buf;
	arg->size = size;
	arg->type = type;
	arg->custom_type_id = custom_id;
	arg->owned = owned;
	return VACCEL_OK;
}

/* The arg at the cursor if it has the given type (VACCEL_ARG_MAX: any). */
static int _at(struct vaccel_arg_array *a, vaccel_arg_type_t type,
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

/* _at, for a scalar (exact size) or array (whole elements) of elem bytes. */
static int _at_sized(struct vaccel_arg_array *a, vaccel_arg_type_t type,
		     size_t elem, bool array, struct vaccel_arg **out)
{
	int ret = _at(a, type, out);
	if (ret)
		return ret;
	const struct vaccel_arg *arg = *out;
	if (!arg->buf || (array ? !arg->size || arg->size % elem : arg->size != elem))
		return VACCEL_EINVAL;
	return VACCEL_OK;
}

/* _at for a typed (serialized) arg: CUSTOM args must carry custom_id,
 * built-in ones a well-formed value. */
static int _at_typed(struct vaccel_arg_array *a, vaccel_arg_type_t type,
		     uint32_t custom_id, struct vaccel_arg **out)
{
	int ret = _at(a, type, out);
	if (ret)
		return ret;
	if (type == VACCEL_ARG_CUSTOM ?
		    (*out)->custom_type_id != custom_id :
		    !_builtin_valid(type, (*out)->buf, (*out)->size))
		return VACCEL_EINVAL;
	return VACCEL_OK;
}

/* The bytes of the arg at the cursor (non-empty ones only, if asked). */
static int _get_bytes(struct vaccel_arg_array *a, vaccel_arg_type_t type,
		      bool nonempty, void **buf, size_t *size)
{
	struct vaccel_arg *arg;
	if (!buf || !size)
		return VACCEL_EINVAL;
	int ret = nonempty ? _at_sized(a, type, 1, true, &arg) :
			     _at(a, type, &arg);
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
	size_t cap = initial_capacity ? initial_capacity :
					RT_ARG_ARRAY_DEFAULT_CAPACITY;
	array->args = calloc(cap, sizeof(*array->args));
	array->count = 0;
	array->position = 0;
	array->capacity = array->args ? cap : 0;
	array->owned = true;
	return array->args ? VACCEL_OK : VACCEL_ENOMEM;
}

void vaccel_arg_array_clear(struct vaccel_arg_array *array)
{
	if (!array || !array->args)
		return;
	for (size_t i = 0; i < array->count; i++)
		vaccel_arg_release(&array->args[i]);
	array->count = 0;
	array->position = 0;
}

int vaccel_arg_array_release(struct vaccel_arg_array *array)
{
	if (!array || !array->args)
		return VACCEL_EINVAL;
	if (array->owned) {
		vaccel_arg_array_clear(array);
		free(array->args);
	}
	array->args = NULL;
	array->count = 0;
	array->capacity = 0;
	array->position = 0;
	array->owned = false;
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
	*array = a;
	return VACCEL_OK;
}

int vaccel_arg_array_delete(struct vaccel_arg_array *array)
{
	int ret = vaccel_arg_array_release(array);
	if (ret)
		return ret;
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
	return VACCEL_OK;
}

int vaccel_arg_array_add_raw(struct vaccel_arg_array *array, void *buf,
			     size_t size)
{
	if (!array || (!buf != !size))
		return VACCEL_EINVAL;
	return _push(array, buf, size, VACCEL_ARG_RAW, 0, false);
}

int vaccel_arg_array_get_raw(struct vaccel_arg_array *array, void **buf,
			     size_t *size)
{
	return _get_bytes(array, VACCEL_ARG_RAW, false, buf, size);
}

int vaccel_arg_array_set_raw(struct vaccel_arg_array *array, void *buf,
			     size_t size)
{
	struct vaccel_arg *arg;
	int ret = _at(array, VACCEL_ARG_RAW, &arg);
	if (ret)
		return ret;
	if (buf && size) {
		if (!arg->buf || arg->size < size)
			return VACCEL_EINVAL;
		memcpy(arg->buf, buf, size);
	} else if (arg->buf && arg->size) {
		/* nothing to write into a non-empty output */
		return VACCEL_EINVAL;
	}
	array->position++;
	return VACCEL_OK;
}

/* Read (or, with write, overwrite) the scalar at the cursor. */
static int _scalar_io(struct vaccel_arg_array *array, vaccel_arg_type_t type,
		      void *value, size_t size, bool write)
{
	struct vaccel_arg *arg;
	if (!value)
		return VACCEL_EINVAL;
	int ret = _at_sized(array, type, size, false, &arg);
	if (ret)
		return ret;
	if (write)
		memcpy(arg->buf, value, size);
	else
		memcpy(value, arg->buf, size);
	array->position++;
	return VACCEL_OK;
}

#define RT_DEFINE_TYPED(NAME, CTYPE, TAG, ATAG)                                \
	int vaccel_arg_array_add_##NAME(struct vaccel_arg_array *array,        \
					CTYPE *value)                          \
	{                                                                      \
		return _push(array, value, sizeof(CTYPE), TAG, 0, false);      \
	}                                                                      \
	int vaccel_arg_array_add_##NAME##_array(                               \
		struct vaccel_arg_array *array, CTYPE *values, size_t count)   \
	{                                                                      \
		if (!array || !values || !count ||                             \
		    count > SIZE_MAX / sizeof(CTYPE))                          \
			return VACCEL_EINVAL;                                  \
		return _push(array, values, count * sizeof(CTYPE), ATAG, 0,    \
			     false);                                           \
	}                                                                      \
	int vaccel_arg_array_get_##NAME(struct vaccel_arg_array *array,        \
					CTYPE *value)                          \
	{                                                                      \
		return _scalar_io(array, TAG, value, sizeof(CTYPE), false);    \
	}                                                                      \
	int vaccel_arg_array_get_##NAME##_array(                               \
		struct vaccel_arg_array *array, CTYPE **values, size_t *count) \
	{                                                                      \
		struct vaccel_arg *arg;                                        \
		if (!values)                                                   \
			return VACCEL_EINVAL;                                  \
		int ret = _at_sized(array, ATAG, sizeof(CTYPE), true, &arg);   \
		if (ret)                                                       \
			return ret;                                            \
		*values = (CTYPE *)arg->buf;                                   \
		if (count)                                                     \
			*count = arg->size / sizeof(CTYPE);                    \
		array->position++;                                             \
		return VACCEL_OK;                                              \
	}                                                                      \
	int vaccel_arg_array_set_##NAME(struct vaccel_arg_array *array,        \
					CTYPE *value)                          \
	{                                                                      \
		return _scalar_io(array, TAG, value, sizeof(CTYPE), true);     \
	}                                                                      \
	int vaccel_arg_array_set_##NAME##_array(                               \
		struct vaccel_arg_array *array, CTYPE *values, size_t count)   \
	{                                                                      \
		struct vaccel_arg *arg;                                        \
		if (!values)                                                   \
			return VACCEL_EINVAL;                                  \
		int ret = _at_sized(array, ATAG, sizeof(CTYPE), true, &arg);   \
		if (ret)                                                       \
			return ret;                                            \
		if (count > arg->size / sizeof(CTYPE))                         \
			return VACCEL_EINVAL;                                  \
		memcpy(arg->buf, values, count * sizeof(CTYPE));               \
		array->position++;                                             \
		return VACCEL_OK;                                              \
	}

VACCEL_ARG_NUMERIC_TYPES(RT_DEFINE_TYPED)

int vaccel_arg_array_add_string(struct vaccel_arg_array *array, char *str)
{
	if (!array || !str)
		return VACCEL_EINVAL;
	return _push(array, str, strlen(str) + 1, VACCEL_ARG_STRING, 0, false);
}

int vaccel_arg_array_get_string(struct vaccel_arg_array *array, char **str)
{
	struct vaccel_arg *arg;
	if (!str)
		return VACCEL_EINVAL;
	int ret = _at(array, VACCEL_ARG_STRING, &arg);
	if (ret)
		return ret;
	/* the terminator must lie inside the arg */
	if (!_builtin_valid(VACCEL_ARG_STRING, arg->buf, arg->size))
		return VACCEL_EINVAL;
	*str = (char *)arg->buf;
	array->position++;
	return VACCEL_OK;
}

int vaccel_arg_array_set_string(struct vaccel_arg_array *array, char *str)
{
	struct vaccel_arg *arg;
	if (!str)
		return VACCEL_EINVAL;
	int ret = _at(array, VACCEL_ARG_STRING, &arg);
	if (ret)
		return ret;
	size_t len = strlen(str) + 1;
	if (!arg->buf || arg->size < len)
		return VACCEL_EINVAL;
	memcpy(arg->buf, str, len);
	memset((char *)arg->buf + len, 0, arg->size - len);
	array->position++;
	return VACCEL_OK;
}

int vaccel_arg_array_add_buffer(struct vaccel_arg_array *array, void *buf,
				size_t size)
{
	return _push(array, buf, size, VACCEL_ARG_BUFFER, 0, false);
}

int vaccel_arg_array_get_buffer(struct vaccel_arg_array *array, void **buf,
				size_t *size)
{
	return _get_bytes(array, VACCEL_ARG_BUFFER, true, buf, size);
}

int vaccel_arg_array_set_buffer(struct vaccel_arg_array *array, void *buf,
				size_t size)
{
	struct vaccel_arg *arg;
	if (!buf || !size)
		return VACCEL_EINVAL;
	int ret = _at(array, VACCEL_ARG_BUFFER, &arg);
	if (ret)
		return ret;
	if (!arg->buf || arg->size < size)
		return VACCEL_EINVAL;
	memcpy(arg->buf, buf, size);
	array->position++;
	return VACCEL_OK;
}

int vaccel_arg_array_add_custom(struct vaccel_arg_array *array,
				uint32_t custom_id, void *buf, size_t size,
				vaccel_arg_type_validator_fn validator)
{
	if (!array || !validator || !validator(buf, size, custom_id))
		return VACCEL_EINVAL;
	return _push(array, buf, size, VACCEL_ARG_CUSTOM, custom_id, false);
}

int vaccel_arg_array_get_custom(struct vaccel_arg_array *array,
				uint32_t expected_id, void **buf, size_t *size,
				vaccel_arg_type_validator_fn validator)
{
	struct vaccel_arg *arg;
	if (!validator || !buf)
		return VACCEL_EINVAL;
	int ret = _at_typed(array, VACCEL_ARG_CUSTOM, expected_id, &arg);
	if (ret)
		return ret;
	if (!validator(arg->buf, arg->size, arg->custom_type_id))
		return VACCEL_EINVAL;
	*buf = arg->buf;
	if (size)
		*size = arg->size;
	array->position++;
	return VACCEL_OK;
}

int vaccel_arg_array_set_custom(struct vaccel_arg_array *array,
				uint32_t expected_id, void *buf, size_t size,
				vaccel_arg_type_validator_fn validator)
{
	struct vaccel_arg *arg;
	if (!validator)
		return VACCEL_EINVAL;
	int ret = _at_typed(array, VACCEL_ARG_CUSTOM, expected_id, &arg);
	if (ret)
		return ret;
	if (arg->size != size || !validator(buf, size, expected_id))
		return VACCEL_EINVAL;
	if (size)
		memcpy(arg->buf, buf, size);
	array->position++;
	return VACCEL_OK;
}

int vaccel_arg_array_add_serialized(struct vaccel_arg_array *array,
				    vaccel_arg_type_t type, uint32_t custom_id,
				    const void *data, size_t data_size,
				    vaccel_arg_serializer_fn serializer)
{
	void *buf = NULL;
	size_t size = 0;
	if (!array || !serializer)
		return VACCEL_EINVAL;
	int ret = serializer(data, data_size, custom_id, &buf, &size);
	if (ret)
		return ret;
	/* the serialized bytes belong to the array from here on */
	ret = _push(array, buf, size, type, custom_id, true);
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
	if (!data || !deserializer)
		return VACCEL_EINVAL;
	int ret = _at_typed(array, expected_type, expected_custom_id, &arg);
	if (ret)
		return ret;
	ret = deserializer(arg->buf, arg->size,
			   expected_type == VACCEL_ARG_CUSTOM ?
				   expected_custom_id :
				   0,
			   expected_size, data);
	if (ret)
		return ret;
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
	void *buf = NULL;
	size_t size = 0;
	if (!data || !serializer)
		return VACCEL_EINVAL;
	int ret = _at_typed(array, expected_type, expected_custom_id, &arg);
	if (ret)
		return ret;
	ret = serializer(data, data_size,
			 expected_type == VACCEL_ARG_CUSTOM ? expected_custom_id :
							      0,
			 &buf, &size);
	if (ret)
		return ret;
	if (size != arg->size) {
		free(buf);
		return VACCEL_EINVAL;
	}
	if (size)
		memcpy(arg->buf, buf, size);
	free(buf);
	array->position++;
	return VACCEL_OK;
}

/* dst takes src's description; with copy, its own copy of the bytes. */
static int _arg_take(struct vaccel_arg *dst, const struct vaccel_arg *src,
		     bool copy)
{
	*dst = *src;
	dst->owned = false;
	if (!copy || !src->buf)
		return VACCEL_OK;
	dst->buf = malloc(src->size ? src->size : 1);
	if (!dst->buf)
		return VACCEL_ENOMEM;
	memcpy(dst->buf, src->buf, src->size);
	dst->owned = true;
	return VACCEL_OK;
}

int vaccel_arg_array_add_range(struct vaccel_arg_array *dest,
			       const struct vaccel_arg_array *src,
			       size_t start_idx, size_t count, bool copy)
{
	if (!dest || !src)
		return VACCEL_EINVAL;
	if (start_idx >= src->count || count > src->count - start_idx)
		return VACCEL_ERANGE;
	if (!count)
		return VACCEL_OK;
	int ret = _reserve(dest, count);
	if (ret)
		return ret;
	for (size_t i = 0; i < count; i++) {
		ret = _arg_take(&dest->args[dest->count + i],
				&src->args[start_idx + i], copy);
		if (ret) {
			/* undo: dest->count was not moved yet */
			while (i--)
				vaccel_arg_release(&dest->args[dest->count + i]);
			return ret;
		}
	}
	dest->count += count;
	return VACCEL_OK;
}

int vaccel_arg_array_add_remaining(struct vaccel_arg_array *dest,
				   const struct vaccel_arg_array *src,
				   bool copy)
{
	if (!dest || !src)
		return VACCEL_EINVAL;
	if (src->position >= src->count)
		return VACCEL_OK;
	return vaccel_arg_array_add_range(dest, src, src->position,
					  src->count - src->position, copy);
}

int vaccel_arg_array_add_all(struct vaccel_arg_array *dest,
			     const struct vaccel_arg_array *src, bool copy)
{
	if (!dest || !src)
		return VACCEL_EINVAL;
	if (!src->count)
		return VACCEL_OK;
	return vaccel_arg_array_add_range(dest, src, 0, src->count, copy);
}

/* A view of the args not yet read; the cursor does not move. */
int vaccel_arg_array_get_remaining(struct vaccel_arg_array *array,
				   struct vaccel_arg **args, size_t *count)
{
	if (!array || !args || !count)
		return VACCEL_EINVAL;
	if (array->position >= array->count) {
		*args = NULL;
		*count = 0;
		return VACCEL_OK;
	}
	*args = &array->args[array->position];
	*count = array->count - array->position;
	return VACCEL_OK;
}

size_t vaccel_arg_array_remaining_count(const struct vaccel_arg_array *array)
{
	if (!array || array->position >= array->count)
		return 0;
	return array->count - array->position;
}

size_t vaccel_arg_array_position(const struct vaccel_arg_array *array)
{
	return array ? array->position : 0;
}

/* Past the end means at the end. */
void vaccel_arg_array_set_position(struct vaccel_arg_array *array,
				   size_t position)
{
	if (array)
		array->position =
			position > array->count ? array->count : position;
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
