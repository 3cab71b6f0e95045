// SPDX-License-Identifier: Apache-2.0
// Profiling regions; they record only when VACCEL_PROFILING_ENABLED is set.
#pragma once

#include "op.h"
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vaccel_prof_sample {
	/* CLOCK_MONOTONIC ns at region entry */
	uint64_t start;
	/* ns spent inside; UINT64_MAX while the sample is open */
	uint64_t time;
};

struct vaccel_prof_region {
	const char *name;
	bool name_owned;
	size_t nr_entries;
	struct vaccel_prof_sample *samples;
	size_t size;
};

/* start/stop/print may be called from several threads on one region. */
#define VACCEL_PROF_REGION_INIT(name) { (name), false, 0, NULL, 0 }

bool vaccel_prof_enabled(void);
int vaccel_prof_region_start(struct vaccel_prof_region *region);
int vaccel_prof_region_stop(const struct vaccel_prof_region *region);
/* Logs "[prof] <name>: total_time: N nsec nr_entries: M" at info level. */
int vaccel_prof_region_print(const struct vaccel_prof_region *region);
int vaccel_prof_region_init(struct vaccel_prof_region *region,
			    const char *name);
int vaccel_prof_region_release(struct vaccel_prof_region *region);
/* Arrays of regions, found by name (VACCEL_ENOENT if none matches). */
int vaccel_prof_regions_start_by_name(struct vaccel_prof_region *regions,
				      int nregions, const char *name);
int vaccel_prof_regions_stop_by_name(struct vaccel_prof_region *regions,
				     int nregions, const char *name);
int vaccel_prof_regions_print_all(struct vaccel_prof_region *regions,
				  int nregions);
int vaccel_prof_regions_init(struct vaccel_prof_region *regions, int nregions);
int vaccel_prof_regions_release(struct vaccel_prof_region *regions,
				int nregions);
int vaccel_prof_regions_print_all_to_buf(char **tbuf, size_t tbuf_len,
					 struct vaccel_prof_region *regions,
					 int size);
/* Nothing is buffered outside the regions: always VACCEL_OK. */
int vaccel_prof_flush(void);
/* ours: sum of closed samples, ns */
uint64_t vaccel_prof_region_total_ns(const struct vaccel_prof_region *region);

#ifdef __cplusplus
}
#endif
