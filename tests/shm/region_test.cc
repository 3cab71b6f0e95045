// The shared region: create/attach through every path, and every header validation error
// produced by corrupting a real header that a real creator wrote.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>

#include "shm/region.h"

namespace {

vshm_region *MakeRegion(uint64_t pool = 1 << 16)
{
	vshm_layout l;
	vshm_layout_init(&l);
	EXPECT_EQ(vshm_layout_add(&l, VSHM_AREA_RING, 0, 4096, 8, 64), 0);
	EXPECT_EQ(vshm_layout_add(&l, VSHM_AREA_RING, 1, 4096, 8, 64), 0);
	EXPECT_EQ(vshm_layout_add(&l, VSHM_AREA_POOL, 0, pool, 0, 0), 0);
	vshm_opts o{};
	o.numa_cpu = -1;
	vshm_region *r = nullptr;
	vshm_err err{};
	EXPECT_EQ(vshm_region_create(&o, &l, &r, &err), 0) << err.msg;
	return r;
}

TEST(Region, CreateThenAttachByFdSeesSameLayout)
{
	vshm_region *r = MakeRegion();
	ASSERT_NE(r, nullptr);
	vshm_region *g = nullptr;
	vshm_err err{};
	ASSERT_EQ(vshm_region_attach_fd(vshm_region_fd(r), &g, &err), 0) << err.msg;
	EXPECT_NE(vshm_region_base(g), vshm_region_base(r)) << "a second mapping";
	const vshm_layout *a = vshm_region_layout(r), *b = vshm_region_layout(g);
	ASSERT_EQ(a->nr_areas, 3u);
	ASSERT_EQ(b->nr_areas, 3u);
	EXPECT_EQ(memcmp(a->areas, b->areas, 3 * sizeof(vshm_area)), 0);
	EXPECT_EQ(b->region_size, vshm_region_size(r));
	// A write through one mapping is seen through the other, at the same offset.
	const vshm_area *pa;
	auto *p1 = static_cast<char *>(vshm_region_area(r, VSHM_AREA_POOL, 0, &pa));
	auto *p2 = static_cast<char *>(vshm_region_area(g, VSHM_AREA_POOL, 0, nullptr));
	ASSERT_NE(p1, nullptr);
	strcpy(p1 + 100, "hello");
	EXPECT_STREQ(p2 + 100, "hello");
	EXPECT_EQ(pa->offset % 4096, 0u) << "large areas are page aligned";
	vshm_region_close(g);
	vshm_region_close(r);
}

TEST(Region, FileBackedRegionAttachByPathAndUnlinkOnClose)
{
	const char *tmp = getenv("TEST_TMPDIR");
	std::string path = std::string(tmp ? tmp : "/tmp") + "/region-" + std::to_string(getpid());
	vshm_layout l;
	vshm_layout_init(&l);
	ASSERT_EQ(vshm_layout_add(&l, VSHM_AREA_POOL, 0, 1 << 20, 0, 0), 0);
	vshm_opts o{};
	o.backing = VSHM_BACK_FILE;
	o.path = path.c_str();
	o.numa_cpu = -1;
	o.pow2 = 1;
	vshm_region *r = nullptr, *g = nullptr;
	vshm_err err{};
	ASSERT_EQ(vshm_region_create(&o, &l, &r, &err), 0) << err.msg;
	uint64_t sz = vshm_region_size(r);
	EXPECT_EQ(sz & (sz - 1), 0u) << "pow2 rounds the size up to a power of two: " << sz;
	EXPECT_EQ(vshm_region_create(&o, &l, &g, &err), -EEXIST) << "the file must not be reused";
	EXPECT_NE(std::string(err.msg).find(path), std::string::npos) << err.msg;
	ASSERT_EQ(vshm_region_attach_path(path.c_str(), &g, &err), 0) << err.msg;
	vshm_region_close(g);
	vshm_region_close(r);
	EXPECT_NE(access(path.c_str(), F_OK), 0) << "creator removes its file";
	EXPECT_EQ(vshm_region_attach_path(path.c_str(), &g, &err), -ENOENT);
}

TEST(Region, AttachCallerMemoryLikeABar)
{
	vshm_region *r = MakeRegion();
	vshm_region *g = nullptr;
	vshm_err err{};
	ASSERT_EQ(vshm_region_attach_mem(vshm_region_base(r), vshm_region_size(r), &g, &err), 0)
		<< err.msg;
	EXPECT_EQ(vshm_region_base(g), vshm_region_base(r));
	vshm_region_close(g); // must not unmap the caller's memory
	EXPECT_EQ(vshm_region_header(r)->magic, VSHM_MAGIC);
	vshm_region_close(r);
}

TEST(Region, LayoutTooLargeForRegionIsRefused)
{
	vshm_layout l;
	vshm_layout_init(&l);
	ASSERT_EQ(vshm_layout_add(&l, VSHM_AREA_POOL, 0, 1 << 20, 0, 0), 0);
	vshm_opts o{};
	o.size = 8192;
	o.numa_cpu = -1;
	vshm_region *r = nullptr;
	vshm_err err{};
	EXPECT_EQ(vshm_region_create(&o, &l, &r, &err), -EINVAL);
	EXPECT_NE(std::string(err.msg).find("cannot hold"), std::string::npos) << err.msg;
}

TEST(Region, LayoutBuilderRefusesBadAreas)
{
	vshm_layout l;
	vshm_layout_init(&l);
	EXPECT_EQ(vshm_layout_add(&l, (vshm_area_kind)0, 0, 64, 0, 0), -EINVAL);
	EXPECT_EQ(vshm_layout_add(&l, VSHM_AREA_RING, 0, 0, 0, 0), -EINVAL);
	ASSERT_EQ(vshm_layout_add(&l, VSHM_AREA_RING, 0, 64, 0, 0), 0);
	EXPECT_EQ(vshm_layout_add(&l, VSHM_AREA_RING, 0, 64, 0, 0), -EEXIST);
	for (uint32_t i = 1; i < VSHM_MAX_AREAS; i++)
		ASSERT_EQ(vshm_layout_add(&l, VSHM_AREA_RAW, i, 64, 0, 0), 0);
	EXPECT_EQ(vshm_layout_add(&l, VSHM_AREA_RAW, 999, 64, 0, 0), -ENOSPC);
}

// Corrupts a copy of a real header in one way and checks the exact error and message.
struct Corruption {
	const char *name;
	std::function<void(vshm_header *, uint64_t size)> mutate;
	vshm_check expect;
};

class HeaderCorruption : public testing::TestWithParam<Corruption> {};

TEST_P(HeaderCorruption, IsRejectedWithItsOwnError)
{
	const Corruption &c = GetParam();
	vshm_region *r = MakeRegion();
	ASSERT_NE(r, nullptr);
	c.mutate(vshm_region_header(r), vshm_region_size(r));
	EXPECT_EQ(vshm_header_check(vshm_region_base(r), vshm_region_size(r), nullptr), c.expect)
		<< c.name;
	vshm_region *g = nullptr;
	vshm_err err{};
	EXPECT_EQ(vshm_region_attach_fd(vshm_region_fd(r), &g, &err), -EPROTO) << c.name;
	EXPECT_EQ(g, nullptr);
	EXPECT_NE(std::string(err.msg).find(vshm_check_str(c.expect)), std::string::npos)
		<< "message should say why: " << err.msg;
	vshm_region_close(r);
}

const Corruption kCorruptions[] = {
	{"magic", [](vshm_header *h, uint64_t) { h->magic ^= 1; }, VSHM_E_MAGIC},
	{"version", [](vshm_header *h, uint64_t) { h->version = 99; }, VSHM_E_VERSION},
	{"header_size", [](vshm_header *h, uint64_t) { h->header_size = 128; }, VSHM_E_HEADER_SIZE},
	{"region_size_larger", [](vshm_header *h, uint64_t s) { h->region_size = s + 4096; },
	 VSHM_E_REGION_SIZE},
	{"region_size_tiny", [](vshm_header *h, uint64_t) { h->region_size = 100; }, VSHM_E_REGION_SIZE},
	{"features", [](vshm_header *h, uint64_t) { h->features |= 1ull << 63; }, VSHM_E_FEATURES},
	{"area_count", [](vshm_header *h, uint64_t) { h->nr_areas = VSHM_MAX_AREAS + 1; },
	 VSHM_E_AREA_COUNT},
	{"area_kind", [](vshm_header *h, uint64_t) { h->areas[1].kind = 77; }, VSHM_E_AREA_KIND},
	{"area_align", [](vshm_header *h, uint64_t) { h->areas[2].offset += 8; }, VSHM_E_AREA_ALIGN},
	{"area_past_end", [](vshm_header *h, uint64_t s) { h->areas[2].size = s; }, VSHM_E_AREA_BOUNDS},
	{"area_overflow",
	 [](vshm_header *h, uint64_t) { h->areas[2].size = ~0ull - h->areas[2].offset + 64; },
	 VSHM_E_AREA_BOUNDS},
	{"area_over_header", [](vshm_header *h, uint64_t) { h->areas[0].offset = 0; }, VSHM_E_AREA_BOUNDS},
	{"area_zero_size", [](vshm_header *h, uint64_t) { h->areas[0].size = 0; }, VSHM_E_AREA_BOUNDS},
	{"area_overlap", [](vshm_header *h, uint64_t) { h->areas[1].offset = h->areas[0].offset + 64; },
	 VSHM_E_AREA_OVERLAP},
	{"area_dup", [](vshm_header *h, uint64_t) { h->areas[1].index = 0; }, VSHM_E_AREA_DUP},
};

INSTANTIATE_TEST_SUITE_P(Header, HeaderCorruption, testing::ValuesIn(kCorruptions),
			 [](const testing::TestParamInfo<Corruption> &i) { return i.param.name; });

TEST(Region, TruncatedMappingIsRejected)
{
	int fd = memfd_create("tiny", 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, 1024), 0);
	vshm_region *g = nullptr;
	vshm_err err{};
	EXPECT_EQ(vshm_region_attach_fd(fd, &g, &err), -EPROTO);
	EXPECT_NE(std::string(err.msg).find(vshm_check_str(VSHM_E_TRUNCATED)), std::string::npos)
		<< err.msg;
	char buf[64] = {};
	EXPECT_EQ(vshm_header_check(buf, sizeof(buf), nullptr), VSHM_E_TRUNCATED);
	close(fd);
}

TEST(Region, UninitialisedRegionSaysMagic)
{
	int fd = memfd_create("blank", 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, 1 << 16), 0);
	vshm_region *g = nullptr;
	vshm_err err{};
	EXPECT_EQ(vshm_region_attach_fd(fd, &g, &err), -EPROTO);
	EXPECT_NE(std::string(err.msg).find("magic"), std::string::npos) << err.msg;
	close(fd);
}

TEST(Region, HugePagesEitherWorkOrSayWhy)
{
	vshm_layout l;
	vshm_layout_init(&l);
	ASSERT_EQ(vshm_layout_add(&l, VSHM_AREA_POOL, 0, 1 << 20, 0, 0), 0);
	vshm_opts o{};
	o.backing = VSHM_BACK_HUGE_MEMFD;
	o.numa_cpu = -1;
	vshm_region *r = nullptr;
	vshm_err err{};
	int ret = vshm_region_create(&o, &l, &r, &err);
	if (ret == 0) {
		EXPECT_TRUE(vshm_region_hugepages(r));
		vshm_region *g = nullptr;
		ASSERT_EQ(vshm_region_attach_fd(vshm_region_fd(r), &g, &err), 0) << err.msg;
		EXPECT_TRUE(vshm_region_hugepages(g)) << "feature bit tells the attacher";
		vshm_region_close(g);
		vshm_region_close(r);
	} else {
		EXPECT_NE(std::string(err.msg).find("huge"), std::string::npos) << err.msg;
	}
	// With fallback the region always comes up; without huge pages it says so in its note.
	o.huge_fallback = 1;
	ASSERT_EQ(vshm_region_create(&o, &l, &r, &err), 0) << err.msg;
	if (!vshm_region_hugepages(r)) {
		EXPECT_NE(std::string(vshm_region_note(r)).find("huge pages unavailable"),
			  std::string::npos)
			<< vshm_region_note(r);
	}
	vshm_region_close(r);
}

TEST(Region, NumaPlacementBindsOrSaysWhy)
{
	vshm_layout l;
	vshm_layout_init(&l);
	ASSERT_EQ(vshm_layout_add(&l, VSHM_AREA_POOL, 0, 1 << 20, 0, 0), 0);
	vshm_opts o{};
	o.numa_cpu = 0;
	vshm_region *r = nullptr;
	vshm_err err{};
	ASSERT_EQ(vshm_region_create(&o, &l, &r, &err), 0) << err.msg;
	if (vshm_region_numa_node(r) < 0) {
		EXPECT_NE(std::string(vshm_region_note(r)).find("NUMA"), std::string::npos)
			<< "unbound memory must come with a note";
	} else {
		EXPECT_STREQ(vshm_region_note(r), "");
	}
	vshm_region_close(r);
}

TEST(Region, HostEpochChangesOnBump)
{
	vshm_region *r = MakeRegion();
	uint64_t e0 = vshm_region_header(r)->host_epoch;
	EXPECT_NE(e0, 0u);
	// The epoch is made of the clock: bump once the clock has moved on, not after a sleep.
	timespec t0, t1;
	clock_gettime(CLOCK_REALTIME, &t0);
	do
		clock_gettime(CLOCK_REALTIME, &t1);
	while (t1.tv_sec == t0.tv_sec && t1.tv_nsec == t0.tv_nsec);
	vshm_region_host_epoch_bump(r);
	EXPECT_NE(vshm_region_header(r)->host_epoch, e0);
	vshm_region_close(r);
}

} // namespace
