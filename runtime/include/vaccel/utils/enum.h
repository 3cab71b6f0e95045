// SPDX-License-Identifier: Apache-2.0
// Enums with string helpers, generated from one list per enum.
//
// A list is a macro taking an item macro: each item is
// ITEM(NAME, value, PREFIX) or ITEM(NAME, PREFIX) (value follows on). From
// VACCEL_ENUM_DEF_WITH_STR_FUNCS(foo, PREFIX, LIST) come:
//   typedef enum foo { PREFIX_NAME..., PREFIX_MAX } foo_t;
//   const char *foo_to_str(foo_t)       "PREFIX_NAME" ("PREFIX_MAX" if unknown)
//   const char *foo_to_base_str(foo_t)  "NAME" ("MAX" if unknown)
//   char *foo_name(foo_t, char *lower, size_t size)  "name" into lower
#pragma once

#include "str.h"
#include <stddef.h>
#include <stdlib.h>

/* Room enough for any enum name written by foo_name(). */
enum { VACCEL_ENUM_STR_MAX = 128 };

#ifdef __cplusplus
extern "C" {
#endif

/* Pick the 3-argument or the 2-argument form of an item. Callers pass a
 * trailing dummy so "..." is never empty (ISO C before C23 wants one). */
#define VACCEL_ENUM_GET_MACRO(_1, _2, _3, NAME, ...) NAME

#define VACCEL_ENUM_ITEM_NO_VALUE(name, prefix) prefix##_##name
#define VACCEL_ENUM_ITEM_WITH_VALUE(name, value, prefix) \
	prefix##_##name = (value)
#define VACCEL_ENUM_ITEM(...)                                           \
	VACCEL_ENUM_GET_MACRO(__VA_ARGS__, VACCEL_ENUM_ITEM_WITH_VALUE, \
			      VACCEL_ENUM_ITEM_NO_VALUE, 0)                \
	(__VA_ARGS__),

#define VACCEL_ENUM_STR(name, prefix) #prefix "_" #name

#define VACCEL_ENUM_STR_CASE_NO_VALUE(name, prefix)   \
	case VACCEL_ENUM_ITEM_NO_VALUE(name, prefix): \
		return VACCEL_ENUM_STR(name, prefix);
#define VACCEL_ENUM_STR_CASE_WITH_VALUE(name, value, prefix) \
	VACCEL_ENUM_STR_CASE_NO_VALUE(name, prefix)
#define VACCEL_ENUM_STR_CASE(...)                                           \
	VACCEL_ENUM_GET_MACRO(__VA_ARGS__, VACCEL_ENUM_STR_CASE_WITH_VALUE, \
			      VACCEL_ENUM_STR_CASE_NO_VALUE, 0)                \
	(__VA_ARGS__)

#define VACCEL_ENUM_BASE_STR_CASE_NO_VALUE(name, prefix) \
	case VACCEL_ENUM_ITEM_NO_VALUE(name, prefix):    \
		return #name;
#define VACCEL_ENUM_BASE_STR_CASE_WITH_VALUE(name, value, prefix) \
	VACCEL_ENUM_BASE_STR_CASE_NO_VALUE(name, prefix)
#define VACCEL_ENUM_BASE_STR_CASE(...)                              \
	VACCEL_ENUM_GET_MACRO(__VA_ARGS__,                          \
			      VACCEL_ENUM_BASE_STR_CASE_WITH_VALUE, \
			      VACCEL_ENUM_BASE_STR_CASE_NO_VALUE, 0)   \
	(__VA_ARGS__)

#define VACCEL_ENUM_DEF_ITEMS(prefix, LIST) \
	LIST(VACCEL_ENUM_ITEM)              \
	VACCEL_ENUM_ITEM(MAX, prefix)

/* The switches list only real items; an out-of-range value (a cast, a
 * peer's number) falls to default, hence no -Wswitch complaint. */
#define VACCEL_ENUM_DEF_STR_FUNCS(name, prefix, LIST)                        \
	static inline const char *name##_to_str(name##_t value)              \
	{                                                                    \
		switch ((int)value) {                                        \
			LIST(VACCEL_ENUM_STR_CASE)                           \
		default:                                                     \
			return VACCEL_ENUM_STR(MAX, prefix);                 \
		}                                                            \
	}                                                                    \
	static inline const char *name##_to_base_str(name##_t value)         \
	{                                                                    \
		switch ((int)value) {                                        \
			LIST(VACCEL_ENUM_BASE_STR_CASE)                      \
		default:                                                     \
			return "MAX";                                        \
		}                                                            \
	}                                                                    \
	static inline char *name##_name(name##_t value, char *lower,         \
					size_t size)                         \
	{                                                                    \
		if (!lower || !size)                                         \
			return NULL;                                         \
		vaccel_str_to_lower(name##_to_base_str(value), lower, size,  \
				    NULL);                                   \
		return lower;                                                \
	}

#define VACCEL_ENUM_DEF_WITH_STR_FUNCS(name, prefix, LIST)  \
	typedef enum name {                                 \
		VACCEL_ENUM_DEF_ITEMS(prefix, LIST)         \
	} name##_t;                                         \
	VACCEL_ENUM_DEF_STR_FUNCS(name, prefix, LIST)

#ifdef __cplusplus
}
#endif
