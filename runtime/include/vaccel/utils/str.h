// SPDX-License-Identifier: Apache-2.0
// String helpers of the public API.
#pragma once

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Lower-case str into lower (size bytes, always terminated, truncating), or,
 * when lower is NULL, into a malloc'ed copy returned in *alloc_lower.
 * VACCEL_EINVAL for a NULL str or no destination, VACCEL_ENOMEM. */
int vaccel_str_to_lower(const char *str, char *lower, size_t size,
			char **alloc_lower);

#ifdef __cplusplus
}
#endif
