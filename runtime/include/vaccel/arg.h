// SPDX-License-Identifier: Apache-2.0
// Operation arguments (struct vaccel_arg) and the argument array helpers.
// All int-returning functions return VACCEL_OK or a positive VACCEL_E* code.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vaccel_arg_type {
	VACCEL_ARG_RAW = 0,
	VACCEL_ARG_INT8,
	VACCEL_ARG_INT8_ARRAY,
	VACCEL_ARG_INT16,
	VACCEL_ARG_INT16_ARRAY,
	VACCEL_ARG_INT32,
	VACCEL_ARG_INT32_ARRAY,
	VACCEL_ARG_INT64,
	VACCEL_ARG_INT64_ARRAY,
	VACCEL_ARG_UINT8,
	VACCEL_ARG_UINT8_ARRAY,
	VACCEL_ARG_UINT16,
	VACCEL_ARG_UINT16_ARRAY,
	VACCEL_ARG_UINT32,
	VACCEL_ARG_UINT32_ARRAY,
	VACCEL_ARG_UINT64,
	VACCEL_ARG_UINT64_ARRAY,
	VACCEL_ARG_FLOAT32,
	VACCEL_ARG_FLOAT32_ARRAY,
	VACCEL_ARG_FLOAT64,
	VACCEL_ARG_FLOAT64_ARRAY,
	VACCEL_ARG_BOOL,
	VACCEL_ARG_BOOL_ARRAY,
	VACCEL_ARG_CHAR,
	VACCEL_ARG_CHAR_ARRAY,
	VACCEL_ARG_UCHAR,
	VACCEL_ARG_UCHAR_ARRAY,
	VACCEL_ARG_STRING,
	VACCEL_ARG_BUFFER,
	VACCEL_ARG_CUSTOM,
	VACCEL_ARG_MAX
} vaccel_arg_type_t;

const char *vaccel_arg_type_to_str(vaccel_arg_type_t type);

/* X-macro over the scalar types: name, C type, scalar tag, array tag. */
#define VACCEL_ARG_NUMERIC_TYPES(X)                                     \
	X(int8, int8_t, VACCEL_ARG_INT8, VACCEL_ARG_INT8_ARRAY)         \
	X(int16, int16_t, VACCEL_ARG_INT16, VACCEL_ARG_INT16_ARRAY)     \
	X(int32, int32_t, VACCEL_ARG_INT32, VACCEL_ARG_INT32_ARRAY)     \
	X(int64, int64_t, VACCEL_ARG_INT64, VACCEL_ARG_INT64_ARRAY)     \
	X(uint8, uint8_t, VACCEL_ARG_UINT8, VACCEL_ARG_UINT8_ARRAY)     \
	X(uint16, uint16_t, VACCEL_ARG_UINT16, VACCEL_ARG_UINT16_ARRAY) \
	X(uint32, uint32_t, VACCEL_ARG_UINT32, VACCEL_ARG_UINT32_ARRAY) \
	X(uint64, uint64_t, VACCEL_ARG_UINT64, VACCEL_ARG_UINT64_ARRAY) \
	X(float, float, VACCEL_ARG_FLOAT32, VACCEL_ARG_FLOAT32_ARRAY)   \
	X(double, double, VACCEL_ARG_FLOAT64, VACCEL_ARG_FLOAT64_ARRAY) \
	X(bool, bool, VACCEL_ARG_BOOL, VACCEL_ARG_BOOL_ARRAY)           \
	X(char, char, VACCEL_ARG_CHAR, VACCEL_ARG_CHAR_ARRAY)           \
	X(uchar, unsigned char, VACCEL_ARG_UCHAR, VACCEL_ARG_UCHAR_ARRAY)

struct vaccel_arg {
	void *buf;
	size_t size;
	vaccel_arg_type_t type;
	/* meaningful when type is VACCEL_ARG_CUSTOM */
	uint32_t custom_type_id;
	/* buf was allocated by the API and is freed with the arg */
	bool owned;
};

/* Copies buf into owned memory. */
int vaccel_arg_init(struct vaccel_arg *arg, const void *buf, size_t size,
		    vaccel_arg_type_t type, uint32_t custom_id);
/* Points at buf; the caller keeps ownership. */
int vaccel_arg_init_from_buf(struct vaccel_arg *arg, void *buf, size_t size,
			     vaccel_arg_type_t type, uint32_t custom_id);
int vaccel_arg_release(struct vaccel_arg *arg);
int vaccel_arg_new(struct vaccel_arg **arg, const void *buf, size_t size,
		   vaccel_arg_type_t type, uint32_t custom_id);
int vaccel_arg_from_buf(struct vaccel_arg **arg, void *buf, size_t size,
			vaccel_arg_type_t type, uint32_t custom_id);
int vaccel_arg_delete(struct vaccel_arg *arg);

struct vaccel_arg_array {
	struct vaccel_arg *args;
	/* args added so far */
	size_t count;
	/* slots allocated in args */
	size_t capacity;
	/* next arg returned by the get/set helpers */
	size_t position;
	/* the array struct itself was allocated by vaccel_arg_array_new() */
	bool owned;
	/* ours: args storage was allocated by the API (false when wrapped) */
	bool args_owned;
};

typedef bool (*vaccel_arg_type_validator_fn)(const void *buf, size_t size,
					     uint32_t custom_id);
typedef int (*vaccel_arg_serializer_fn)(const void *data, size_t data_size,
					uint32_t custom_id, void **buf,
					size_t *size);
typedef int (*vaccel_arg_deserializer_fn)(const void *buf, size_t size,
					  uint32_t custom_id, size_t data_size,
					  void *data);

int vaccel_arg_array_init(struct vaccel_arg_array *array,
			  size_t initial_capacity);
int vaccel_arg_array_release(struct vaccel_arg_array *array);
int vaccel_arg_array_new(struct vaccel_arg_array **array,
			 size_t initial_capacity);
int vaccel_arg_array_delete(struct vaccel_arg_array *array);
/* Use caller-owned args; adding beyond count then fails with ENOSPC. */
int vaccel_arg_array_wrap(struct vaccel_arg_array *array,
			  struct vaccel_arg *args, size_t count);
/* Free owned arg data and reset count and position; keeps storage. */
void vaccel_arg_array_clear(struct vaccel_arg_array *array);

int vaccel_arg_array_add_raw(struct vaccel_arg_array *array, void *buf,
			     size_t size);

#define VACCEL_ARG_ARRAY_DECLARE_ADD_FUNCS(NAME, CTYPE, TAG, ATAG)        \
	int vaccel_arg_array_add_##NAME(struct vaccel_arg_array *array,   \
					CTYPE *value);                    \
	int vaccel_arg_array_add_##NAME##_array(                          \
		struct vaccel_arg_array *array, CTYPE *values, size_t count);
VACCEL_ARG_NUMERIC_TYPES(VACCEL_ARG_ARRAY_DECLARE_ADD_FUNCS)

int vaccel_arg_array_add_string(struct vaccel_arg_array *array, char *str);
int vaccel_arg_array_add_buffer(struct vaccel_arg_array *array, void *buf,
				size_t size);
int vaccel_arg_array_add_custom(struct vaccel_arg_array *array,
				uint32_t custom_id, void *buf, size_t size,
				vaccel_arg_type_validator_fn validator);
int vaccel_arg_array_add_serialized(struct vaccel_arg_array *array,
				    vaccel_arg_type_t type, uint32_t custom_id,
				    const void *data, size_t data_size,
				    vaccel_arg_serializer_fn serializer);
int vaccel_arg_array_add_range(struct vaccel_arg_array *dest,
			       const struct vaccel_arg_array *src,
			       size_t start_idx, size_t count, bool copy);
int vaccel_arg_array_add_remaining(struct vaccel_arg_array *dest,
				   const struct vaccel_arg_array *src,
				   bool copy);
int vaccel_arg_array_add_all(struct vaccel_arg_array *dest,
			     const struct vaccel_arg_array *src, bool copy);

int vaccel_arg_array_get_raw(struct vaccel_arg_array *array, void **buf,
			     size_t *size);

#define VACCEL_ARG_ARRAY_DECLARE_GET_FUNCS(NAME, CTYPE, TAG, ATAG)        \
	int vaccel_arg_array_get_##NAME(struct vaccel_arg_array *array,   \
					CTYPE *value);                    \
	int vaccel_arg_array_get_##NAME##_array(                          \
		struct vaccel_arg_array *array, CTYPE **values, size_t *count);
VACCEL_ARG_NUMERIC_TYPES(VACCEL_ARG_ARRAY_DECLARE_GET_FUNCS)

int vaccel_arg_array_get_string(struct vaccel_arg_array *array, char **str);
int vaccel_arg_array_get_buffer(struct vaccel_arg_array *array, void **buf,
				size_t *size);
int vaccel_arg_array_get_custom(struct vaccel_arg_array *array,
				uint32_t expected_id, void **buf, size_t *size,
				vaccel_arg_type_validator_fn validator);
int vaccel_arg_array_get_serialized(struct vaccel_arg_array *array,
				    vaccel_arg_type_t expected_type,
				    uint32_t expected_custom_id, void *data,
				    size_t expected_size,
				    vaccel_arg_deserializer_fn deserializer);

int vaccel_arg_array_set_raw(struct vaccel_arg_array *array, void *buf,
			     size_t size);

#define VACCEL_ARG_ARRAY_DECLARE_SET_FUNCS(NAME, CTYPE, TAG, ATAG)        \
	int vaccel_arg_array_set_##NAME(struct vaccel_arg_array *array,   \
					CTYPE *value);                    \
	int vaccel_arg_array_set_##NAME##_array(                          \
		struct vaccel_arg_array *array, CTYPE *values, size_t count);
VACCEL_ARG_NUMERIC_TYPES(VACCEL_ARG_ARRAY_DECLARE_SET_FUNCS)

int vaccel_arg_array_set_string(struct vaccel_arg_array *array, char *str);
int vaccel_arg_array_set_buffer(struct vaccel_arg_array *array, void *buf,
				size_t size);
int vaccel_arg_array_set_custom(struct vaccel_arg_array *array,
				uint32_t expected_id, void *buf, size_t size,
				vaccel_arg_type_validator_fn validator);
int vaccel_arg_array_set_serialized(struct vaccel_arg_array *array,
				    vaccel_arg_type_t expected_type,
				    uint32_t expected_custom_id, void *data,
				    size_t data_size,
				    vaccel_arg_serializer_fn serializer);

int vaccel_arg_array_get_remaining(struct vaccel_arg_array *array,
				   struct vaccel_arg **args, size_t *count);
size_t vaccel_arg_array_remaining_count(const struct vaccel_arg_array *array);
size_t vaccel_arg_array_position(const struct vaccel_arg_array *array);
void vaccel_arg_array_set_position(struct vaccel_arg_array *array,
				   size_t position);
void vaccel_arg_array_reset_position(struct vaccel_arg_array *array);
size_t vaccel_arg_array_count(const struct vaccel_arg_array *array);
struct vaccel_arg *vaccel_arg_array_raw(struct vaccel_arg_array *array);

/* Older helpers still used by exec libraries written for upstream:
 * extract returns args[idx].buf; write copies args[idx].size bytes from buf.
 * That size is the caller's (on the agent, a guest's): a function must check
 * it against what buf holds before calling write, as examples/mytestlib.c
 * does, or it copies its own memory out. */
void *vaccel_extract_serial_arg(struct vaccel_arg *args, int idx);
int vaccel_write_serial_arg(struct vaccel_arg *args, int idx, void *buf);

#ifdef __cplusplus
}
#endif
