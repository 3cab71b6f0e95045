// SPDX-License-Identifier: Apache-2.0
// Small helpers the torch examples share (timing, files).
#pragma once

#include <stddef.h>

/* CLOCK_MONOTONIC in seconds. */
double example_now_s(void);
/* Median of n values (sorts v in place). */
double example_median(double *v, size_t n);
/* The whole file in a malloc'ed buffer (the caller frees it); 0 or -errno. */
int example_read_file(const char *path, char **buf, size_t *len);
