// SPDX-License-Identifier: Apache-2.0
// The torch plugin through the vAccel API, locally: results bit-exact with
// libtorch's own forward of the same file, every dtype, many inputs and
// outputs, the model cache, sgemm, and every error path (libtorch throws:
// the plugin must answer an error code, and log libtorch's message).
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <cstring>

#include "tests/torch/models.h"
#include "tests/torch/util.h"

using namespace torch_test;

namespace {

std::string log_path;

class TorchPlugin : public ::testing::Test {
protected:
	static void SetUpTestSuite()
	{
		log_path = TmpPath("vaccel.log");
		// blas first: a session with flags 0 gets a plugin without
		// torch ops; torch sessions ask for VACCEL_PLUGIN_TORCH.
		ASSERT_EQ(Boot(Env("PLUGIN_BLAS") + ":" + Env("PLUGIN_TORCH"),
			       log_path),
			  VACCEL_OK);
	}

	void SetUp() override
	{
		ASSERT_EQ(vaccel_session_init(&sess, VACCEL_PLUGIN_TORCH),
			  VACCEL_OK);
		ASSERT_NE(sess.plugin, nullptr);
		ASSERT_STREQ(sess.plugin->info->name, "torch");
	}

	void TearDown() override
	{
		for (auto *r : resources) {
			if (vaccel_session_has_resource(&sess, r))
				vaccel_resource_unregister(r, &sess);
			vaccel_resource_delete(r);
		}
		EXPECT_EQ(vaccel_session_release(&sess), VACCEL_OK);
	}

	// A registered MODEL resource over a file.
	struct vaccel_resource *Model(const std::string &path)
	{
		struct vaccel_resource *r = nullptr;
		EXPECT_EQ(vaccel_resource_new(&r, path.c_str(),
					      VACCEL_RESOURCE_MODEL),
			  VACCEL_OK);
		if (r) {
			resources.push_back(r);
			EXPECT_EQ(vaccel_resource_register(r, &sess), VACCEL_OK);
		}
		return r;
	}

	// Run with borrowed inputs; outputs are kept for the test to check.
	int Run(struct vaccel_resource *model, const std::vector<at::Tensor> &in,
		std::vector<struct vaccel_torch_tensor *> *out, int nr_out)
	{
		std::vector<struct vaccel_torch_tensor *> vin;
		for (const auto &t : in)
			vin.push_back(Borrow(t));
		out->assign(nr_out, nullptr);
		int ret = vaccel_torch_model_run(&sess, model, nullptr,
						 vin.data(), (int)vin.size(),
						 out->data(), nr_out);
		for (auto *t : vin)
			vaccel_torch_tensor_delete(t);
		return ret;
	}

	static void Free(std::vector<struct vaccel_torch_tensor *> *out)
	{
		for (auto *t : *out)
			if (t)
				vaccel_torch_tensor_delete(t);
		out->clear();
	}

	struct vaccel_session sess;
	std::vector<struct vaccel_resource *> resources;
};

TEST_F(TorchPlugin, ThreadsFromEnvironment)
{
	// BUILD sets VACCEL_TORCH_THREADS (2, or 1 under TSan); the plugin
	// applied it at init.
	EXPECT_EQ(at::get_num_threads(), std::stoi(Env("VACCEL_TORCH_THREADS")));
}

TEST_F(TorchPlugin, LibtorchAllocatesThroughThePlugin)
{
	// The plugin's init made its steady allocator libtorch's (see
	// libtorch.cc): a tensor of 16 KiB or more starts on a page, and one
	// freed is there for the next of its size.
	at::Tensor a = at::empty({ 8192 }, at::kFloat);
	void *where = a.data_ptr();
	EXPECT_EQ((uintptr_t)where % 4096, 0u);
	a = at::Tensor();
	at::Tensor b = at::empty({ 8192 }, at::kFloat);
	EXPECT_EQ(b.data_ptr(), where);
}

TEST_F(TorchPlugin, SmallModelBitExact)
{
	std::string path = TmpPath("small.pt");
	torch_models::SaveSmall(path);
	auto *model = Model(path);
	ASSERT_EQ(vaccel_torch_model_load(&sess, model), VACCEL_OK);

	torch::manual_seed(7);
	at::Tensor x = torch::randn({ 1, 256 });
	at::Tensor want = Reference(path, { x }).toTensor();
	std::vector<struct vaccel_torch_tensor *> out;
	ASSERT_EQ(Run(model, { x }, &out, 1), VACCEL_OK);
	EXPECT_TRUE(SameTensor(want, out[0]));
	Free(&out);

	// Again, from the cache, with a batch of 4.
	x = torch::randn({ 4, 256 });
	want = Reference(path, { x }).toTensor();
	ASSERT_EQ(Run(model, { x }, &out, 1), VACCEL_OK);
	EXPECT_TRUE(SameTensor(want, out[0]));
	Free(&out);
}

TEST_F(TorchPlugin, ModelRunsOnAPrivateCopyOfItsInputs)
{
	// Over the transport the input lies in the guest's pool, which the guest
	// can rewrite while the model runs; operators that read an input twice
	// must see one value. The model adds to its input in place: the caller's
	// buffer must not change.
	std::string path = TmpPath("inplace.pt");
	torch_models::SaveInPlace(path);
	auto *model = Model(path);
	at::Tensor x = torch::ones({ 2, 3 });
	std::vector<struct vaccel_torch_tensor *> out;
	ASSERT_EQ(Run(model, { x }, &out, 1), VACCEL_OK);
	EXPECT_TRUE(x.equal(torch::ones({ 2, 3 })))
		<< "the model wrote into the caller's input";
	EXPECT_TRUE(SameTensor(torch::full({ 2, 3 }, 2.0f), out[0]));
	Free(&out);
}

TEST_F(TorchPlugin, CnnBitExactWithoutExplicitLoad)
{
	std::string path = TmpPath("cnn.pt");
	torch_models::SaveCnn(path);
	auto *model = Model(path);
	torch::manual_seed(8);
	at::Tensor x = torch::randn({ 1, 3, 224, 224 });
	at::Tensor want = Reference(path, { x }).toTensor();
	ASSERT_EQ(want.sizes(), at::IntArrayRef({ 1, 10 }));
	std::vector<struct vaccel_torch_tensor *> out;
	// run loads on first use when load was not called
	ASSERT_EQ(Run(model, { x }, &out, 1), VACCEL_OK);
	EXPECT_TRUE(SameTensor(want, out[0]));
	Free(&out);
}

TEST_F(TorchPlugin, EveryDtypeManyInputsAndOutputs)
{
	std::string path = TmpPath("alltypes.pt");
	torch_models::SaveAllTypes(path);
	auto *model = Model(path);
	torch::manual_seed(9);
	std::vector<at::Tensor> in = {
		torch::randint(0, 200, { 2, 3 }, at::kByte),
		torch::randint(-60, 60, { 5 }, at::kChar),
		torch::randint(-1000, 1000, { 2, 2, 2 }, at::kShort),
		torch::randint(-40000, 40000, { 3, 1 }, at::kInt),
		torch::randint(-(1LL << 40), 1LL << 40, { 4 }, at::kLong),
		torch::randn({ 2, 5 }).to(at::kHalf),
		torch::randn({ 1, 2, 3, 4 }),
	};
	auto want = Reference(path, in).toTupleRef().elements();
	ASSERT_EQ(want.size(), 7u);
	std::vector<struct vaccel_torch_tensor *> out;
	ASSERT_EQ(Run(model, in, &out, 7), VACCEL_OK);
	for (int i = 0; i < 7; i++)
		EXPECT_TRUE(SameTensor(want[i].toTensor(), out[i]))
			<< "output " << i;
	Free(&out);

	// Fewer outputs than results: the first ones.
	ASSERT_EQ(Run(model, in, &out, 2), VACCEL_OK);
	EXPECT_TRUE(SameTensor(want[1].toTensor(), out[1]));
	Free(&out);

	// More outputs than results: an error, and nothing left allocated.
	ASSERT_EQ(Run(model, in, &out, 8), VACCEL_EINVAL);
	for (auto *t : out)
		EXPECT_EQ(t, nullptr);
	EXPECT_NE(ReadFile(log_path).find("returned 7 tensors, 8 asked"),
		  std::string::npos);
}

TEST_F(TorchPlugin, ModelFromMemoryOnlyResource)
{
	std::string path = TmpPath("small-mem.pt");
	torch_models::SaveSmall(path);
	std::string bytes = ReadFile(path);
	struct vaccel_resource *r = nullptr;
	ASSERT_EQ(vaccel_resource_from_buf(&r, bytes.data(), bytes.size(),
					   VACCEL_RESOURCE_MODEL, "small.pt",
					   true),
		  VACCEL_OK);
	resources.push_back(r);
	ASSERT_EQ(vaccel_resource_register(r, &sess), VACCEL_OK);
	at::Tensor x = torch::ones({ 1, 256 });
	std::vector<struct vaccel_torch_tensor *> out;
	ASSERT_EQ(Run(r, { x }, &out, 1), VACCEL_OK);
	EXPECT_TRUE(SameTensor(Reference(path, { x }).toTensor(), out[0]));
	Free(&out);
}

TEST_F(TorchPlugin, RejectedInputsAreEinvalWithLibtorchsMessage)
{
	std::string path = TmpPath("small-err.pt");
	torch_models::SaveSmall(path);
	auto *model = Model(path);
	std::vector<struct vaccel_torch_tensor *> out;

	// wrong shape: libtorch's matmul refuses
	EXPECT_EQ(Run(model, { torch::ones({ 1, 255 }) }, &out, 1),
		  VACCEL_EINVAL);
	EXPECT_EQ(out[0], nullptr);
	std::string log = ReadFile(log_path);
	EXPECT_NE(log.find("cannot be multiplied"), std::string::npos) << log;

	// wrong dtype
	EXPECT_EQ(Run(model, { torch::ones({ 1, 256 }, at::kInt) }, &out, 1),
		  VACCEL_EINVAL);
	// wrong number of inputs
	EXPECT_EQ(Run(model, {}, &out, 1), VACCEL_EINVAL);
	EXPECT_EQ(Run(model, { torch::ones({ 1, 256 }), torch::ones({ 1 }) },
		      &out, 1),
		  VACCEL_EINVAL);

	// Descriptions that do not add up never reach libtorch.
	float data[256] = {};
	int64_t dims[2] = { 1, 256 };
	struct vaccel_torch_tensor t;
	ASSERT_EQ(vaccel_torch_tensor_init(&t, 2, dims, VACCEL_TORCH_FLOAT),
		  VACCEL_OK);
	struct vaccel_torch_tensor *in = &t;
	struct vaccel_torch_tensor *o = nullptr;
	t.data = data;
	t.size = sizeof(data) - 4; // one float short
	EXPECT_EQ(vaccel_torch_model_run(&sess, model, nullptr, &in, 1, &o, 1),
		  VACCEL_EINVAL);
	t.size = sizeof(data);
	t.dims[0] = -1;
	EXPECT_EQ(vaccel_torch_model_run(&sess, model, nullptr, &in, 1, &o, 1),
		  VACCEL_EINVAL);
	t.dims[0] = INT64_MAX; // product overflows
	EXPECT_EQ(vaccel_torch_model_run(&sess, model, nullptr, &in, 1, &o, 1),
		  VACCEL_EINVAL);
	t.dims[0] = 1;
	const int bad_type = 99; // as C code could store it
	memcpy(&t.data_type, &bad_type, sizeof(bad_type));
	EXPECT_EQ(vaccel_torch_model_run(&sess, model, nullptr, &in, 1, &o, 1),
		  VACCEL_EINVAL);
	t.data_type = VACCEL_TORCH_FLOAT;
	t.data = nullptr;
	EXPECT_EQ(vaccel_torch_model_run(&sess, model, nullptr, &in, 1, &o, 1),
		  VACCEL_EINVAL);
	t.data = data;
	EXPECT_EQ(vaccel_torch_model_run(&sess, model, nullptr, &in, -1, &o, 1),
		  VACCEL_EINVAL);
	EXPECT_EQ(vaccel_torch_model_run(&sess, model, nullptr, &in, 1, nullptr,
					 1),
		  VACCEL_EINVAL);
	EXPECT_EQ(o, nullptr);
	// and the model still works afterwards
	ASSERT_EQ(vaccel_torch_model_run(&sess, model, nullptr, &in, 1, &o, 1),
		  VACCEL_OK);
	vaccel_torch_tensor_delete(o);
	t.data = nullptr;
	vaccel_torch_tensor_release(&t);
}

TEST_F(TorchPlugin, UncarriableResultDtypeIsEinval)
{
	std::string path = TmpPath("double.pt");
	torch_models::SaveDouble(path);
	auto *model = Model(path);
	std::vector<struct vaccel_torch_tensor *> out;
	EXPECT_EQ(Run(model, { torch::ones({ 3 }) }, &out, 1), VACCEL_EINVAL);
	EXPECT_EQ(out[0], nullptr);
	EXPECT_NE(ReadFile(log_path).find("dtype Double"), std::string::npos);
}

TEST_F(TorchPlugin, ApiChecks)
{
	std::string path = TmpPath("small-api.pt");
	torch_models::SaveSmall(path);
	struct vaccel_resource *unreg = nullptr, *data = nullptr;
	ASSERT_EQ(vaccel_resource_new(&unreg, path.c_str(),
				      VACCEL_RESOURCE_MODEL),
		  VACCEL_OK);
	resources.push_back(unreg);
	ASSERT_EQ(vaccel_resource_new(&data, path.c_str(),
				      VACCEL_RESOURCE_DATA),
		  VACCEL_OK);
	resources.push_back(data);
	ASSERT_EQ(vaccel_resource_register(data, &sess), VACCEL_OK);

	EXPECT_EQ(vaccel_torch_model_load(nullptr, unreg), VACCEL_EINVAL);
	EXPECT_EQ(vaccel_torch_model_load(&sess, nullptr), VACCEL_EINVAL);
	EXPECT_EQ(vaccel_torch_model_load(&sess, data), VACCEL_EINVAL);
	EXPECT_EQ(vaccel_torch_model_load(&sess, unreg), VACCEL_EPERM);
	struct vaccel_torch_tensor *o = nullptr;
	EXPECT_EQ(vaccel_torch_model_run(nullptr, unreg, nullptr, nullptr, 0,
					 &o, 1),
		  VACCEL_EINVAL);
	EXPECT_EQ(vaccel_torch_model_run(&sess, data, nullptr, nullptr, 0, &o,
					 1),
		  VACCEL_EINVAL);
	EXPECT_EQ(vaccel_torch_model_run(&sess, unreg, nullptr, nullptr, 0, &o,
					 1),
		  VACCEL_EPERM);

	// A session whose plugin (blas) has no torch ops.
	struct vaccel_session other;
	ASSERT_EQ(vaccel_session_init(&other, 0), VACCEL_OK);
	ASSERT_STREQ(other.plugin->info->name, "blas");
	ASSERT_EQ(vaccel_resource_register(unreg, &other), VACCEL_OK);
	EXPECT_EQ(vaccel_torch_model_load(&other, unreg), VACCEL_ENOTSUP);
	EXPECT_EQ(vaccel_torch_model_run(&other, unreg, nullptr, nullptr, 0,
					 &o, 1),
		  VACCEL_ENOTSUP);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	EXPECT_EQ(vaccel_torch_sgemm(&other, nullptr, nullptr, nullptr, 1, 1, 1,
				     &o),
		  VACCEL_ENOTSUP);
	EXPECT_EQ(vaccel_torch_sgemm(nullptr, nullptr, nullptr, nullptr, 1, 1,
				     1, &o),
		  VACCEL_EINVAL);
#pragma GCC diagnostic pop
	EXPECT_EQ(vaccel_resource_unregister(unreg, &other), VACCEL_OK);
	EXPECT_EQ(vaccel_session_release(&other), VACCEL_OK);
}

TEST_F(TorchPlugin, NotTorchScriptIsEinval)
{
	std::string path = TmpPath("garbage.pt");
	WriteFile(path, "this is not a zip archive");
	auto *model = Model(path);
	EXPECT_EQ(vaccel_torch_model_load(&sess, model), VACCEL_EINVAL);
	std::vector<struct vaccel_torch_tensor *> out;
	EXPECT_EQ(Run(model, { torch::ones({ 1 }) }, &out, 1), VACCEL_EINVAL);
}

// The cache is per (session, resource) and dropped on unregister: the
// file is swapped under a loaded model, which only a fresh load sees.
TEST_F(TorchPlugin, CachePerSessionDroppedOnUnregister)
{
	std::string path = TmpPath("swap.pt");
	std::string other = TmpPath("color.pt");
	torch_models::SaveSmall(path);
	torch_models::SaveColor(other);
	auto *model = Model(path);
	ASSERT_EQ(vaccel_torch_model_load(&sess, model), VACCEL_OK);
	WriteFile(path, ReadFile(other)); // now a different model

	at::Tensor x = torch::ones({ 1, 256 });
	std::vector<struct vaccel_torch_tensor *> out;
	ASSERT_EQ(Run(model, { x }, &out, 1), VACCEL_OK); // cached: Small
	EXPECT_EQ(out[0]->dims[1], 64);
	Free(&out);

	// Another session loads its own copy: the file's new model.
	struct vaccel_session s2;
	ASSERT_EQ(vaccel_session_init(&s2, VACCEL_PLUGIN_TORCH), VACCEL_OK);
	ASSERT_EQ(vaccel_resource_register(model, &s2), VACCEL_OK);
	at::Tensor img = torch::ones({ 1, 3, 4, 4 });
	struct vaccel_torch_tensor *in = Borrow(img), *o = nullptr;
	EXPECT_EQ(vaccel_torch_model_run(&s2, model, nullptr, &in, 1, &o, 1),
		  VACCEL_OK);
	ASSERT_NE(o, nullptr);
	EXPECT_EQ(o->dims[1], 3); // Color's result
	vaccel_torch_tensor_delete(o);
	EXPECT_EQ(vaccel_resource_unregister(model, &s2), VACCEL_OK);
	EXPECT_EQ(vaccel_session_release(&s2), VACCEL_OK);

	// Unregister then register again: the plugin loads anew.
	ASSERT_EQ(vaccel_resource_unregister(model, &sess), VACCEL_OK);
	ASSERT_EQ(vaccel_resource_register(model, &sess), VACCEL_OK);
	o = nullptr;
	EXPECT_EQ(vaccel_torch_model_run(&sess, model, nullptr, &in, 1, &o, 1),
		  VACCEL_OK);
	ASSERT_NE(o, nullptr);
	EXPECT_EQ(o->dims[1], 3);
	vaccel_torch_tensor_delete(o);
	vaccel_torch_tensor_delete(in);
}

TEST_F(TorchPlugin, SgemmBitExact)
{
	torch::manual_seed(10);
	const int M = 4, N = 5, K = 3;
	at::Tensor a = torch::randn({ M, K }), b = torch::randn({ K, N }),
		   c = torch::randn({ M, N });
	at::Tensor want;
	{
		c10::InferenceMode guard;
		want = at::addmm(c, a, b);
	}
	struct vaccel_torch_tensor *ta = Borrow(a), *tb = Borrow(b),
				   *tc = Borrow(c), *out = nullptr;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	ASSERT_EQ(vaccel_torch_sgemm(&sess, &ta, &tb, &tc, M, N, K, &out),
		  VACCEL_OK);
	EXPECT_TRUE(SameTensor(want, out));
	vaccel_torch_tensor_delete(out);
	out = nullptr;
	// B's shape does not agree with K
	EXPECT_EQ(vaccel_torch_sgemm(&sess, &ta, &tb, &tc, M, N, K + 1, &out),
		  VACCEL_EINVAL);
	EXPECT_EQ(vaccel_torch_sgemm(&sess, &ta, nullptr, &tc, M, N, K, &out),
		  VACCEL_EINVAL);
#pragma GCC diagnostic pop
	EXPECT_EQ(out, nullptr);
	for (auto *t : { ta, tb, tc })
		vaccel_torch_tensor_delete(t);
}

} // namespace
