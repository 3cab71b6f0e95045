// SPDX-License-Identifier: Apache-2.0
#include "example_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

double example_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int _cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double example_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), _cmp_double);
	return n ? v[n / 2] : 0;
}

int example_read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	int ret = 0;
	long n = -1;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET))
		ret = errno ? -errno : -EIO;
	char *b = ret ? NULL : malloc(n ? (size_t)n : 1);
	if (!ret && !b)
		ret = -ENOMEM;
	if (!ret && fread(b, 1, (size_t)n, f) != (size_t)n)
		ret = -EIO;
	fclose(f);
	if (ret) {
		free(b);
		return ret;
	}
	*buf = b;
	*len = (size_t)n;
	return 0;
}
