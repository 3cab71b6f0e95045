/* SPDX-License-Identifier: Apache-2.0 */
/* Private to shm/: the region handle. Do not include from other layers. */
#ifndef VSHM_REGION_INTERNAL_H
#define VSHM_REGION_INTERNAL_H

#include "shm/region.h"

struct vshm_region {
	void *base;
	uint64_t size;
	int fd;
	int owner;           /* created here: writes the header, unlinks its file */
	int borrowed;        /* memory belongs to the caller (ivshmem BAR) */
	int unlink_on_close;
	int huge;
	int numa_node;
	enum vshm_check check;
	struct vshm_layout layout; /* private copy; the shared header is never trusted again */
	char path[256];
	char note[256];      /* what degraded (no NUMA, ...) for the caller to print */
};

void _vshm_err_set(struct vshm_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Binds r's pages to cpu's NUMA node; on failure leaves a note and the memory unbound. */
void _vshm_numa_bind(struct vshm_region *r, int cpu);

#endif
