// SPDX-License-Identifier: Apache-2.0
// The layout of our public structs as the C compiler sees it (layout_probe.c),
// for layout_test.cc to compare with upstream's.
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* field NULL: the struct itself (a = sizeof, b = alignment); else the field
 * (a = offsetof, b = sizeof). */
struct layout_fact {
	const char *type;
	const char *field;
	size_t a;
	size_t b;
};

extern const struct layout_fact layout_ours[];
extern const size_t layout_ours_count;

#ifdef __cplusplus
}
#endif
