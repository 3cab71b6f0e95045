// Helpers for the pool tests: a memfd region whose layout holds the classes of one spec.
#ifndef TESTS_POOL_POOL_TEST_UTIL_H
#define TESTS_POOL_POOL_TEST_UTIL_H

#include <gtest/gtest.h>

#include "shm/pool.h"
#include "shm/region.h"

// A region with the pool classes of spec (plus a ring area in front, so the pool does not
// start right behind the header). NULL on failure, after reporting why.
inline vshm_region *MakePoolRegion(const char *spec)
{
	vshm_layout l;
	vshm_layout_init(&l);
	EXPECT_EQ(vshm_layout_add(&l, VSHM_AREA_RING, 0, 4096, 64, 64), 0);
	vshm_err err{};
	int ret = vshm_pool_layout_add(&l, spec, &err);
	EXPECT_EQ(ret, 0) << spec << ": " << err.msg;
	if (ret)
		return nullptr;
	vshm_opts o{};
	o.numa_cpu = -1;
	vshm_region *r = nullptr;
	EXPECT_EQ(vshm_region_create(&o, &l, &r, &err), 0) << err.msg;
	return r;
}

// A region and an allocator over it, closed in the right order.
struct PoolFixture {
	vshm_region *r = nullptr;
	vshm_pool *p = nullptr;

	explicit PoolFixture(const char *spec)
	{
		r = MakePoolRegion(spec);
		if (r) {
			EXPECT_EQ(vshm_pool_open(r, &p), 0);
		}
	}
	~PoolFixture()
	{
		vshm_pool_close(p);
		vshm_region_close(r);
	}
	bool ok() const { return p != nullptr; }
	char *base() const { return static_cast<char *>(vshm_region_base(r)); }
};

#endif
