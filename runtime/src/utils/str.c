// SPDX-License-Identifier: Apache-2.0
// String helpers of the public API.
#include "../rt.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int vaccel_str_to_lower(const char *str, char *lower, size_t size,
			char **alloc_lower)
{
	if (!str || (!alloc_lower && (!lower || !size)))
		return VACCEL_EINVAL;
	size_t len = strlen(str);
	char *dst = lower;
	if (alloc_lower) {
		dst = malloc(len + 1);
		if (!dst)
			return VACCEL_ENOMEM;
		*alloc_lower = dst;
	} else if (len >= size) {
		len = size - 1; /* truncate, always terminate */
	}
	for (size_t i = 0; i < len; i++)
		dst[i] = (char)tolower((unsigned char)str[i]);
	dst[len] = '\0';
	return VACCEL_OK;
}
