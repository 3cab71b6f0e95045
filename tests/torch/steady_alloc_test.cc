// SPDX-License-Identifier: Apache-2.0
// The torch plugin's CPU allocator for libtorch (libtorch.cc's Steady,
// through libtorch.h): big tensors are carved page-aligned, lowest address
// first, from an arena of 2 MiB-aligned chunks within its limit, freed
// neighbours merge, past the limit they still start on a page; small
// tensors keep libtorch's 64-byte alignment; and memory one session's model
// run left, or malloc's, is zeroed before another session's model gets it. One
// process-wide allocator: each test starts from an empty arena.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/script.h>

#include <cstdint>
#include <string>
#include <vector>

extern "C" {
#include <vaccel.h>
#include "backends/torch/libtorch.h"
}
#include "tests/torch/util.h"

using namespace torch_test;

namespace {

constexpr size_t kMiB = 1 << 20;

uintptr_t Addr(const at::Tensor &t)
{
	return (uintptr_t)t.data_ptr();
}

size_t Reserved()
{
	size_t r, u;
	ltorch_steady_stats(&r, &u);
	return r;
}

size_t Used()
{
	size_t r, u;
	ltorch_steady_stats(&r, &u);
	return u;
}

class Steady : public ::testing::Test {
protected:
	void SetUp() override
	{
		// A zero limit unmaps the chunks earlier tests left free.
		ltorch_steady_allocator(0);
		ASSERT_EQ(Reserved(), 0u);
		ASSERT_EQ(Used(), 0u);
		ltorch_steady_allocator(64 * kMiB);
	}
};

TEST_F(Steady, BigTensorsStartOnAPageAndComeBack)
{
	auto a = at::empty({5000}, at::kFloat); // 20000 bytes: 5 pages
	uintptr_t where = Addr(a);
	EXPECT_EQ(where % 4096, 0u);
	EXPECT_EQ(where % (2 * kMiB), 0u) << "a fresh chunk starts on 2 MiB";
	EXPECT_EQ(Reserved(), 16 * kMiB);
	EXPECT_EQ(Used(), 5u * 4096);
	a = at::Tensor();
	EXPECT_EQ(Used(), 0u);
	// 5097 floats round up to the same 5 pages: the same block.
	auto b = at::empty({5097}, at::kFloat);
	EXPECT_EQ(Addr(b), where);
	b.fill_(1.5f);
	EXPECT_FLOAT_EQ(b.sum().item<float>(), 1.5f * 5097);
}

TEST_F(Steady, LowestAddressFirstAndFreedNeighboursMerge)
{
	auto x = at::empty({8192}, at::kFloat); // 32 KiB each
	auto y = at::empty({8192}, at::kFloat);
	auto z = at::empty({8192}, at::kFloat);
	EXPECT_EQ(Addr(y), Addr(x) + 32768);
	EXPECT_EQ(Addr(z), Addr(y) + 32768);
	uintptr_t first = Addr(x);
	x = at::Tensor();
	y = at::Tensor();
	// The two freed blocks are one range now: a 64 KiB tensor fits there.
	auto w = at::empty({16384}, at::kFloat);
	EXPECT_EQ(Addr(w), first);
	EXPECT_EQ(Used(), 3u * 32768); // w and z
}

TEST_F(Steady, PastTheLimitBigTensorsStillStartOnAPage)
{
	ltorch_steady_allocator(0);
	auto a = at::empty({100000}, at::kFloat);
	EXPECT_EQ(Addr(a) % 4096, 0u);
	EXPECT_EQ(Reserved(), 0u);
	a.fill_(2.0f);
	EXPECT_FLOAT_EQ(a.sum().item<float>(), 200000.0f);
	// A tensor bigger than the whole arena goes past it too.
	ltorch_steady_allocator(4 * kMiB);
	auto b = at::empty({2 * 1024 * 1024}, at::kFloat); // 8 MiB
	EXPECT_EQ(Addr(b) % 4096, 0u);
	EXPECT_EQ(Reserved(), 0u);
	// One that needs 2 MiB gets a chunk of just that, within the limit.
	auto c = at::empty({300000}, at::kFloat);
	EXPECT_EQ(Reserved(), 2 * kMiB);
}

TEST_F(Steady, ALowerLimitUnmapsOnlyFreeChunks)
{
	auto a = at::empty({8192}, at::kFloat);
	EXPECT_EQ(Reserved(), 16 * kMiB);
	ltorch_steady_allocator(0); // a holds the chunk: it stays
	EXPECT_EQ(Reserved(), 16 * kMiB);
	a.fill_(3.0f);
	EXPECT_FLOAT_EQ(a.sum().item<float>(), 3.0f * 8192);
	a = at::Tensor();
	EXPECT_EQ(Reserved(), 16 * kMiB); // unmapped at the next call
	ltorch_steady_allocator(0);
	EXPECT_EQ(Reserved(), 0u);
}

TEST_F(Steady, SmallTensorsAreAlignedForVectorsAndWork)
{
	for (int64_t n : {1, 3, 100, 4095}) {
		auto t = at::arange(n, at::kFloat);
		EXPECT_EQ(Addr(t) % 64, 0u) << n;
		EXPECT_FLOAT_EQ(t.sum().item<float>(), n * (n - 1) / 2.0f);
	}
	EXPECT_EQ(Reserved(), 0u); // small blocks come from malloc
	auto e = at::empty({0}, at::kFloat);
	EXPECT_EQ(e.numel(), 0);
}

// malloc's memory may hold anything (another session's tensor, a copy of an
// output): a small tensor comes zeroed, even one that reuses a freed block.
TEST_F(Steady, SmallTensorsComeZeroed)
{
	for (int i = 0; i < 3; i++) {
		auto t = at::empty({1000}, at::kFloat);
		EXPECT_FLOAT_EQ(t.abs().sum().item<float>(), 0.0f) << i;
		t.fill_(7.0f);
	}
}

TEST_F(Steady, AModelRunsOnIt)
{
	auto x = at::randn({1, 3, 64, 64});
	auto w = at::randn({8, 3, 3, 3});
	auto y = at::conv2d(x, w);
	auto want = at::conv2d(x.clone(), w.clone());
	EXPECT_TRUE(at::equal(y, want));
	EXPECT_EQ(Addr(y) % 4096, 0u); // 8 x 62 x 62 floats: a big block
	EXPECT_GT(Used(), 0u);
}

// TorchScript can return memory as it lies (torch.empty). Through the agent
// the sessions are different guests': what one's model left must not reach
// another's. Within a session the memory comes back as it is (no cost).
class Owners : public Steady {
protected:
	void SetUp() override
	{
		Steady::SetUp();
		a_.id = 7001;
		b_.id = 7002;
	}

	void TearDown() override
	{
		for (auto *s : {&a_, &b_})
			ltorch_forget(s->id, -1);
		for (auto *r : res_)
			vaccel_resource_delete(r);
	}

	struct vaccel_resource *Model(const char *name, const char *forward)
	{
		torch::jit::Module m(name);
		m.define(forward);
		std::string path = TmpPath(std::string(name) + ".pt");
		m.save(path);
		struct vaccel_resource *r = nullptr;
		EXPECT_EQ(vaccel_resource_new(&r, path.c_str(),
					      VACCEL_RESOURCE_MODEL),
			  VACCEL_OK);
		if (r)
			res_.push_back(r);
		return r;
	}

	// Runs model in sess on a one-float input: the sum of its output.
	float RunSum(struct vaccel_session *sess, struct vaccel_resource *model)
	{
		float one = 1.0f;
		int64_t dims[1] = {1};
		struct vaccel_torch_tensor in = {};
		in.data = &one;
		in.size = sizeof(one);
		in.dims = dims;
		in.nr_dims = 1;
		in.data_type = VACCEL_TORCH_FLOAT;
		struct vaccel_torch_tensor *ins[1] = {&in}, *out = nullptr;
		int r = ltorch_model_run(sess, model, ins, 1, &out, 1);
		EXPECT_EQ(r, 0);
		if (r || !out)
			return -1.0f;
		EXPECT_EQ(out->size, 8192u * 4);
		float sum = 0;
		for (size_t i = 0; i < out->size / 4; i++)
			sum += ((const float *)out->data)[i];
		vaccel_torch_tensor_delete(out);
		return sum;
	}

	struct vaccel_session a_ = {}, b_ = {};
	std::vector<struct vaccel_resource *> res_;
};

TEST_F(Owners, AnotherSessionsLeftoversComeBackZeroed)
{
	auto *fill = Model("Fill", "def forward(self, x):\n"
				   "    return x.new_full([8192], 8.0)\n");
	auto *peek = Model("Peek", "def forward(self, x):\n"
				   "    return x.new_empty([8192])\n");
	ASSERT_TRUE(fill && peek);
	// Loads first: a load's allocations are its session's too.
	for (auto *s : {&a_, &b_})
		for (auto *m : {fill, peek})
			ASSERT_EQ(ltorch_model_load(s, m), 0);
	EXPECT_FLOAT_EQ(RunSum(&a_, fill), 8.0f * 8192);
	// The same session gets its own 8s back (so this test can tell).
	EXPECT_FLOAT_EQ(RunSum(&a_, peek), 8.0f * 8192);
	EXPECT_FLOAT_EQ(RunSum(&b_, peek), 0.0f);
	// And the other way.
	EXPECT_FLOAT_EQ(RunSum(&b_, fill), 8.0f * 8192);
	EXPECT_FLOAT_EQ(RunSum(&a_, peek), 0.0f);
	// A thread of no session's (libtorch's own, sgemm) is anyone.
	EXPECT_FLOAT_EQ(RunSum(&b_, fill), 8.0f * 8192);
	auto t = at::empty({8192}, at::kFloat);
	EXPECT_FLOAT_EQ(t.abs().sum().item<float>(), 0.0f);
	t.fill_(5.0f);
	t = at::Tensor();
	EXPECT_FLOAT_EQ(RunSum(&b_, peek), 0.0f);
}

} // namespace
