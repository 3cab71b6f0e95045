// Pool class specs: what a good spec puts into the layout, and the words for each bad one.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "shm/pool.h"
#include "shm/region.h"

namespace {

TEST(PoolSpec, AddsOnePoolAreaPerClassInOrder)
{
	vshm_layout l;
	vshm_layout_init(&l);
	vshm_err err{};
	ASSERT_EQ(vshm_pool_layout_add(&l, "4k:1024,64k:256,1m:32,64m:2", &err), 0) << err.msg;
	ASSERT_EQ(l.nr_areas, 4u);
	const struct {
		uint32_t size, count;
	} want[] = { { 4096, 1024 }, { 65536, 256 }, { 1u << 20, 32 }, { 64u << 20, 2 } };
	for (uint32_t i = 0; i < 4; i++) {
		const vshm_area *a = vshm_layout_find(&l, VSHM_AREA_POOL, i);
		ASSERT_NE(a, nullptr) << "class " << i;
		EXPECT_EQ(a->param0, want[i].size) << "class " << i;
		EXPECT_EQ(a->param1, want[i].count) << "class " << i;
		EXPECT_GE(a->size, (uint64_t)want[i].size * want[i].count) << "class " << i;
		EXPECT_EQ(a->offset % 4096, 0u) << "page-sized classes start on a page";
	}
}

TEST(PoolSpec, AcceptsBytesUpperCaseSuffixesAndSpaces)
{
	vshm_layout l;
	vshm_layout_init(&l);
	vshm_err err{};
	ASSERT_EQ(vshm_pool_layout_add(&l, "64:8, 128:4 ,4K:2,1M:1,1g:1", &err), 0) << err.msg;
	ASSERT_EQ(l.nr_areas, 5u);
	EXPECT_EQ(l.areas[0].param0, 64u);
	EXPECT_EQ(l.areas[1].param0, 128u);
	EXPECT_EQ(l.areas[2].param0, 4096u);
	EXPECT_EQ(l.areas[3].param0, 1u << 20);
	EXPECT_EQ(l.areas[4].param0, 1u << 30);
}

TEST(PoolSpec, DefaultSpecParsesAndStaysUnder256MiB)
{
	vshm_layout l;
	vshm_layout_init(&l);
	vshm_err err{};
	ASSERT_EQ(vshm_pool_layout_add(&l, VSHM_POOL_DEFAULT_SPEC, &err), 0) << err.msg;
	EXPECT_LT(vshm_layout_bytes(&l), 256ull << 20)
		<< "room for the header and queue pairs inside a 256 MiB ivshmem BAR";
}

TEST(PoolSpec, SixteenClassesFitSeventeenDoNot)
{
	std::string spec;
	for (int i = 1; i <= 17; i++)
		spec += (i > 1 ? "," : "") + std::to_string(64 * i) + ":1";
	vshm_layout l;
	vshm_layout_init(&l);
	vshm_err err{};
	EXPECT_EQ(vshm_pool_layout_add(&l, spec.c_str(), &err), -EINVAL);
	EXPECT_NE(std::string(err.msg).find("more than 16"), std::string::npos) << err.msg;
	EXPECT_EQ(l.nr_areas, 0u);
	spec = spec.substr(0, spec.rfind(','));
	EXPECT_EQ(vshm_pool_layout_add(&l, spec.c_str(), &err), 0) << err.msg;
	EXPECT_EQ(l.nr_areas, 16u);
}

TEST(PoolSpec, FullLayoutTableIsENOSPCAndLeavesItUntouched)
{
	vshm_layout l;
	vshm_layout_init(&l);
	for (uint32_t i = 0; i < VSHM_MAX_AREAS - 2; i++)
		ASSERT_EQ(vshm_layout_add(&l, VSHM_AREA_RAW, i, 64, 0, 0), 0);
	vshm_err err{};
	EXPECT_EQ(vshm_pool_layout_add(&l, "64:1,128:1,192:1", &err), -ENOSPC);
	EXPECT_NE(std::string(err.msg).find("too full"), std::string::npos) << err.msg;
	EXPECT_EQ(l.nr_areas, VSHM_MAX_AREAS - 2) << "all or nothing";
	EXPECT_EQ(vshm_pool_layout_add(&l, "64:1,128:1", &err), 0) << err.msg;
}

TEST(PoolSpec, SecondSpecOnTheSameLayoutIsRefused)
{
	vshm_layout l;
	vshm_layout_init(&l);
	vshm_err err{};
	ASSERT_EQ(vshm_pool_layout_add(&l, "4k:1", &err), 0) << err.msg;
	EXPECT_EQ(vshm_pool_layout_add(&l, "8k:1", &err), -EINVAL);
	EXPECT_NE(std::string(err.msg).find("already has pool"), std::string::npos) << err.msg;
}

struct BadSpec {
	const char *name;
	const char *spec;
	const char *words; // must appear in the error text
};

class PoolSpecBad : public testing::TestWithParam<BadSpec> {};

TEST_P(PoolSpecBad, IsRefusedWithWordsAndNoAreas)
{
	const BadSpec &b = GetParam();
	vshm_layout l;
	vshm_layout_init(&l);
	vshm_err err{};
	EXPECT_EQ(vshm_pool_layout_add(&l, b.spec, &err), -EINVAL) << b.spec;
	EXPECT_NE(std::string(err.msg).find(b.words), std::string::npos)
		<< "spec \"" << (b.spec ? b.spec : "(null)") << "\" should say \"" << b.words
		<< "\", said: " << err.msg;
	EXPECT_EQ(l.nr_areas, 0u) << "a bad spec must not add any class";
}

const BadSpec kBad[] = {
	{ "null", nullptr, "empty" },
	{ "empty", "", "empty" },
	{ "stray_comma", "4k:1,,8k:1", "class 1 is empty" },
	{ "trailing_comma", "4k:1,", "class 1 is empty" },
	{ "no_size", ":4", "size must start with a number" },
	{ "negative", "-4k:1", "size must start with a number" },
	{ "bad_suffix", "4x:1", "unknown size suffix 'x'" },
	{ "two_suffixes", "4kk:1", "expected ':'" },
	{ "no_colon", "4096", "expected ':'" },
	{ "no_count", "4k:", "count must be a whole number" },
	{ "count_junk", "4k:3x", "count must be a whole number" },
	{ "count_negative", "4k:-3", "count must be a whole number" },
	{ "zero_size", "0:4", "size must be greater than 0" },
	{ "zero_count", "4k:0", "count must be greater than 0" },
	{ "not_64", "100:4", "not a multiple of 64" },
	{ "not_page", "4160:4", "not a multiple of 4096" },
	{ "size_overflow", "99999999999999999999999:1", "size is too large" },
	{ "suffix_overflow", "17179869184g:1", "size is too large" },
	{ "size_32bit", "4g:1", "32-bit" },
	{ "count_overflow", "4k:99999999999999999999999", "count is too large" },
	{ "count_32bit", "64:4294967296", "count is too large" },
	{ "area_too_big", "1g:100000", "larger than an area" },
	{ "not_increasing", "64k:1,4k:1", "strictly increase" },
	{ "equal_sizes", "4k:1,4096:2", "strictly increase" },
	{ "second_bad", "4k:1,8k", "class 1 \"8k\"" },
};

INSTANTIATE_TEST_SUITE_P(Spec, PoolSpecBad, testing::ValuesIn(kBad),
			 [](const testing::TestParamInfo<BadSpec> &i) { return i.param.name; });

} // namespace
