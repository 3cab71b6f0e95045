/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The far side of the cross-process ring test, run as its own program (fork + exec):
 * attaches to the region by an inherited fd, at an address guaranteed to differ from the
 * parent's, reports that address in the region's RAW area, then produces or echoes items.
 *
 * usage: ring_peer FD PARENT_BASE_HEX produce|echo COUNT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "shm/region.h"
#include "transport/ring.h"

static int usage(void)
{
	fprintf(stderr, "usage: ring_peer FD PARENT_BASE_HEX produce|echo COUNT\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct vshm_region *reg;
	struct vshm_err err;
	const struct vshm_area *a, *b, *raw;
	struct vtr_ring out, in;
	void *ma, *mb;
	uint64_t *rawp;

	if (argc != 5)
		return usage();
	int fd = atoi(argv[1]);
	uintptr_t parent_base = (uintptr_t)strtoull(argv[2], NULL, 16);
	int echo = strcmp(argv[3], "echo") == 0;
	uint64_t count = strtoull(argv[4], NULL, 10);

	/* Occupy the parent's address so our mapping must land elsewhere. */
	void *block = mmap((void *)parent_base, 1 << 20, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	(void)block;
	if (vshm_region_attach_fd(fd, &reg, &err)) {
		fprintf(stderr, "ring_peer: %s\n", err.msg);
		return 1;
	}
	rawp = vshm_region_area(reg, VSHM_AREA_RAW, 0, &raw);
	ma = vshm_region_area(reg, VSHM_AREA_RING, 0, &a);
	mb = vshm_region_area(reg, VSHM_AREA_RING, 1, &b);
	if (!rawp || !ma || !mb) {
		fprintf(stderr, "ring_peer: region lacks its areas\n");
		return 1;
	}
	rawp[0] = (uint64_t)(uintptr_t)vshm_region_base(reg);
	if (vtr_ring_attach(&out, ma, a->size, a->param0, a->param1, VTR_RING_PRODUCER) ||
	    vtr_ring_attach(&in, mb, b->size, b->param0, b->param1, VTR_RING_CONSUMER)) {
		fprintf(stderr, "ring_peer: cannot attach rings\n");
		return 1;
	}
	for (uint64_t i = 0; i < count; i++) {
		uint64_t item[8];

		if (echo) {
			int n;
			while ((n = vtr_ring_pop(&in, item)) == 0)
				vshm_cpu_relax();
			if (n < 0)
				return 3;
		} else {
			for (int w = 0; w < 8; w++)
				item[w] = i * 8 + (uint64_t)w;
		}
		while (vtr_ring_push(&out, item) == 0)
			vshm_cpu_relax();
	}
	vshm_region_close(reg);
	return 0;
}
