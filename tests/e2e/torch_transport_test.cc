// The torch plugin on the host, driven from a guest process through the transport: model
// runs bit-exact with libtorch's own forward of the same file (every dtype, many inputs and
// outputs, inputs from the pool), and image classification with the session's model. The
// agent runs backends/torch; this process loads only the transport plugin.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "agent_util.h"
#include "tests/torch/models.h"
#include "tests/torch/util.h"

namespace {

class TorchTransport : public testing::Test {
      protected:
	void SetUp() override
	{
		labels_ = torch_test::TmpPath("labels.txt");
		torch_test::WriteFile(labels_, "red\ngreen\nblue\n");
		agent_ = std::make_unique<e2e::Agent>(
			std::vector<std::string>{"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_TORCH")), "--pool",
						 "4k:256,64k:64,1m:16,4m:8"},
			"agent", "",
			std::vector<std::string>{"VACCEL_TORCH_LABELS=" + labels_, "VACCEL_TORCH_THREADS=1"});
		ASSERT_TRUE(agent_->ok()) << agent_->Log();
		vaccel_cleanup();
		setenv("VACCEL_PLUGINS", e2e::Abs(e2e::Runfile("PLUGIN_SHM")).c_str(), 1);
		setenv("VACCEL_SHM_SOCKET", agent_->socket().c_str(), 1);
		ASSERT_EQ(vaccel_bootstrap(), VACCEL_OK);
		ASSERT_EQ(vaccel_session_init(&sess_, 0), VACCEL_OK) << agent_->Log();
		ASSERT_TRUE(sess_.is_virtio) << "the only plugin here is the transport";
	}
	void TearDown() override
	{
		for (auto *r : res_) {
			vaccel_resource_unregister(r, &sess_);
			vaccel_resource_delete(r);
		}
		vaccel_session_release(&sess_);
		vaccel_cleanup();
		if (agent_) {
			EXPECT_EQ(agent_->Stop(), 0) << agent_->Log();
		}
	}
	vaccel_resource *Model(const std::string &path)
	{
		vaccel_resource *r = nullptr;
		EXPECT_EQ(vaccel_resource_new(&r, path.c_str(), VACCEL_RESOURCE_MODEL), VACCEL_OK);
		if (r) {
			res_.push_back(r);
			EXPECT_EQ(vaccel_resource_register(r, &sess_), VACCEL_OK) << agent_->Log();
		}
		return r;
	}
	int Run(vaccel_resource *m, const std::vector<vaccel_torch_tensor *> &in,
		std::vector<vaccel_torch_tensor *> *out, int nr_out)
	{
		out->assign(nr_out, nullptr);
		return vaccel_torch_model_run(&sess_, m, nullptr, in.data(), (int)in.size(), out->data(),
					      nr_out);
	}
	static void Free(std::vector<vaccel_torch_tensor *> *v)
	{
		for (auto *t : *v)
			vaccel_torch_tensor_delete(t);
		v->clear();
	}
	std::unique_ptr<e2e::Agent> agent_;
	vaccel_session sess_{};
	std::vector<vaccel_resource *> res_;
	std::string labels_;
};

TEST_F(TorchTransport, EveryDtypeBitExactWithLibtorch)
{
	std::string path = torch_test::TmpPath("alltypes.pt");
	torch_models::SaveAllTypes(path);
	vaccel_resource *m = Model(path);
	ASSERT_EQ(vaccel_torch_model_load(&sess_, m), VACCEL_OK) << agent_->Log();
	torch::manual_seed(9);
	std::vector<at::Tensor> in = {
		torch::randint(0, 200, {2, 3}, at::kByte),
		torch::randint(-60, 60, {5}, at::kChar),
		torch::randint(-1000, 1000, {2, 2, 2}, at::kShort),
		torch::randint(-40000, 40000, {3, 1}, at::kInt),
		torch::randint(-(1LL << 40), 1LL << 40, {4}, at::kLong),
		torch::randn({2, 5}).to(at::kHalf),
		torch::randn({1, 2, 3, 4}),
	};
	auto want = torch_test::Reference(path, in).toTupleRef().elements();
	ASSERT_EQ(want.size(), 7u);
	std::vector<vaccel_torch_tensor *> vin, out;
	for (const auto &t : in)
		vin.push_back(torch_test::Borrow(t));
	ASSERT_EQ(Run(m, vin, &out, 7), VACCEL_OK) << agent_->Log();
	for (int i = 0; i < 7; i++)
		EXPECT_TRUE(torch_test::SameTensor(want[i].toTensor(), out[i])) << "output " << i;
	Free(&out);
	// More outputs than the model gives: the host plugin's error, nothing allocated here.
	ASSERT_EQ(Run(m, vin, &out, 8), VACCEL_EINVAL);
	for (auto *t : out)
		EXPECT_EQ(t, nullptr);
	Free(&vin);
}

TEST_F(TorchTransport, CnnInputFromThePoolBitExact)
{
	std::string path = torch_test::TmpPath("cnn.pt");
	torch_models::SaveCnn(path);
	vaccel_resource *m = Model(path);
	torch::manual_seed(3);
	at::Tensor x = torch::randn({1, 3, 224, 224});
	at::Tensor want = torch_test::Reference(path, {x}).toTensor();
	size_t bytes = x.numel() * sizeof(float);
	void *buf = nullptr;
	ASSERT_EQ(vaccel_buffer_alloc(&sess_, bytes, &buf), VACCEL_OK);
	memcpy(buf, x.data_ptr<float>(), bytes);
	int64_t dims[4] = {1, 3, 224, 224};
	vaccel_torch_tensor *t = nullptr;
	ASSERT_EQ(vaccel_torch_tensor_new(&t, 4, dims, VACCEL_TORCH_FLOAT), VACCEL_OK);
	vaccel_torch_tensor_set_data(t, buf, bytes);
	std::vector<vaccel_torch_tensor *> vin{t}, out;
	ASSERT_EQ(Run(m, vin, &out, 1), VACCEL_OK) << agent_->Log();
	EXPECT_TRUE(torch_test::SameTensor(want, out[0]));
	Free(&out);
	Free(&vin);
	EXPECT_EQ(vaccel_buffer_free(&sess_, buf), VACCEL_OK);
}

TEST_F(TorchTransport, ClassifiesAnImageWithTheSessionsModel)
{
	std::string path = torch_test::TmpPath("color.pt");
	torch_models::SaveColor(path);
	Model(path);
	std::string img = torch_test::Png(120, 80, torch_test::Solid(120, 80, 10, 30, 250));
	unsigned char text[64] = {0}, name[64] = {0};
	ASSERT_EQ(vaccel_image_classification(&sess_, img.data(), text, name, img.size(), sizeof(text),
					      sizeof(name)),
		  VACCEL_OK)
		<< agent_->Log();
	EXPECT_STREQ(reinterpret_cast<char *>(text), "blue");
}

} // namespace
