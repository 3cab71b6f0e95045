// SPDX-License-Identifier: Apache-2.0
// Profiling regions. Disabled regions cost one relaxed load per call.
#include "rt.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool rt_prof_on;

/* Upstream's region has no lock of its own (its layout is the ABI), so
 * regions share a small table of locks picked by address. */
enum { RT_PROF_LOCKS = 16 };
static pthread_mutex_t rt_prof_locks[RT_PROF_LOCKS] = {
	[0 ... RT_PROF_LOCKS - 1] = PTHREAD_MUTEX_INITIALIZER
};

static pthread_mutex_t *_lock(const struct vaccel_prof_region *region)
{
	return &rt_prof_locks[((uintptr_t)region / sizeof(*region)) %
			      RT_PROF_LOCKS];
}

/* one region per op type, named after it */
#define RT_OP_REGION(NAME, ...) \
	[VACCEL_OP_##NAME] = VACCEL_PROF_REGION_INIT("VACCEL_OP_" #NAME),
struct vaccel_prof_region rt_op_prof[VACCEL_OP_MAX] = {
	VACCEL_OP_TYPE_ENUM_LIST(RT_OP_REGION)
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
	return VACCEL_OK;
}

int vaccel_prof_region_release(struct vaccel_prof_region *region)
{
	if (!region)
		return VACCEL_EINVAL;
	pthread_mutex_lock(_lock(region));
	free(region->samples);
	region->samples = NULL;
	region->nr_entries = 0;
	region->size = 0;
	if (region->name_owned) {
		free((char *)region->name);
		region->name = NULL;
		region->name_owned = false;
	}
	pthread_mutex_unlock(_lock(region));
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
	pthread_mutex_lock(_lock(region));
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
	pthread_mutex_unlock(_lock(region));
	return ret;
}

int vaccel_prof_region_stop(const struct vaccel_prof_region *region)
{
	if (!vaccel_prof_enabled())
		return VACCEL_OK;
	if (!region)
		return VACCEL_EINVAL;

	uint64_t t = _now_ns();
	int ret = VACCEL_ENOENT;
	pthread_mutex_lock(_lock(region));
	/* Close the newest open sample: exact for one thread, and a fair
	 * approximation when threads interleave on one region. */
	for (size_t i = region->nr_entries; i-- > 0;) {
		if (region->samples[i].time == UINT64_MAX) {
			region->samples[i].time = t - region->samples[i].start;
			ret = VACCEL_OK;
			break;
		}
	}
	pthread_mutex_unlock(_lock(region));
	return ret;
}

uint64_t vaccel_prof_region_total_ns(const struct vaccel_prof_region *region)
{
	uint64_t total = 0;
	if (!region)
		return 0;
	pthread_mutex_lock(_lock(region));
	for (size_t i = 0; i < region->nr_entries; i++)
		if (region->samples[i].time != UINT64_MAX)
			total += region->samples[i].time;
	pthread_mutex_unlock(_lock(region));
	return total;
}

int vaccel_prof_region_print(const struct vaccel_prof_region *region)
{
	if (!region)
		return VACCEL_EINVAL;
	if (!vaccel_prof_enabled())
		return VACCEL_OK;
	uint64_t total = vaccel_prof_region_total_ns(region);
	pthread_mutex_lock(_lock(region));
	size_t n = region->nr_entries;
	const char *name = region->name ? region->name : "(unnamed)";
	pthread_mutex_unlock(_lock(region));
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

int vaccel_prof_regions_init(struct vaccel_prof_region *regions, int nregions)
{
	if (!regions || nregions < 0)
		return VACCEL_EINVAL;
	for (int i = 0; i < nregions; i++)
		regions[i] = (struct vaccel_prof_region)VACCEL_PROF_REGION_INIT(
			NULL);
	return VACCEL_OK;
}

/* "[prof] <name>: total_time: N nsec nr_entries: M" of each region with
 * samples, each terminated by a NUL, into a malloc'ed *tbuf of tbuf_len
 * bytes. Returns the bytes needed when tbuf is NULL, else the bytes written,
 * or -VACCEL_E*. */
int vaccel_prof_regions_print_all_to_buf(char **tbuf, size_t tbuf_len,
					 struct vaccel_prof_region *regions,
					 int size)
{
	if (!vaccel_prof_enabled())
		return 0;
	if (!regions || size < 0)
		return -VACCEL_EINVAL;
	char *buf = NULL;
	if (tbuf) {
		buf = malloc(tbuf_len ? tbuf_len : 1);
		if (!buf)
			return -VACCEL_ENOMEM;
		buf[0] = '\0';
		*tbuf = buf;
	}
	size_t used = 0;
	for (int i = 0; i < size; i++) {
		if (!regions[i].nr_entries)
			continue;
		uint64_t total = vaccel_prof_region_total_ns(&regions[i]);
		size_t room = buf && used < tbuf_len ? tbuf_len - used : 0;
		int n = snprintf(buf ? buf + used : NULL, room,
				 "[prof] %s: total_time: %" PRIu64
				 " nsec nr_entries: %zu",
				 regions[i].name ? regions[i].name : "(unnamed)",
				 total, regions[i].nr_entries);
		if (n < 0)
			return -VACCEL_EINVAL;
		used += (size_t)n + 1;
	}
	if (buf && used > tbuf_len)
		used = tbuf_len;
	return (int)used;
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
		pthread_mutex_lock(_lock(&rt_op_prof[i]));
		free(rt_op_prof[i].samples);
		rt_op_prof[i].samples = NULL;
		rt_op_prof[i].nr_entries = 0;
		rt_op_prof[i].size = 0;
		pthread_mutex_unlock(_lock(&rt_op_prof[i]));
	}
}
