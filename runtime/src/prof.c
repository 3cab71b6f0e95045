// SPDX-License-Identifier: Apache-2.0
// Profiling regions. Disabled regions cost one relaxed load per call.
#include "rt.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool rt_prof_on;

#define RT_OP_REGION(t) [t] = VACCEL_PROF_REGION_INIT(#t)
struct vaccel_prof_region rt_op_prof[VACCEL_OP_MAX] = {
	RT_OP_REGION(VACCEL_OP_NOOP),
	RT_OP_REGION(VACCEL_OP_EXEC),
	RT_OP_REGION(VACCEL_OP_EXEC_WITH_RESOURCE),
	RT_OP_REGION(VACCEL_OP_BLAS_SGEMM),
};

void rt_prof_set_enabled(bool on)
{
	__atomic_store_n(&rt_prof_on, on, __ATOMIC_RELAXED);
}

bool vaccel_prof_enabled(void)
{
	return __atomic_load_n(&rt_prof_on, __ATOMIC_RELAXED);
}

static uint64_t _now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int vaccel_prof_region_init(struct vaccel_prof_region *region,
			    const char *name)
{
	if (!region || !name)
		return VACCEL_EINVAL;
	char *n = strdup(name);
	if (!n)
		return VACCEL_ENOMEM;
	region->name = n;
	region->name_owned = true;
	region->nr_entries = 0;
	region->samples = NULL;
	region->size = 0;
	pthread_mutex_init(&region->lock, NULL);
	return VACCEL_OK;
}

int vaccel_prof_region_release(struct vaccel_prof_region *region)
{
	if (!region)
		return VACCEL_EINVAL;
	pthread_mutex_lock(&region->lock);
	free(region->samples);
	region->samples = NULL;
	region->nr_entries = 0;
	region->size = 0;
	if (region->name_owned) {
		free((char *)region->name);
		region->name = NULL;
		region->name_owned = false;
	}
	pthread_mutex_unlock(&region->lock);
	return VACCEL_OK;
}

int vaccel_prof_region_start(struct vaccel_prof_region *region)
{
	if (!vaccel_prof_enabled())
		return VACCEL_OK;
	if (!region)
		return VACCEL_EINVAL;

	uint64_t t = _now_ns();
	int ret = VACCEL_OK;
	pthread_mutex_lock(&region->lock);
	if (region->nr_entries == region->size) {
		size_t nsize = region->size ? region->size * 2 : 64;
		struct vaccel_prof_sample *s =
			realloc(region->samples, nsize * sizeof(*s));
		if (!s) {
			ret = VACCEL_ENOMEM;
			goto out;
		}
		region->samples = s;
		region->size = nsize;
	}
	region->samples[region->nr_entries].start = t;
	region->samples[region->nr_entries].time = UINT64_MAX;
	region->nr_entries++;
out:
	pthread_mutex_unlock(&region->lock);
	return ret;
}

int vaccel_prof_region_stop(struct vaccel_prof_region *region)
{
	if (!vaccel_prof_enabled())
		return VACCEL_OK;
	if (!region)
		return VACCEL_EINVAL;

	uint64_t t = _now_ns();
	int ret = VACCEL_ENOENT;
	pthread_mutex_lock(&region->lock);
	/* Close the newest open sample: exact for one thread, and a fair
	 * approximation when threads interleave on one region. */
	for (size_t i = region->nr_entries; i-- > 0;) {
		if (region->samples[i].time == UINT64_MAX) {
			region->samples[i].time = t - region->samples[i].start;
			ret = VACCEL_OK;
			break;
		}
	}
	pthread_mutex_unlock(&region->lock);
	return ret;
}

uint64_t vaccel_prof_region_total_ns(struct vaccel_prof_region *region)
{
	uint64_t total = 0;
	if (!region)
		return 0;
	pthread_mutex_lock(&region->lock);
	for (size_t i = 0; i < region->nr_entries; i++)
		if (region->samples[i].time != UINT64_MAX)
			total += region->samples[i].time;
	pthread_mutex_unlock(&region->lock);
	return total;
}

int vaccel_prof_region_print(struct vaccel_prof_region *region)
{
	if (!region)
		return VACCEL_EINVAL;
	if (!vaccel_prof_enabled())
		return VACCEL_OK;
	uint64_t total = vaccel_prof_region_total_ns(region);
	pthread_mutex_lock(&region->lock);
	size_t n = region->nr_entries;
	const char *name = region->name ? region->name : "(unnamed)";
	pthread_mutex_unlock(&region->lock);
	if (n)
		vaccel_info("[prof] %s: total_time: %" PRIu64
			    " nsec nr_entries: %zu",
			    name, total, n);
	return VACCEL_OK;
}

static struct vaccel_prof_region *_by_name(struct vaccel_prof_region *regions,
					   int n, const char *name)
{
	if (!regions || !name)
		return NULL;
	for (int i = 0; i < n; i++)
		if (regions[i].name && !strcmp(regions[i].name, name))
			return &regions[i];
	return NULL;
}

int vaccel_prof_regions_start_by_name(struct vaccel_prof_region *regions,
				      int nregions, const char *name)
{
	struct vaccel_prof_region *r = _by_name(regions, nregions, name);
	return r ? vaccel_prof_region_start(r) : VACCEL_ENOENT;
}

int vaccel_prof_regions_stop_by_name(struct vaccel_prof_region *regions,
				     int nregions, const char *name)
{
	struct vaccel_prof_region *r = _by_name(regions, nregions, name);
	return r ? vaccel_prof_region_stop(r) : VACCEL_ENOENT;
}

int vaccel_prof_regions_print_all(struct vaccel_prof_region *regions,
				  int nregions)
{
	if (!regions || nregions < 0)
		return VACCEL_EINVAL;
	for (int i = 0; i < nregions; i++)
		vaccel_prof_region_print(&regions[i]);
	return VACCEL_OK;
}

int vaccel_prof_regions_release(struct vaccel_prof_region *regions,
				int nregions)
{
	if (!regions || nregions < 0)
		return VACCEL_EINVAL;
	for (int i = 0; i < nregions; i++)
		vaccel_prof_region_release(&regions[i]);
	return VACCEL_OK;
}

int vaccel_prof_flush(void)
{
	return VACCEL_OK;
}

void rt_prof_ops_flush(void)
{
	for (int i = 0; i < VACCEL_OP_MAX; i++) {
		if (!rt_op_prof[i].name)
			continue;
		vaccel_prof_region_print(&rt_op_prof[i]);
		pthread_mutex_lock(&rt_op_prof[i].lock);
		free(rt_op_prof[i].samples);
		rt_op_prof[i].samples = NULL;
		rt_op_prof[i].nr_entries = 0;
		rt_op_prof[i].size = 0;
		pthread_mutex_unlock(&rt_op_prof[i].lock);
	}
}
