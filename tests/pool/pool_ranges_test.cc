// Host-side range checks: [off, off + len) inside one pool area, with no overflow anywhere.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>

#include "shm/pool.h"
#include "shm/region.h"

namespace {

struct Ranges : testing::Test {
	vshm_layout l;
	vshm_pool_ranges pr;
	const vshm_area *a0 = nullptr, *a1 = nullptr, *ring = nullptr;

	void SetUp() override
	{
		vshm_layout_init(&l);
		ASSERT_EQ(vshm_layout_add(&l, VSHM_AREA_RING, 0, 4096, 64, 64), 0);
		vshm_err err{};
		ASSERT_EQ(vshm_pool_layout_add(&l, "4k:4,64k:2", &err), 0) << err.msg;
		ASSERT_EQ(vshm_layout_add(&l, VSHM_AREA_RAW, 0, 4096, 0, 0), 0);
		ASSERT_EQ(vshm_pool_ranges_init(&pr, &l), 0);
		a0 = vshm_layout_find(&l, VSHM_AREA_POOL, 0);
		a1 = vshm_layout_find(&l, VSHM_AREA_POOL, 1);
		ring = vshm_layout_find(&l, VSHM_AREA_RING, 0);
		ASSERT_NE(a0, nullptr);
		ASSERT_NE(a1, nullptr);
	}
};

TEST_F(Ranges, CollectsExactlyThePoolAreas)
{
	ASSERT_EQ(pr.n, 2u);
	EXPECT_EQ(pr.r[0].off, a0->offset);
	EXPECT_EQ(pr.r[0].end, a0->offset + a0->size);
	EXPECT_EQ(pr.r[1].off, a1->offset);
	EXPECT_EQ(pr.r[1].end, a1->offset + a1->size);
}

TEST_F(Ranges, InsideAndAtTheExactEnd)
{
	uint64_t end = a0->offset + a0->size;
	EXPECT_EQ(vshm_pool_range_ok(&pr, a0->offset, a0->size), 1) << "the whole area";
	EXPECT_EQ(vshm_pool_range_ok(&pr, a0->offset, 1), 1);
	EXPECT_EQ(vshm_pool_range_ok(&pr, end - 10, 10), 1) << "ends exactly at the area end";
	EXPECT_EQ(vshm_pool_range_ok(&pr, end - 10, 11), 0) << "one byte past the end";
	EXPECT_EQ(vshm_pool_range_ok(&pr, end - 1, 0), 1) << "empty range inside";
	EXPECT_EQ(vshm_pool_range_ok(&pr, a1->offset + 100, a1->size - 100), 1);
	EXPECT_EQ(vshm_pool_range_ok(&pr, a1->offset + a1->size, 0), 0)
		<< "empty range at the very end is outside";
}

TEST_F(Ranges, OutsideOrStraddling)
{
	EXPECT_EQ(vshm_pool_range_ok(&pr, 0, 8), 0) << "header";
	EXPECT_EQ(vshm_pool_range_ok(&pr, ring->offset, 8), 0) << "a ring is not the pool";
	EXPECT_EQ(vshm_pool_range_ok(&pr, a0->offset - 1, 2), 0) << "starts before the area";
	EXPECT_EQ(vshm_pool_range_ok(&pr, a0->offset - 1, 0), 0);
	EXPECT_EQ(vshm_pool_range_ok(&pr, a0->offset, a1->offset + a1->size - a0->offset), 0)
		<< "spans two areas (and the gap between them)";
	const vshm_area *raw = vshm_layout_find(&l, VSHM_AREA_RAW, 0);
	EXPECT_EQ(vshm_pool_range_ok(&pr, raw->offset, 1), 0);
}

TEST_F(Ranges, NoOverflow)
{
	EXPECT_EQ(vshm_pool_range_ok(&pr, UINT64_MAX - 10, 100), 0) << "off near the top, wraps";
	EXPECT_EQ(vshm_pool_range_ok(&pr, UINT64_MAX, 0), 0);
	EXPECT_EQ(vshm_pool_range_ok(&pr, a0->offset, UINT64_MAX), 0) << "len = UINT64_MAX";
	EXPECT_EQ(vshm_pool_range_ok(&pr, a0->offset + 1, UINT64_MAX), 0)
		<< "off + len wraps to just below off";
	EXPECT_EQ(vshm_pool_range_ok(&pr, a1->offset + 64, UINT64_MAX - a1->offset - 64 + 1), 0)
		<< "off + len wraps to exactly 0";
	EXPECT_EQ(vshm_pool_range_ok(&pr, a0->offset + a0->size - 1, UINT64_MAX - 200), 0);
}

TEST(RangesInit, AreaAtTheTopOfTheAddressSpace)
{
	// Not a layout a region can have, but the checks must hold for any numbers.
	vshm_layout l;
	vshm_layout_init(&l);
	l.nr_areas = 1;
	l.areas[0].kind = VSHM_AREA_POOL;
	l.areas[0].offset = UINT64_MAX - 4096;
	l.areas[0].size = 4096;
	vshm_pool_ranges pr;
	ASSERT_EQ(vshm_pool_ranges_init(&pr, &l), 0);
	EXPECT_EQ(pr.r[0].end, UINT64_MAX);
	EXPECT_EQ(vshm_pool_range_ok(&pr, UINT64_MAX - 10, 10), 1) << "ends exactly at the area end";
	EXPECT_EQ(vshm_pool_range_ok(&pr, UINT64_MAX - 10, 100), 0) << "would wrap past 2^64";
	EXPECT_EQ(vshm_pool_range_ok(&pr, UINT64_MAX - 4096, UINT64_MAX), 0);
	l.areas[0].offset = UINT64_MAX - 4095;
	EXPECT_EQ(vshm_pool_ranges_init(&pr, &l), -EINVAL) << "an area whose end overflows";
	EXPECT_EQ(pr.n, 0u);
}

TEST(RangesInit, NoPoolMeansNothingValidatesAndTooManyIsRefused)
{
	vshm_layout l;
	vshm_layout_init(&l);
	vshm_pool_ranges pr;
	ASSERT_EQ(vshm_pool_ranges_init(&pr, &l), 0);
	EXPECT_EQ(pr.n, 0u);
	EXPECT_EQ(vshm_pool_range_ok(&pr, 4096, 0), 0);
	for (uint32_t i = 0; i < 17; i++)
		ASSERT_EQ(vshm_layout_add(&l, VSHM_AREA_POOL, i, 64, 64, 1), 0);
	EXPECT_EQ(vshm_pool_ranges_init(&pr, &l), -EINVAL) << "17 pool areas";
	EXPECT_EQ(pr.n, 0u);
}

} // namespace
