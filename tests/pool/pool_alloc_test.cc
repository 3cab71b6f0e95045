// The guest allocator: class selection, reuse, exhaustion, and every kind of misuse of free.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

#include "tests/pool/pool_test_util.h"

namespace {

TEST(PoolAlloc, PicksTheSmallestClassThatFits)
{
	PoolFixture f("64:4,4k:4,64k:2");
	ASSERT_TRUE(f.ok());
	ASSERT_EQ(vshm_pool_nr_classes(f.p), 3u);
	const struct {
		uint64_t size;
		uint32_t cls;
	} cases[] = { { 0, 0 },	   { 1, 0 },	    { 64, 0 },	       { 65, 1 },
		      { 4096, 1 }, { 4097, 2 }, { 65536, 2 } };
	for (const auto &c : cases) {
		vshm_buf b{};
		ASSERT_EQ(vshm_pool_alloc(f.p, c.size, 0, &b), 0) << "size " << c.size;
		EXPECT_EQ(b.cls, c.cls) << "size " << c.size;
		EXPECT_GE(b.cap, c.size);
		EXPECT_EQ(f.base() + b.off, b.ptr) << "off is relative to the region base";
		const vshm_area *a = vshm_layout_find(vshm_region_layout(f.r), VSHM_AREA_POOL, b.cls);
		ASSERT_NE(a, nullptr);
		EXPECT_EQ(b.off, a->offset + (uint64_t)b.idx * a->param0);
		EXPECT_EQ(b.cap, a->param0);
		memset(b.ptr, 0xab, b.cap); // the whole capacity is usable (ASan checks the mapping)
		EXPECT_EQ(vshm_pool_free(f.p, b.ptr), 0);
	}
}

TEST(PoolAlloc, TooLargeIsE2BIGNeverTruncated)
{
	PoolFixture f("64:4,4k:4");
	ASSERT_TRUE(f.ok());
	vshm_buf b{};
	EXPECT_EQ(vshm_pool_alloc(f.p, 4097, 0, &b), -E2BIG);
	EXPECT_EQ(vshm_pool_alloc(f.p, UINT64_MAX, VSHM_POOL_WAIT, &b), -E2BIG)
		<< "waiting can never help an oversized request";
	EXPECT_EQ(vshm_pool_alloc_timeout(f.p, 1ull << 40, 1000, &b), -E2BIG);
}

TEST(PoolAlloc, UnknownFlagsAreEINVAL)
{
	PoolFixture f("64:4");
	ASSERT_TRUE(f.ok());
	vshm_buf b{};
	EXPECT_EQ(vshm_pool_alloc(f.p, 8, 1 << 7, &b), -EINVAL);
}

TEST(PoolAlloc, FreedBufferIsReusedFirst)
{
	PoolFixture f("4k:8");
	ASSERT_TRUE(f.ok());
	vshm_buf a{}, b{}, c{};
	ASSERT_EQ(vshm_pool_alloc(f.p, 100, 0, &a), 0);
	ASSERT_EQ(vshm_pool_alloc(f.p, 100, 0, &b), 0);
	EXPECT_NE(a.ptr, b.ptr);
	EXPECT_EQ(vshm_pool_free(f.p, a.ptr), 0);
	ASSERT_EQ(vshm_pool_alloc(f.p, 100, 0, &c), 0);
	EXPECT_EQ(c.ptr, a.ptr) << "LIFO reuse keeps the hottest buffer in use";
	EXPECT_EQ(c.idx, a.idx);
	EXPECT_EQ(vshm_pool_free(f.p, b.ptr), 0);
	EXPECT_EQ(vshm_pool_free(f.p, c.ptr), 0);
}

TEST(PoolAlloc, ExhaustionFallsBackToLargerThenENOMEM)
{
	PoolFixture f("64:2,4k:1");
	ASSERT_TRUE(f.ok());
	std::vector<vshm_buf> got;
	std::set<void *> seen;
	vshm_buf b{};
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(vshm_pool_alloc(f.p, 10, 0, &b), 0) << "allocation " << i;
		EXPECT_EQ(b.cls, i < 2 ? 0u : 1u) << "third small request spills into the 4k class";
		EXPECT_TRUE(seen.insert(b.ptr).second) << "buffer handed out twice";
		got.push_back(b);
	}
	EXPECT_EQ(vshm_pool_alloc(f.p, 10, 0, &b), -ENOMEM);
	EXPECT_EQ(vshm_pool_alloc(f.p, 4096, 0, &b), -ENOMEM);
	EXPECT_EQ(vshm_pool_alloc_timeout(f.p, 10, 20, &b), -ETIMEDOUT);
	uint32_t nr_free = 99;
	ASSERT_EQ(vshm_pool_class_info(f.p, 0, nullptr, nullptr, &nr_free), 0);
	EXPECT_EQ(nr_free, 0u);
	// A free in the small class serves a small request but not a large one.
	ASSERT_EQ(vshm_pool_free(f.p, got[0].ptr), 0);
	EXPECT_EQ(vshm_pool_alloc(f.p, 4096, 0, &b), -ENOMEM);
	ASSERT_EQ(vshm_pool_alloc(f.p, 10, 0, &b), 0);
	EXPECT_EQ(b.ptr, got[0].ptr);
	ASSERT_EQ(vshm_pool_free(f.p, b.ptr), 0);
	for (size_t i = 1; i < got.size(); i++)
		EXPECT_EQ(vshm_pool_free(f.p, got[i].ptr), 0);
	for (uint32_t c = 0; c < 2; c++) {
		uint32_t count = 0;
		ASSERT_EQ(vshm_pool_class_info(f.p, c, nullptr, &count, &nr_free), 0);
		EXPECT_EQ(nr_free, count) << "class " << c << " is whole again";
	}
	EXPECT_EQ(vshm_pool_class_info(f.p, 2, nullptr, nullptr, nullptr), -EINVAL);
}

TEST(PoolAlloc, DoubleFreeIsEALREADYAndHarmless)
{
	PoolFixture f("64:2");
	ASSERT_TRUE(f.ok());
	vshm_buf a{}, b{}, c{};
	ASSERT_EQ(vshm_pool_alloc(f.p, 8, 0, &a), 0);
	ASSERT_EQ(vshm_pool_free(f.p, a.ptr), 0);
	EXPECT_EQ(vshm_pool_free(f.p, a.ptr), -EALREADY);
	// Had the second free pushed the buffer again, both allocations would get it.
	ASSERT_EQ(vshm_pool_alloc(f.p, 8, 0, &b), 0);
	ASSERT_EQ(vshm_pool_alloc(f.p, 8, 0, &c), 0);
	EXPECT_NE(b.ptr, c.ptr);
	EXPECT_EQ(vshm_pool_alloc(f.p, 8, 0, &a), -ENOMEM);
	// A buffer that was never handed out is not allocated either.
	ASSERT_EQ(vshm_pool_free(f.p, b.ptr), 0);
	EXPECT_EQ(vshm_pool_free(f.p, b.ptr), -EALREADY);
	EXPECT_EQ(vshm_pool_free(f.p, c.ptr), 0);
	EXPECT_STREQ(vshm_pool_strerror(-EALREADY), "pool buffer is not allocated (double free)");
}

TEST(PoolAlloc, ForeignAndMiddlePointersAreEINVALAndHarmless)
{
	PoolFixture f("64:2,4k:2");
	PoolFixture other("64:2,4k:2");
	ASSERT_TRUE(f.ok());
	ASSERT_TRUE(other.ok());
	vshm_buf a{}, o{};
	ASSERT_EQ(vshm_pool_alloc(f.p, 4096, 0, &a), 0);
	ASSERT_EQ(vshm_pool_alloc(other.p, 4096, 0, &o), 0);

	int local = 0;
	void *heap = malloc(64);
	EXPECT_EQ(vshm_pool_free(f.p, nullptr), -EINVAL);
	EXPECT_EQ(vshm_pool_free(f.p, &local), -EINVAL) << "stack memory";
	EXPECT_EQ(vshm_pool_free(f.p, heap), -EINVAL) << "heap memory";
	EXPECT_EQ(vshm_pool_free(f.p, f.base()), -EINVAL) << "the region header";
	EXPECT_EQ(vshm_pool_free(f.p, static_cast<char *>(a.ptr) + 1), -EINVAL) << "middle";
	EXPECT_EQ(vshm_pool_free(f.p, static_cast<char *>(a.ptr) + 64), -EINVAL)
		<< "a 64-byte step inside a 4k buffer";
	EXPECT_EQ(vshm_pool_free(f.p, static_cast<char *>(a.ptr) + 2 * a.cap), -EINVAL)
		<< "just past the last buffer of the class";
	EXPECT_EQ(vshm_pool_free(f.p, o.ptr), -EINVAL) << "another region's pool buffer";
	EXPECT_EQ(vshm_pool_free(other.p, a.ptr), -EINVAL);
	free(heap);

	// Nothing above changed either pool: a is still allocated, and each frees exactly once.
	uint64_t off = 0;
	EXPECT_EQ(vshm_pool_find(f.p, a.ptr, 1, &off), 0);
	EXPECT_EQ(vshm_pool_free(f.p, a.ptr), 0);
	EXPECT_EQ(vshm_pool_free(f.p, a.ptr), -EALREADY);
	EXPECT_EQ(vshm_pool_free(other.p, o.ptr), 0);
}

TEST(PoolFind, InsideOneAllocatedBufferOnly)
{
	PoolFixture f("64:4,4k:4");
	ASSERT_TRUE(f.ok());
	vshm_buf a{}, b{};
	ASSERT_EQ(vshm_pool_alloc(f.p, 4096, 0, &a), 0);
	ASSERT_EQ(vshm_pool_alloc(f.p, 4096, 0, &b), 0);
	ASSERT_EQ(static_cast<char *>(b.ptr), static_cast<char *>(a.ptr) + a.cap)
		<< "the test wants two neighbouring buffers";
	char *p = static_cast<char *>(a.ptr);
	uint64_t off = 0;

	EXPECT_EQ(vshm_pool_find(f.p, p, a.cap, &off), 0) << "the whole buffer";
	EXPECT_EQ(off, a.off);
	EXPECT_EQ(vshm_pool_find(f.p, p + 100, 200, &off), 0) << "a slice";
	EXPECT_EQ(off, a.off + 100);
	EXPECT_EQ(vshm_pool_find(f.p, p + a.cap - 1, 1, &off), 0) << "the last byte";
	EXPECT_EQ(vshm_pool_find(f.p, p + 10, 0, &off), 0) << "empty range inside";
	EXPECT_EQ(off, a.off + 10);

	off = 12345;
	EXPECT_EQ(vshm_pool_find(f.p, p + a.cap - 1, 2, &off), -ENOENT)
		<< "straddles two buffers, even though both are allocated";
	EXPECT_EQ(vshm_pool_find(f.p, p, a.cap + 1, &off), -ENOENT);
	EXPECT_EQ(vshm_pool_find(f.p, p + 1, UINT64_MAX, &off), -ENOENT) << "len would wrap";
	EXPECT_EQ(vshm_pool_find(f.p, f.base(), 8, &off), -ENOENT) << "region header";
	int local = 0;
	EXPECT_EQ(vshm_pool_find(f.p, &local, sizeof(local), &off), -ENOENT) << "outside";
	char *past = static_cast<char *>(b.ptr) + 3 * b.cap; // past the 4k class's last buffer
	EXPECT_EQ(vshm_pool_find(f.p, past, 0, &off), -ENOENT);
	EXPECT_EQ(off, 12345u) << "*off untouched on failure";

	// Free buffers are not "in the pool" for zero copy: their contents may be reused.
	char *free_small = f.base() + vshm_layout_find(vshm_region_layout(f.r), VSHM_AREA_POOL, 0)->offset;
	EXPECT_EQ(vshm_pool_find(f.p, free_small, 8, &off), -ENOENT) << "never allocated";
	ASSERT_EQ(vshm_pool_free(f.p, b.ptr), 0);
	EXPECT_EQ(vshm_pool_find(f.p, b.ptr, 8, &off), -ENOENT) << "freed";
	ASSERT_EQ(vshm_pool_free(f.p, a.ptr), 0);
}

TEST(PoolOpen, RefusesMissingOrMalformedClasses)
{
	struct Case {
		const char *name;
		uint32_t index, param0, param1;
		uint64_t size;
	};
	const Case cases[] = {
		{ "zero_size", 0, 0, 1, 4096 },
		{ "not_64", 0, 100, 1, 4096 },
		{ "not_page", 0, 4160, 1, 8192 },
		{ "zero_count", 0, 64, 0, 4096 },
		{ "overflows_area", 0, 4096, 2, 4096 },
		{ "gap_in_numbering", 1, 64, 1, 4096 },
		{ "index_too_large", 16, 64, 1, 4096 },
	};
	for (const Case &c : cases) {
		vshm_layout l;
		vshm_layout_init(&l);
		ASSERT_EQ(vshm_layout_add(&l, VSHM_AREA_POOL, c.index, c.size, c.param0, c.param1), 0);
		vshm_opts o{};
		o.numa_cpu = -1;
		vshm_region *r = nullptr;
		vshm_err err{};
		ASSERT_EQ(vshm_region_create(&o, &l, &r, &err), 0) << err.msg;
		vshm_pool *p = reinterpret_cast<vshm_pool *>(1);
		EXPECT_EQ(vshm_pool_open(r, &p), -EINVAL) << c.name;
		EXPECT_EQ(p, nullptr) << c.name;
		vshm_region_close(r);
	}
	// Sizes that do not grow with the class number.
	vshm_layout l;
	vshm_layout_init(&l);
	ASSERT_EQ(vshm_layout_add(&l, VSHM_AREA_POOL, 0, 8192, 4096, 2), 0);
	ASSERT_EQ(vshm_layout_add(&l, VSHM_AREA_POOL, 1, 4096, 64, 64), 0);
	vshm_opts o{};
	o.numa_cpu = -1;
	vshm_region *r = nullptr;
	vshm_err err{};
	ASSERT_EQ(vshm_region_create(&o, &l, &r, &err), 0) << err.msg;
	vshm_pool *p = nullptr;
	EXPECT_EQ(vshm_pool_open(r, &p), -EINVAL) << "decreasing sizes";
	vshm_region_close(r);
	// No pool at all.
	vshm_layout_init(&l);
	ASSERT_EQ(vshm_layout_add(&l, VSHM_AREA_RING, 0, 4096, 64, 64), 0);
	ASSERT_EQ(vshm_region_create(&o, &l, &r, &err), 0) << err.msg;
	EXPECT_EQ(vshm_pool_open(r, &p), -EINVAL) << "no pool classes";
	vshm_region_close(r);
}

TEST(PoolOpen, GuestAttachedByFdAllocatesOffsetsTheHostSees)
{
	vshm_region *host = MakePoolRegion("4k:4,64k:2");
	ASSERT_NE(host, nullptr);
	vshm_region *guest = nullptr;
	vshm_err err{};
	ASSERT_EQ(vshm_region_attach_fd(vshm_region_fd(host), &guest, &err), 0) << err.msg;
	vshm_pool *p = nullptr;
	ASSERT_EQ(vshm_pool_open(guest, &p), 0);
	vshm_buf b{};
	ASSERT_EQ(vshm_pool_alloc(p, 5000, 0, &b), 0);
	strcpy(static_cast<char *>(b.ptr), "tensor");
	EXPECT_STREQ(static_cast<char *>(vshm_region_base(host)) + b.off, "tensor")
		<< "the offset, not the pointer, is what both sides share";
	EXPECT_EQ(vshm_pool_free(p, b.ptr), 0);
	vshm_pool_close(p);
	vshm_region_close(guest);
	vshm_region_close(host);
}

} // namespace
