// SPDX-License-Identifier: Apache-2.0
// Logging: VACCEL_LOG_LEVEL 1 (error) .. 4 (debug), VACCEL_LOG_FILE.
#pragma once

#include "utils/enum.h"
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define _ENUM_PREFIX VACCEL_LOG
#define VACCEL_LOG_LEVEL_ENUM_LIST(VACCEL_ENUM_ITEM) \
	VACCEL_ENUM_ITEM(ERROR, 1, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(WARN, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(INFO, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(DEBUG, _ENUM_PREFIX)

VACCEL_ENUM_DEF_WITH_STR_FUNCS(vaccel_log_level, _ENUM_PREFIX,
			       VACCEL_LOG_LEVEL_ENUM_LIST)
#undef _ENUM_PREFIX

/* Current threshold; read on every log macro so a disabled level costs
 * one relaxed load and no call. */
extern int vaccel_log_threshold;

static inline bool vaccel_log_enabled(vaccel_log_level_t level)
{
	return (int)level <= __atomic_load_n(&vaccel_log_threshold,
					     __ATOMIC_RELAXED);
}

/* Write one formatted line (no trailing newline needed). */
void vaccel_log_write(vaccel_log_level_t level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

int vaccel_log_init(void);
int vaccel_log_shutdown(void);

#define vaccel__log(level, ...)                          \
	do {                                             \
		if (vaccel_log_enabled(level))           \
			vaccel_log_write(level, __VA_ARGS__); \
	} while (0)

#define vaccel_error(...) vaccel__log(VACCEL_LOG_ERROR, __VA_ARGS__)
#define vaccel_warn(...) vaccel__log(VACCEL_LOG_WARN, __VA_ARGS__)
#define vaccel_info(...) vaccel__log(VACCEL_LOG_INFO, __VA_ARGS__)
#define vaccel_debug(...) vaccel__log(VACCEL_LOG_DEBUG, __VA_ARGS__)
#define vaccel_trace(...) vaccel__log(VACCEL_LOG_DEBUG, __VA_ARGS__)
#define vaccel_fatal(...) vaccel__log(VACCEL_LOG_ERROR, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
