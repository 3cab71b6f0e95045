// SPDX-License-Identifier: Apache-2.0
// Which models the torch plugin runs on the caller's memory (zero copy; on
// the agent that is a guest's pool, which the guest can rewrite meanwhile)
// and which on a private copy of their inputs: libtorch.cc's _plain_reads,
// through its C boundary. A model whose inputs reach an operator that could
// index by their values, write them, sort them or loop over them must be
// copied; every test model of the suite and the benchmarks reads in place.
// Each model is saved and loaded as a file, as the plugin loads them.
#include <gtest/gtest.h>

#include <torch/script.h>

#include <string>

extern "C" {
#include <vaccel.h>

#include "backends/torch/libtorch.h"
}

#include "tests/torch/models.h"
#include "tests/torch/util.h"

using namespace torch_test;

namespace {

class InPlace : public ::testing::Test {
protected:
	void SetUp() override { sess_.id = 9000 + next_++; }
	void TearDown() override
	{
		ltorch_forget(sess_.id, -1);
		for (auto *r : res_)
			vaccel_resource_delete(r);
	}

	// 1 in place, 0 copied, -errno.
	int Ask(const std::string &path)
	{
		struct vaccel_resource *r = nullptr;
		EXPECT_EQ(vaccel_resource_new(&r, path.c_str(),
					      VACCEL_RESOURCE_MODEL),
			  VACCEL_OK);
		if (!r)
			return -1;
		res_.push_back(r);
		return ltorch_model_in_place(&sess_, r);
	}
	int Define(const char *name, const char *forward)
	{
		torch::jit::Module m(name);
		m.define(forward);
		std::string path = TmpPath(std::string(name) + ".pt");
		m.save(path);
		return Ask(path);
	}

	struct vaccel_session sess_ = {};
	std::vector<struct vaccel_resource *> res_;
	static int next_;
};
int InPlace::next_ = 0;

TEST_F(InPlace, TheSuitesModelsReadInPlace)
{
	std::string p = TmpPath("cnn.pt");
	torch_models::SaveCnn(p);
	EXPECT_EQ(Ask(p), 1);
	p = TmpPath("small.pt");
	torch_models::SaveSmall(p);
	EXPECT_EQ(Ask(p), 1);
	p = TmpPath("slice.pt");
	torch_models::SaveSlice(p);
	EXPECT_EQ(Ask(p), 1);
	p = TmpPath("alltypes.pt");
	torch_models::SaveAllTypes(p);
	EXPECT_EQ(Ask(p), 1);
}

TEST_F(InPlace, ViewsJoinsAndReductionsReadInPlace)
{
	EXPECT_EQ(Define("Views", R"(
def forward(self, x, y):
    a = x.view([-1])[0:4].unsqueeze(0)
    b = torch.cat([a, y.reshape([1, -1])[:, 0:4]], 1)
    return torch.softmax(b, 1), torch.mean(x), x.size(0)
)"),
		  1);
}

TEST_F(InPlace, IndexingByValuesIsCopied)
{
	EXPECT_EQ(Define("Bincount", R"(
def forward(self, x):
    return torch.bincount(x)
)"),
		  0);
	EXPECT_EQ(Define("IndexSelect", R"(
def forward(self, w, i):
    return torch.index_select(w, 0, i)
)"),
		  0);
	// Through a view of the input too.
	EXPECT_EQ(Define("GatherView", R"(
def forward(self, w, i):
    return torch.gather(w, 1, i.view([1, -1]))
)"),
		  0);
}

// Overloads of listed operators that alias or write: an out= overload returns
// its out argument, the list overloads of add and mul return lists holding the
// input, and div with a rounding mode is not a plain division. (Found by a
// review: the first two crashed bincount while another thread rewrote x.)
TEST_F(InPlace, AliasingOverloadsOfListedOperatorsAreCopied)
{
	EXPECT_EQ(Define("OutArg", R"(
def forward(self, x):
    y = torch.relu(x, out=x)
    return torch.bincount(y)
)"),
		  0);
	EXPECT_EQ(Define("ListAdd", R"(
def forward(self, x):
    l = [x] + [x]
    return torch.bincount(l[0])
)"),
		  0);
	EXPECT_EQ(Define("ListMul", R"(
def forward(self, x):
    l = [x] * 1
    return torch.bincount(l[0])
)"),
		  0);
	EXPECT_EQ(Define("DivMode", R"(
def forward(self, x, y):
    return torch.div(x, y, rounding_mode='floor')
)"),
		  0);
	EXPECT_EQ(Define("DivPlain", R"(
def forward(self, x, y):
    return torch.div(x, y) + x / 2.0
)"),
		  1);
}

TEST_F(InPlace, SortsWritesAndLoopsAreCopied)
{
	EXPECT_EQ(Define("Sort", R"(
def forward(self, x):
    return torch.sort(x)[0]
)"),
		  0);
	std::string p = TmpPath("inplace.pt");
	torch_models::SaveInPlace(p); // x.add_(1.0)
	EXPECT_EQ(Ask(p), 0);
	EXPECT_EQ(Define("Loop", R"(
def forward(self, x):
    for i in range(3):
        x = x + 1.0
    return x
)"),
		  0);
}

// A value-indexing operator inside a submodule is found: the graph is
// inlined before it is read.
TEST_F(InPlace, SubmodulesAreLookedInto)
{
	torch::jit::Module child("Child");
	child.define(R"(
def forward(self, x):
    return torch.bincount(x)
)");
	torch::jit::Module m("Parent");
	m.register_module("child", child);
	m.define(R"(
def forward(self, x):
    return self.child.forward(x + 0)
)");
	std::string p = TmpPath("parent.pt");
	m.save(p);
	EXPECT_EQ(Ask(p), 1) << "x + 0 is a new tensor: bincount reads a "
				"private copy";
	torch::jit::Module m2("Parent2");
	m2.register_module("child", child);
	m2.define(R"(
def forward(self, x):
    return self.child.forward(x)
)");
	p = TmpPath("parent2.pt");
	m2.save(p);
	EXPECT_EQ(Ask(p), 0);
}

} // namespace
