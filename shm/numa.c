/* SPDX-License-Identifier: Apache-2.0 */
/* NUMA placement of a region: bind its pages to the node of the CPU that polls it. */
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <string.h>

#include "shm/region_internal.h"

void _vshm_numa_bind(struct vshm_region *r, int cpu)
{
	unsigned long mask[16] = {0};
	int node;

	if (numa_available() < 0) {
		snprintf(r->note, sizeof(r->note),
			 "NUMA placement unavailable (no NUMA support in this kernel); memory not bound");
		return;
	}
	node = numa_node_of_cpu(cpu);
	if (node < 0 || node >= (int)(sizeof(mask) * 8)) {
		snprintf(r->note, sizeof(r->note),
			 "NUMA placement skipped: CPU %d has no known node; memory not bound", cpu);
		return;
	}
	mask[node / (8 * sizeof(mask[0]))] = 1ul << (node % (8 * sizeof(mask[0])));
	if (mbind(r->base, r->size, MPOL_BIND, mask, sizeof(mask) * 8, 0) < 0) {
		snprintf(r->note, sizeof(r->note),
			 "NUMA placement on node %d failed (mbind: %s); memory not bound", node,
			 strerror(errno));
		return;
	}
	r->numa_node = node;
}
