// SPDX-License-Identifier: Apache-2.0
// Operation arguments (struct vaccel_arg) and the argument array helpers.
// All int-returning functions return VACCEL_OK or a positive VACCEL_E* code.
#pragma once

#include "utils/enum.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define _ENUM_PREFIX VACCEL_ARG
#define VACCEL_ARG_TYPE_ENUM_LIST(VACCEL_ENUM_ITEM) \
	VACCEL_ENUM_ITEM(RAW, 0, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(INT8, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(INT8_ARRAY, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(INT16, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(INT16_ARRAY, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(INT32, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(INT32_ARRAY, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(INT64, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(INT64_ARRAY, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(UINT8, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(UINT8_ARRAY, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(UINT16, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(UINT16_ARRAY, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(UINT32, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(UINT32_ARRAY, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(UINT64, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(UINT64_ARRAY, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(FLOAT32, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(FLOAT32_ARRAY, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(FLOAT64, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(FLOAT64_ARRAY, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(BOOL, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(BOOL_ARRAY, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(CHAR, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(CHAR_ARRAY, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(UCHAR, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(UCHAR_ARRAY, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(STRING, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(BUFFER, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(CUSTOM, _ENUM_PREFIX)

VACCEL_ENUM_DEF_WITH_STR_FUNCS(vaccel_arg_type, _ENUM_PREFIX,
			       VACCEL_ARG_TYPE_ENUM_LIST)
#undef _ENUM_PREFIX


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

/* Copies size bytes of buf into owned memory (zeroed when buf is NULL;
 * no memory when size is 0). VACCEL_EINVAL for a buf with size 0. */
int vaccel_arg_init(struct vaccel_arg *arg, const void *buf, size_t size,
		    vaccel_arg_type_t type, uint32_t custom_id);
/* Points at buf; the caller keeps ownership. buf and size are both set
 * or both NULL/0, else VACCEL_EINVAL. */
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
	/* slots in args */
	size_t capacity;
	/* next arg the get/set helpers read or write */
	size_t position;
	/* args (the slot storage and each owned arg's data) belongs to the
	 * array and is freed by release; false for wrapped storage, which is
	 * then fixed-size */
	bool owned;
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
/* Use caller-owned args; adding beyond count then fails with ERANGE. */
int vaccel_arg_array_wrap(struct vaccel_arg_array *array,
			  struct vaccel_arg *args, size_t count);
/* Release every arg (freeing owned data) and reset count and position;
 * keeps the slots. Does nothing when args is NULL. */
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

/* The older argument list (upstream deprecates it; kept for programs and
 * exec libraries written against it). list[i] is borrowed from the caller
 * for serial args and allocated by the API for non-serial ones; the API's
 * allocations are freed by vaccel_delete_args. */
struct vaccel_arg_list {
	uint32_t size;
	struct vaccel_arg *list;
	int curr_idx;
	int *idcs_allocated_space;
};

#define VACCEL_ARG_DEPRECATED \
	__attribute__((deprecated( \
		"The function will be removed in a future release")))

/* NULL for size 0 or no memory. */
VACCEL_ARG_DEPRECATED struct vaccel_arg_list *vaccel_args_init(uint32_t size);
/* Append buf (borrowed). VACCEL_EINVAL for NULL/0 or a full list. */
VACCEL_ARG_DEPRECATED int vaccel_add_serial_arg(struct vaccel_arg_list *args,
						void *buf, uint32_t size);
/* Append serializer(buf) (owned) as a CUSTOM arg of id type. */
VACCEL_ARG_DEPRECATED int
vaccel_add_nonserial_arg(struct vaccel_arg_list *args, void *buf,
			 uint32_t type, void *(*serializer)(void *, uint32_t *));
/* Append an output buffer (borrowed). */
VACCEL_ARG_DEPRECATED int
vaccel_expect_serial_arg(struct vaccel_arg_list *args, void *buf,
			 uint32_t size);
/* Append a zeroed output buffer of expected_size bytes (owned). */
VACCEL_ARG_DEPRECATED int
vaccel_expect_nonserial_arg(struct vaccel_arg_list *args,
			    uint32_t expected_size);
/* args[idx].buf, or NULL. */
VACCEL_ARG_DEPRECATED void *vaccel_extract_serial_arg(struct vaccel_arg *args,
						      int idx);
VACCEL_ARG_DEPRECATED void *
vaccel_extract_nonserial_arg(struct vaccel_arg *args, int idx,
			     void *(*deserializer)(void *, uint32_t));
/* Copy args[idx].size bytes from buf into args[idx].buf. That size is the
 * caller's (on the agent, a guest's): buf must hold at least that many
 * bytes, so a function checks args[idx].size before calling this, as
 * examples/mytestlib.c does, or it copies its own memory out. */
VACCEL_ARG_DEPRECATED int vaccel_write_serial_arg(struct vaccel_arg *args,
						  int idx, void *buf);
/* Copy serializer(buf) into args[idx].buf; VACCEL_EINVAL when it is longer
 * than args[idx].size. */
VACCEL_ARG_DEPRECATED int
vaccel_write_nonserial_arg(struct vaccel_arg *args, int idx, void *buf,
			   void *(*serializer)(void *, uint32_t *));
VACCEL_ARG_DEPRECATED int vaccel_delete_args(struct vaccel_arg_list *args);

#ifdef __cplusplus
}
#endif
