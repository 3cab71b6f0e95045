// The ML ops through the transport against a real agent serving them with the noop plugin:
// torch model load/run (tensor records, outputs allocated on the host and freed here with
// vaccel_torch_tensor_delete), torch sgemm, tf and tflite load/run/unload (nodes, status), opencv, the five image ops, the four FPGA ops and
// minmax give what the same plugin gives locally in this process; inputs from the pool
// (vaccel_buffer_alloc) give the same; malformed tensors are refused by the agent, which
// keeps serving.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

extern "C" {
#include <vaccel.h>
}

#include "agent_util.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace {

// Each test has an agent of its own: a test that leaves the agent in a bad state cannot
// spoil the next one.
class MlOps : public testing::Test {
      protected:
	void SetUp() override
	{
		agent_ = std::make_unique<e2e::Agent>(std::vector<std::string>{
			"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_NOOP")), "--pool", "4k:256,64k:64,1m:16,4m:4"});
		ASSERT_TRUE(agent_->ok()) << agent_->Log();
		vaccel_cleanup();
		std::string plugins = e2e::Abs(e2e::Runfile("PLUGIN_SHM")) + ":" + e2e::Abs(e2e::Runfile("PLUGIN_NOOP"));
		setenv("VACCEL_PLUGINS", plugins.c_str(), 1);
		setenv("VACCEL_SHM_SOCKET", agent_->socket().c_str(), 1);
		ASSERT_EQ(vaccel_bootstrap(), VACCEL_OK);
		ASSERT_EQ(vaccel_session_init(&remote_, VACCEL_PLUGIN_REMOTE), VACCEL_OK) << agent_->Log();
		ASSERT_EQ(vaccel_session_init(&local_, VACCEL_PLUGIN_DEBUG), VACCEL_OK);
		ASSERT_TRUE(remote_.is_virtio);
		ASSERT_FALSE(local_.is_virtio);
	}
	void TearDown() override
	{
		for (auto *r : res_) {
			vaccel_resource_release(r);
			delete r;
		}
		res_.clear();
		vaccel_session_release(&remote_);
		vaccel_session_release(&local_);
		vaccel_cleanup();
		if (agent_) {
			EXPECT_EQ(agent_->Stop(), 0) << "the agent exits 0 on SIGTERM\n" << agent_->Log();
		}
	}
	// A model resource registered with sess (its bytes are shipped to the host for remote_).
	vaccel_resource *Model(vaccel_session *sess)
	{
		static const char bytes[] = "not really TorchScript, but the noop plugin only looks";
		auto *r = new vaccel_resource{};
		EXPECT_EQ(vaccel_resource_init_from_buf(r, bytes, sizeof(bytes), VACCEL_RESOURCE_MODEL,
							"model.pt", false),
			  VACCEL_OK);
		EXPECT_EQ(vaccel_resource_register(r, sess), VACCEL_OK) << agent_->Log();
		res_.push_back(r);
		return r;
	}
	std::unique_ptr<e2e::Agent> agent_;
	vaccel_session remote_{}, local_{};
	std::vector<vaccel_resource *> res_;
};

// Two tensors of different types and shapes, with data of their own.
struct Inputs {
	std::vector<float> f{1.5f, -2.0f, 3.25f, 4.0f, 5.5f, -6.75f};
	std::vector<int64_t> l{7, -8, 9, 1ll << 40};
	int64_t fdims[2] = {2, 3}, ldims[1] = {4};
	vaccel_torch_tensor *t[2] = {nullptr, nullptr};
	Inputs()
	{
		EXPECT_EQ(vaccel_torch_tensor_new(&t[0], 2, fdims, VACCEL_TORCH_FLOAT), VACCEL_OK);
		EXPECT_EQ(vaccel_torch_tensor_new(&t[1], 1, ldims, VACCEL_TORCH_LONG), VACCEL_OK);
		vaccel_torch_tensor_set_data(t[0], f.data(), f.size() * sizeof(float));
		vaccel_torch_tensor_set_data(t[1], l.data(), l.size() * sizeof(int64_t));
	}
	~Inputs()
	{
		vaccel_torch_tensor_delete(t[0]);
		vaccel_torch_tensor_delete(t[1]);
	}
};

void ExpectSameTensor(const vaccel_torch_tensor *a, const vaccel_torch_tensor *b, int i)
{
	ASSERT_NE(a, nullptr) << "output " << i;
	ASSERT_NE(b, nullptr) << "output " << i;
	EXPECT_EQ(a->data_type, b->data_type) << "output " << i;
	ASSERT_EQ(a->nr_dims, b->nr_dims) << "output " << i;
	for (int64_t d = 0; d < a->nr_dims; d++)
		EXPECT_EQ(a->dims[d], b->dims[d]) << "output " << i << " dim " << d;
	ASSERT_EQ(a->size, b->size) << "output " << i;
	EXPECT_EQ(memcmp(a->data, b->data, a->size), 0) << "output " << i << ": data differs";
	EXPECT_TRUE(a->owned) << "an output owns its data (freed by vaccel_torch_tensor_delete)";
}

TEST_F(MlOps, TorchRunGivesTheLocalOutputs)
{
	vaccel_resource *rm = Model(&remote_), *lm = Model(&local_);
	ASSERT_EQ(vaccel_torch_model_load(&remote_, rm), VACCEL_OK) << agent_->Log();
	ASSERT_EQ(vaccel_torch_model_load(&local_, lm), VACCEL_OK);
	Inputs in;
	char opts[] = "options";
	vaccel_torch_buffer run_opts{opts, sizeof(opts)};
	vaccel_torch_tensor *ro[2] = {nullptr, nullptr}, *lo[2] = {nullptr, nullptr};
	ASSERT_EQ(vaccel_torch_model_run(&remote_, rm, &run_opts, in.t, 2, ro, 2), VACCEL_OK) << agent_->Log();
	ASSERT_EQ(vaccel_torch_model_run(&local_, lm, &run_opts, in.t, 2, lo, 2), VACCEL_OK);
	for (int i = 0; i < 2; i++) {
		ExpectSameTensor(ro[i], lo[i], i);
		vaccel_torch_tensor_delete(ro[i]);
		vaccel_torch_tensor_delete(lo[i]);
	}
}

TEST_F(MlOps, TorchInputsFromThePoolGiveTheSame)
{
	vaccel_resource *rm = Model(&remote_);
	Inputs in;
	void *pool_f = nullptr;
	size_t bytes = in.f.size() * sizeof(float);
	ASSERT_EQ(vaccel_buffer_alloc(&remote_, bytes, &pool_f), VACCEL_OK);
	memcpy(pool_f, in.f.data(), bytes);
	vaccel_torch_tensor_set_data(in.t[0], pool_f, bytes);
	vaccel_torch_tensor *ro[1] = {nullptr};
	ASSERT_EQ(vaccel_torch_model_run(&remote_, rm, nullptr, in.t, 1, ro, 1), VACCEL_OK) << agent_->Log();
	ASSERT_NE(ro[0], nullptr);
	ASSERT_EQ(ro[0]->size, bytes);
	EXPECT_EQ(memcmp(ro[0]->data, in.f.data(), bytes), 0);
	EXPECT_NE(ro[0]->data, pool_f) << "the output is the caller's own memory, not the pool's";
	vaccel_torch_tensor_delete(ro[0]);
	EXPECT_EQ(vaccel_buffer_free(&remote_, pool_f), VACCEL_OK);
}

// The application holding every buffer of the largest class does not make a run wait for
// one: its outputs come back in a smaller buffer.
TEST_F(MlOps, TorchRunWhileTheApplicationHoldsTheLargestBuffers)
{
	vaccel_resource *rm = Model(&remote_);
	std::vector<void *> held;
	for (void *p = nullptr; vaccel_buffer_alloc(&remote_, 4 << 20, &p) == VACCEL_OK; p = nullptr)
		held.push_back(p);
	ASSERT_EQ(held.size(), 4u) << "the agent's --pool has four 4 MiB buffers";
	Inputs in;
	vaccel_torch_tensor *ro[2] = {nullptr, nullptr};
	ASSERT_EQ(vaccel_torch_model_run(&remote_, rm, nullptr, in.t, 2, ro, 2), VACCEL_OK) << agent_->Log();
	ASSERT_NE(ro[1], nullptr);
	EXPECT_EQ(memcmp(ro[1]->data, in.l.data(), in.l.size() * sizeof(int64_t)), 0);
	vaccel_torch_tensor_delete(ro[0]);
	vaccel_torch_tensor_delete(ro[1]);
	for (void *p : held)
		EXPECT_EQ(vaccel_buffer_free(&remote_, p), VACCEL_OK);
}

TEST_F(MlOps, MalformedTensorsAreRefusedAndTheAgentKeepsServing)
{
	vaccel_resource *rm = Model(&remote_);
	Inputs in;
	vaccel_torch_tensor *ro[1] = {nullptr};
	in.t[0]->size -= 4; // 6 floats declared, 5 floats of data
	EXPECT_EQ(vaccel_torch_model_run(&remote_, rm, nullptr, in.t, 1, ro, 1), VACCEL_EINVAL);
	EXPECT_EQ(ro[0], nullptr);
	in.t[0]->size += 4;
	in.t[0]->dims[0] = -2; // a negative dim
	in.t[0]->dims[1] = -3;
	EXPECT_EQ(vaccel_torch_model_run(&remote_, rm, nullptr, in.t, 1, ro, 1), VACCEL_EINVAL);
	in.t[0]->dims[0] = 2;
	in.t[0]->dims[1] = 3;
	in.t[0]->data_type = (vaccel_torch_data_type)42; // no such type
	EXPECT_EQ(vaccel_torch_model_run(&remote_, rm, nullptr, in.t, 1, ro, 1), VACCEL_EINVAL);
	in.t[0]->data_type = VACCEL_TORCH_FLOAT;
	ASSERT_EQ(vaccel_torch_model_run(&remote_, rm, nullptr, in.t, 1, ro, 1), VACCEL_OK) << agent_->Log();
	vaccel_torch_tensor_delete(ro[0]);
	EXPECT_EQ(vaccel_noop(&remote_), VACCEL_OK);
}

TEST_F(MlOps, TorchRunNeedsARegisteredModel)
{
	vaccel_resource other{};
	static const char bytes[] = "m";
	ASSERT_EQ(vaccel_resource_init_from_buf(&other, bytes, 1, VACCEL_RESOURCE_MODEL, "m.pt", false),
		  VACCEL_OK);
	Inputs in;
	vaccel_torch_tensor *ro[1] = {nullptr};
	EXPECT_EQ(vaccel_torch_model_run(&remote_, &other, nullptr, in.t, 1, ro, 1), VACCEL_EPERM);
	vaccel_resource_release(&other);
}

TEST_F(MlOps, TorchSgemmAnswersAsLocally)
{
	Inputs a, b, c;
	vaccel_torch_tensor *ro = nullptr, *lo = nullptr;
	EXPECT_EQ(vaccel_torch_sgemm(&remote_, &a.t[0], &b.t[0], &c.t[0], 2, 3, 2, &ro),
		  vaccel_torch_sgemm(&local_, &a.t[0], &b.t[0], &c.t[0], 2, 3, 2, &lo));
	EXPECT_EQ(ro == nullptr, lo == nullptr) << "the noop plugin allocates no output";
	vaccel_torch_tensor_delete(ro);
	vaccel_torch_tensor_delete(lo);
}

TEST_F(MlOps, ImageOpsGiveTheLocalOutputs)
{
	std::vector<unsigned char> img(100000);
	for (size_t i = 0; i < img.size(); i++)
		img[i] = (unsigned char)(i * 7);
	unsigned char rt[64] = {0}, rn[64] = {0}, lt[64] = {0}, ln[64] = {0};
	ASSERT_EQ(vaccel_image_classification(&remote_, img.data(), rt, rn, img.size(), sizeof(rt), sizeof(rn)),
		  VACCEL_OK)
		<< agent_->Log();
	ASSERT_EQ(vaccel_image_classification(&local_, img.data(), lt, ln, img.size(), sizeof(lt), sizeof(ln)),
		  VACCEL_OK);
	EXPECT_EQ(memcmp(rt, lt, sizeof(rt)), 0) << rt << " vs " << lt;
	EXPECT_EQ(memcmp(rn, ln, sizeof(rn)), 0) << rn << " vs " << ln;
	EXPECT_NE(rt[0], 0) << "the host's tag came back";
	typedef int (*image_fn)(vaccel_session *, const void *, unsigned char *, size_t, size_t);
	image_fn fns[] = {vaccel_image_detection, vaccel_image_segmentation, vaccel_image_pose,
			  vaccel_image_depth};
	for (image_fn fn : fns) {
		memset(rn, 0, sizeof(rn));
		memset(ln, 0, sizeof(ln));
		ASSERT_EQ(fn(&remote_, img.data(), rn, img.size(), sizeof(rn)), VACCEL_OK) << agent_->Log();
		ASSERT_EQ(fn(&local_, img.data(), ln, img.size(), sizeof(ln)), VACCEL_OK);
		EXPECT_EQ(memcmp(rn, ln, sizeof(rn)), 0) << rn << " vs " << ln;
		EXPECT_NE(rn[0], 0);
	}
}

TEST_F(MlOps, FpgaAndMinmaxGiveTheLocalOutputs)
{
	float a[5] = {1, 2, 3, 4, 5}, b[5] = {10, 20, 30, 40, 50};
	float rc[5] = {0}, lc[5] = {0}, rm[5] = {0}, lm[5] = {0};
	ASSERT_EQ(vaccel_fpga_vadd(&remote_, a, b, rc, 5, 5), VACCEL_OK) << agent_->Log();
	ASSERT_EQ(vaccel_fpga_vadd(&local_, a, b, lc, 5, 5), VACCEL_OK);
	EXPECT_EQ(memcmp(rc, lc, sizeof(rc)), 0);
	EXPECT_EQ(rc[4], 55.0f);
	ASSERT_EQ(vaccel_fpga_parallel(&remote_, a, b, rc, rm, 5), VACCEL_OK);
	ASSERT_EQ(vaccel_fpga_parallel(&local_, a, b, lc, lm, 5), VACCEL_OK);
	EXPECT_EQ(memcmp(rc, lc, sizeof(rc)), 0);
	EXPECT_EQ(memcmp(rm, lm, sizeof(rm)), 0);
	ASSERT_EQ(vaccel_fpga_mmult(&remote_, a, b, rc, 5), VACCEL_OK);
	ASSERT_EQ(vaccel_fpga_mmult(&local_, a, b, lc, 5), VACCEL_OK);
	EXPECT_EQ(memcmp(rc, lc, sizeof(rc)), 0);
	int ia[4] = {4, -3, 2, 1}, ir[4] = {0}, il[4] = {0};
	ASSERT_EQ(vaccel_fpga_arraycopy(&remote_, ia, ir, 4), VACCEL_OK);
	ASSERT_EQ(vaccel_fpga_arraycopy(&local_, ia, il, 4), VACCEL_OK);
	EXPECT_EQ(memcmp(ir, il, sizeof(ir)), 0);
	EXPECT_EQ(memcmp(ir, ia, sizeof(ir)), 0);

	double in[6] = {3, 1, 4, 1, 5, 9}, ro[6] = {0}, lo[6] = {0};
	double rmin = 0, rmax = 0, lmin = 0, lmax = 0;
	ASSERT_EQ(vaccel_minmax(&remote_, in, 6, 2, 8, ro, &rmin, &rmax), VACCEL_OK) << agent_->Log();
	ASSERT_EQ(vaccel_minmax(&local_, in, 6, 2, 8, lo, &lmin, &lmax), VACCEL_OK);
	EXPECT_EQ(memcmp(ro, lo, sizeof(ro)), 0);
	EXPECT_EQ(rmin, lmin);
	EXPECT_EQ(rmax, lmax);
}

TEST_F(MlOps, TfRunGivesTheLocalOutputsAndStatus)
{
	vaccel_resource *rm = Model(&remote_), *lm = Model(&local_);
	vaccel_tf_status rs{}, ls{};
	ASSERT_EQ(vaccel_tf_model_load(&remote_, rm, &rs), VACCEL_OK) << agent_->Log();
	ASSERT_EQ(vaccel_tf_model_load(&local_, lm, &ls), VACCEL_OK);
	EXPECT_EQ(rs.code, ls.code);
	ASSERT_NE(rs.message, nullptr);
	EXPECT_STREQ(rs.message, ls.message);
	vaccel_tf_status_release(&rs);
	vaccel_tf_status_release(&ls);

	std::vector<double> d{1.25, -2.5, 3.75};
	std::vector<int32_t> i32{5, -6, 7, -8};
	int64_t ddims[1] = {3}, idims[2] = {2, 2};
	vaccel_tf_tensor *in[2] = {nullptr, nullptr};
	ASSERT_EQ(vaccel_tf_tensor_new(&in[0], 1, ddims, VACCEL_TF_DOUBLE), VACCEL_OK);
	ASSERT_EQ(vaccel_tf_tensor_new(&in[1], 2, idims, VACCEL_TF_INT32), VACCEL_OK);
	vaccel_tf_tensor_set_data(in[0], d.data(), d.size() * sizeof(double));
	vaccel_tf_tensor_set_data(in[1], i32.data(), i32.size() * sizeof(int32_t));
	vaccel_tf_node in_nodes[2], out_nodes[2];
	vaccel_tf_node_init(&in_nodes[0], "serving_default_x", 0);
	vaccel_tf_node_init(&in_nodes[1], "serving_default_y", 1);
	vaccel_tf_node_init(&out_nodes[0], "StatefulPartitionedCall", 0);
	vaccel_tf_node_init(&out_nodes[1], "StatefulPartitionedCall", 1);
	vaccel_tf_tensor *ro[2] = {nullptr, nullptr}, *lo[2] = {nullptr, nullptr};
	ASSERT_EQ(vaccel_tf_model_run(&remote_, rm, nullptr, in_nodes, in, 2, out_nodes, ro, 2, &rs), VACCEL_OK)
		<< agent_->Log();
	ASSERT_EQ(vaccel_tf_model_run(&local_, lm, nullptr, in_nodes, in, 2, out_nodes, lo, 2, &ls), VACCEL_OK);
	EXPECT_EQ(rs.code, ls.code);
	EXPECT_STREQ(rs.message, ls.message);
	for (int i = 0; i < 2; i++) {
		ASSERT_NE(ro[i], nullptr);
		ASSERT_NE(lo[i], nullptr);
		EXPECT_EQ(ro[i]->data_type, lo[i]->data_type);
		ASSERT_EQ(ro[i]->nr_dims, lo[i]->nr_dims);
		for (int k = 0; k < ro[i]->nr_dims; k++)
			EXPECT_EQ(ro[i]->dims[k], lo[i]->dims[k]);
		ASSERT_EQ(ro[i]->size, lo[i]->size);
		EXPECT_EQ(memcmp(ro[i]->data, lo[i]->data, ro[i]->size), 0) << "output " << i;
		vaccel_tf_tensor_delete(ro[i]);
		vaccel_tf_tensor_delete(lo[i]);
	}
	vaccel_tf_status_release(&rs);
	vaccel_tf_status_release(&ls);
	// A node name longer than a record holds is refused before anything crosses.
	std::string long_name(200, 'n');
	vaccel_tf_node_release(&in_nodes[0]);
	vaccel_tf_node_init(&in_nodes[0], long_name.c_str(), 0);
	EXPECT_EQ(vaccel_tf_model_run(&remote_, rm, nullptr, in_nodes, in, 1, out_nodes, ro, 1, &rs),
		  VACCEL_EINVAL);
	for (int i = 0; i < 2; i++) {
		vaccel_tf_node_release(&in_nodes[i]);
		vaccel_tf_node_release(&out_nodes[i]);
		vaccel_tf_tensor_delete(in[i]);
	}
	ASSERT_EQ(vaccel_tf_model_unload(&remote_, rm, &rs), VACCEL_OK) << agent_->Log();
	vaccel_tf_status_release(&rs);
}

TEST_F(MlOps, TfliteRunGivesTheLocalOutputs)
{
	vaccel_resource *rm = Model(&remote_), *lm = Model(&local_);
	ASSERT_EQ(vaccel_tflite_model_load(&remote_, rm), VACCEL_OK) << agent_->Log();
	ASSERT_EQ(vaccel_tflite_model_load(&local_, lm), VACCEL_OK);
	std::vector<uint8_t> px(2 * 3 * 4);
	for (size_t i = 0; i < px.size(); i++)
		px[i] = (uint8_t)(i * 11);
	int32_t dims[3] = {2, 3, 4};
	vaccel_tflite_tensor *in[1] = {nullptr};
	ASSERT_EQ(vaccel_tflite_tensor_new(&in[0], 3, dims, VACCEL_TFLITE_UINT8), VACCEL_OK);
	vaccel_tflite_tensor_set_data(in[0], px.data(), px.size());
	vaccel_tflite_tensor *ro[1] = {nullptr}, *lo[1] = {nullptr};
	uint8_t rst = 99, lst = 98;
	ASSERT_EQ(vaccel_tflite_model_run(&remote_, rm, in, 1, ro, 1, &rst), VACCEL_OK) << agent_->Log();
	ASSERT_EQ(vaccel_tflite_model_run(&local_, lm, in, 1, lo, 1, &lst), VACCEL_OK);
	EXPECT_EQ(rst, lst);
	ASSERT_NE(ro[0], nullptr);
	EXPECT_EQ(ro[0]->data_type, lo[0]->data_type);
	ASSERT_EQ(ro[0]->nr_dims, 3);
	for (int k = 0; k < 3; k++)
		EXPECT_EQ(ro[0]->dims[k], dims[k]);
	ASSERT_EQ(ro[0]->size, px.size());
	EXPECT_EQ(memcmp(ro[0]->data, px.data(), px.size()), 0);
	vaccel_tflite_tensor_delete(ro[0]);
	vaccel_tflite_tensor_delete(lo[0]);
	ro[0] = nullptr;
	// A string tensor has no fixed element size: the agent refuses it.
	in[0]->data_type = VACCEL_TFLITE_STRING;
	EXPECT_EQ(vaccel_tflite_model_run(&remote_, rm, in, 1, ro, 1, &rst), VACCEL_EINVAL);
	EXPECT_EQ(ro[0], nullptr);
	vaccel_tflite_tensor_delete(in[0]);
	EXPECT_EQ(vaccel_tflite_model_unload(&remote_, rm), VACCEL_OK) << agent_->Log();
}

TEST_F(MlOps, OpencvGivesTheLocalOutputs)
{
	float in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	unsigned char ro[64], lo[64];
	memset(ro, 0xee, sizeof(ro));
	memset(lo, 0xee, sizeof(lo));
	vaccel_arg read[1] = {{in, sizeof(in), VACCEL_ARG_FLOAT32_ARRAY, 0, false}};
	vaccel_arg rw[1] = {{ro, sizeof(ro), VACCEL_ARG_RAW, 0, false}};
	vaccel_arg lw[1] = {{lo, sizeof(lo), VACCEL_ARG_RAW, 0, false}};
	ASSERT_EQ(vaccel_opencv_unpack(&remote_, read, 1, rw, 1), VACCEL_OK) << agent_->Log();
	ASSERT_EQ(vaccel_opencv_unpack(&local_, read, 1, lw, 1), VACCEL_OK);
	EXPECT_EQ(memcmp(ro, lo, sizeof(ro)), 0);
	size_t floats = 0;
	memcpy(&floats, ro, sizeof(floats));
	EXPECT_EQ(floats, sizeof(ro) / sizeof(float)) << "the noop plugin writes the output's size";
}

} // namespace
