// SPDX-License-Identifier: Apache-2.0
// The torch plugin's CPU allocator for libtorch (libtorch.cc's Steady,
// through libtorch.h): big tensors start on a page, a freed one is reused
// by the next tensor of its size, no more than the limit is kept, and
// small tensors keep libtorch's 64-byte alignment. One process-wide
// allocator: the tests set the limit each needs and start from an empty
// cache.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

extern "C" {
#include "backends/torch/libtorch.h"
}

namespace {

uintptr_t Addr(const at::Tensor &t)
{
	return (uintptr_t)t.data_ptr();
}

class Steady : public ::testing::Test {
protected:
	void SetUp() override
	{
		// A zero limit frees what earlier tests left cached.
		ltorch_steady_allocator(0);
		ASSERT_EQ(ltorch_steady_cached(), 0u);
	}
};

TEST_F(Steady, BigTensorsStartOnAPageAndComeBackBySize)
{
	ltorch_steady_allocator(1 << 20);
	auto a = at::empty({5000}, at::kFloat); // 20000 bytes: 5 pages
	uintptr_t where = Addr(a);
	EXPECT_EQ(where % 4096, 0u);
	a = at::Tensor();
	EXPECT_EQ(ltorch_steady_cached(), 5u * 4096);
	// 4097 floats round up to the same 5 pages: the same block.
	auto b = at::empty({4097 + 1000}, at::kFloat);
	EXPECT_EQ(Addr(b), where);
	EXPECT_EQ(ltorch_steady_cached(), 0u);
	b.fill_(1.5f);
	EXPECT_FLOAT_EQ(b.sum().item<float>(), 1.5f * 5097);
}

TEST_F(Steady, KeepsNoMoreThanItsLimit)
{
	ltorch_steady_allocator(2 * 32768);
	{
		std::vector<at::Tensor> t;
		for (int i = 0; i < 3; i++)
			t.push_back(at::empty({8192}, at::kFloat)); // 32 KiB
	}
	EXPECT_EQ(ltorch_steady_cached(), 2u * 32768); // the third was freed
	ltorch_steady_allocator(32768); // frees one of the two
	EXPECT_EQ(ltorch_steady_cached(), 32768u);
	auto x = at::empty({8192}, at::kFloat);
	EXPECT_EQ(ltorch_steady_cached(), 0u);
	auto y = at::empty({8192}, at::kFloat);
	y = at::Tensor();
	EXPECT_EQ(ltorch_steady_cached(), 32768u);
	x = at::Tensor();
	EXPECT_EQ(ltorch_steady_cached(), 32768u); // over the limit: freed
}

TEST_F(Steady, SmallTensorsAreAlignedForVectorsAndWork)
{
	ltorch_steady_allocator(1 << 20);
	for (int64_t n : {1, 3, 100, 4095}) {
		auto t = at::arange(n, at::kFloat);
		EXPECT_EQ(Addr(t) % 64, 0u) << n;
		EXPECT_FLOAT_EQ(t.sum().item<float>(), n * (n - 1) / 2.0f);
	}
	EXPECT_EQ(ltorch_steady_cached(), 0u); // small blocks go back to malloc
	auto e = at::empty({0}, at::kFloat);
	EXPECT_EQ(e.numel(), 0);
}

TEST_F(Steady, AModelRunsOnIt)
{
	ltorch_steady_allocator(1 << 20);
	auto x = at::randn({1, 3, 64, 64});
	auto w = at::randn({8, 3, 3, 3});
	auto y = at::conv2d(x, w);
	auto want = at::conv2d(x.clone(), w.clone());
	EXPECT_TRUE(at::equal(y, want));
	EXPECT_EQ(Addr(y) % 4096, 0u); // 8 x 62 x 62 floats: a big block
}

} // namespace
