// SPDX-License-Identifier: Apache-2.0
// Every op type of upstream's API through the runtime: the noop plugin's
// deterministic outputs, upstream's checks (a model of the wrong type:
// EINVAL; not registered: EPERM), the image ops through genop, and a
// plugin without an op: ENOTSUP with a log line naming it.
#include "test_util.h"
#include <cstring>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

using rt_test::Boot;
using rt_test::Path;
using rt_test::ReadFile;
using rt_test::TmpPath;

namespace {

const char kImgname[] = "This is a dummy imgname!";
const char kTag[] = "This is a dummy classification tag!";

class Ops : public ::testing::Test {
protected:
	void SetUp() override
	{
		ASSERT_EQ(Boot(Path("PLUGIN_NOOP")), VACCEL_OK);
		ASSERT_EQ(vaccel_session_init(&s_, 0), VACCEL_OK);
		path_ = TmpPath("model.bin");
		std::ofstream(path_) << "not really a model";
		ASSERT_EQ(vaccel_resource_init(&model_, path_.c_str(),
					       VACCEL_RESOURCE_MODEL),
			  VACCEL_OK);
	}
	void TearDown() override
	{
		vaccel_resource_unregister(&model_, &s_);
		vaccel_resource_release(&model_);
		vaccel_session_release(&s_);
		unlink(path_.c_str());
	}
	struct vaccel_session s_;
	struct vaccel_resource model_;
	std::string path_;
};

TEST_F(Ops, ImageOps)
{
	char img[] = "jpeg bytes";
	unsigned char text[64] = {}, name[64] = {};
	ASSERT_EQ(vaccel_image_classification(&s_, img, text, name,
					      sizeof(img), sizeof(text),
					      sizeof(name)),
		  VACCEL_OK);
	EXPECT_STREQ((char *)text, kTag);
	EXPECT_STREQ((char *)name, kImgname);
	typedef int (*op_fn)(struct vaccel_session *, const void *,
			     unsigned char *, size_t, size_t);
	for (op_fn f : { vaccel_image_detection, vaccel_image_segmentation,
			 vaccel_image_pose, vaccel_image_depth }) {
		unsigned char out[8] = {};
		ASSERT_EQ(f(&s_, img, out, sizeof(img), sizeof(out)),
			  VACCEL_OK);
		EXPECT_EQ(std::string((char *)out), std::string(kImgname, 7))
			<< "truncated to the output's size";
		EXPECT_EQ(f(&s_, nullptr, out, 0, sizeof(out)), VACCEL_EINVAL)
			<< "the plugin checks its image";
		EXPECT_EQ(f(nullptr, img, out, sizeof(img), sizeof(out)),
			  VACCEL_EINVAL);
	}
}

TEST_F(Ops, ImageOpsThroughGenop)
{
	char img[] = "jpeg bytes";
	unsigned char text[64] = {}, name[64] = {};
	struct vaccel_arg_array read, write;
	ASSERT_EQ(vaccel_arg_array_init(&read, 2), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_init(&write, 2), VACCEL_OK);
	uint8_t op = VACCEL_OP_IMAGE_CLASSIFY;
	ASSERT_EQ(vaccel_arg_array_add_uint8(&read, &op), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_buffer(&read, img, sizeof(img)),
		  VACCEL_OK);
	// upstream's order: out_imgname, then out_text
	ASSERT_EQ(vaccel_arg_array_add_uchar_array(&write, name, sizeof(name)),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_uchar_array(&write, text, sizeof(text)),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_genop(&s_, read.args, (int)read.count, write.args,
			       (int)write.count),
		  VACCEL_OK);
	EXPECT_STREQ((char *)name, kImgname);
	EXPECT_STREQ((char *)text, kTag);

	for (uint8_t t : { VACCEL_OP_IMAGE_DETECT, VACCEL_OP_IMAGE_SEGMENT,
			   VACCEL_OP_IMAGE_POSE, VACCEL_OP_IMAGE_DEPTH }) {
		memset(name, 0, sizeof(name));
		op = t;
		ASSERT_EQ(vaccel_genop(&s_, read.args, 2, write.args, 1),
			  VACCEL_OK)
			<< vaccel_op_type_to_str((vaccel_op_type_t)t);
		EXPECT_STREQ((char *)name, kImgname);
		EXPECT_EQ(vaccel_genop(&s_, read.args, 2, write.args, 2),
			  VACCEL_EINVAL)
			<< "only classification has a text output";
	}
	op = VACCEL_OP_IMAGE_DETECT;
	write.args[0].size = 0;
	EXPECT_EQ(vaccel_genop(&s_, read.args, 2, write.args, 1),
		  VACCEL_EINVAL)
		<< "an empty output";
	vaccel_arg_array_release(&read);
	vaccel_arg_array_release(&write);
}

TEST_F(Ops, TfModelChecksAndRun)
{
	struct vaccel_tf_status st = {};
	EXPECT_EQ(vaccel_tf_model_load(&s_, &model_, &st), VACCEL_EPERM)
		<< "not registered with the session";
	struct vaccel_resource lib;
	ASSERT_EQ(vaccel_resource_init(&lib, path_.c_str(),
				       VACCEL_RESOURCE_LIB),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_resource_register(&lib, &s_), VACCEL_OK);
	EXPECT_EQ(vaccel_tf_model_load(&s_, &lib, &st), VACCEL_EINVAL)
		<< "a LIB is not a model";
	vaccel_resource_unregister(&lib, &s_);
	vaccel_resource_release(&lib);

	ASSERT_EQ(vaccel_resource_register(&model_, &s_), VACCEL_OK);
	ASSERT_EQ(vaccel_tf_model_load(&s_, &model_, &st), VACCEL_OK);
	EXPECT_EQ(st.code, 0);
	EXPECT_STREQ(st.message, "Operation handled by noop plugin");
	vaccel_tf_status_release(&st);

	int64_t dims[2] = { 1, 3 };
	float in_data[3] = { 1.5f, 2.5f, 3.5f };
	struct vaccel_tf_tensor *in = nullptr;
	ASSERT_EQ(vaccel_tf_tensor_new(&in, 2, dims, VACCEL_TF_FLOAT),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_tf_tensor_set_data(in, in_data, sizeof(in_data)),
		  VACCEL_OK);
	struct vaccel_tf_node in_node, out_node;
	ASSERT_EQ(vaccel_tf_node_init(&in_node, "serving_default_input", 0),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_tf_node_init(&out_node, "StatefulPartitionedCall", 0),
		  VACCEL_OK);
	struct vaccel_tf_tensor *out = nullptr;
	ASSERT_EQ(vaccel_tf_model_run(&s_, &model_, nullptr, &in_node, &in, 1,
				      &out_node, &out, 1, &st),
		  VACCEL_OK);
	ASSERT_NE(out, nullptr);
	EXPECT_TRUE(out->owned);
	EXPECT_NE(out->data, in_data);
	EXPECT_EQ(memcmp(out->data, in_data, sizeof(in_data)), 0);
	EXPECT_EQ(out->nr_dims, 2);
	EXPECT_EQ(out->dims[1], 3);
	EXPECT_EQ(out->data_type, VACCEL_TF_FLOAT);
	struct vaccel_tf_tensor *out2[2] = {};
	EXPECT_EQ(vaccel_tf_model_run(&s_, &model_, nullptr, &in_node, &in, 1,
				      &out_node, out2, 2, nullptr),
		  VACCEL_EINVAL)
		<< "more outputs than inputs to copy";
	EXPECT_EQ(vaccel_tf_tensor_delete(out), VACCEL_OK);
	EXPECT_EQ(vaccel_tf_tensor_delete(in), VACCEL_OK)
		<< "caller's data is not freed (ASan checks)";
	vaccel_tf_status_release(&st);
	ASSERT_EQ(vaccel_tf_model_unload(&s_, &model_, &st), VACCEL_OK);
	vaccel_tf_status_release(&st);
	vaccel_tf_node_release(&in_node);
	vaccel_tf_node_release(&out_node);
}

TEST(TfHelpers, OwnershipAsUpstream)
{
	// a buffer takes its data over: release frees it (ASan checks)
	struct vaccel_tf_buffer *b = nullptr;
	char *bytes = static_cast<char *>(malloc(8));
	ASSERT_EQ(vaccel_tf_buffer_new(&b, bytes, 8), VACCEL_OK);
	EXPECT_EQ(b->data, bytes) << "no copy";
	void *data;
	size_t size;
	ASSERT_EQ(vaccel_tf_buffer_take_data(b, &data, &size), VACCEL_OK);
	EXPECT_EQ(data, bytes);
	EXPECT_EQ(b->data, nullptr);
	EXPECT_EQ(vaccel_tf_buffer_delete(b), VACCEL_OK);
	free(data);

	struct vaccel_tf_status *st = nullptr;
	EXPECT_EQ(vaccel_tf_status_new(&st, 3, nullptr), VACCEL_EINVAL);
	ASSERT_EQ(vaccel_tf_status_new(&st, 3, "bad shape"), VACCEL_OK);
	EXPECT_EQ(st->code, 3);
	EXPECT_STREQ(st->message, "bad shape");
	EXPECT_EQ(vaccel_tf_status_delete(st), VACCEL_OK);

	// dims are copied (zeroed without dims); allocated data is owned
	struct vaccel_tf_tensor *t = nullptr;
	ASSERT_EQ(vaccel_tf_tensor_allocate(&t, 3, nullptr, VACCEL_TF_INT8, 6),
		  VACCEL_OK);
	EXPECT_EQ(t->dims[2], 0);
	EXPECT_TRUE(t->owned);
	ASSERT_EQ(vaccel_tf_tensor_take_data(t, &data, &size), VACCEL_OK);
	EXPECT_FALSE(t->owned);
	char mine[6];
	ASSERT_EQ(vaccel_tf_tensor_set_data(t, mine, sizeof(mine)), VACCEL_OK);
	EXPECT_FALSE(t->owned) << "set_data never hands data over";
	EXPECT_EQ(vaccel_tf_tensor_delete(t), VACCEL_OK);
	free(data);
	EXPECT_EQ(vaccel_tf_tensor_new(&t, 0, nullptr, VACCEL_TF_INT8),
		  VACCEL_EINVAL);
}

TEST_F(Ops, TfliteRun)
{
	ASSERT_EQ(vaccel_resource_register(&model_, &s_), VACCEL_OK);
	ASSERT_EQ(vaccel_tflite_model_load(&s_, &model_), VACCEL_OK);
	int32_t dims[1] = { 4 };
	struct vaccel_tflite_tensor *in = nullptr, *out = nullptr;
	ASSERT_EQ(vaccel_tflite_tensor_allocate(&in, 1, dims,
						VACCEL_TFLITE_INT32, 16),
		  VACCEL_OK);
	EXPECT_TRUE(in->owned);
	for (int i = 0; i < 4; i++)
		((int32_t *)in->data)[i] = i * 10;
	uint8_t status = 7;
	ASSERT_EQ(vaccel_tflite_model_run(&s_, &model_, &in, 1, &out, 1,
					  &status),
		  VACCEL_OK);
	EXPECT_EQ(status, 0);
	ASSERT_NE(out, nullptr);
	EXPECT_EQ(((int32_t *)out->data)[3], 30);
	void *data;
	size_t size;
	ASSERT_EQ(vaccel_tflite_tensor_take_data(out, &data, &size), VACCEL_OK);
	EXPECT_EQ(size, 16u);
	EXPECT_FALSE(out->owned);
	free(data); // taken: ours to free
	EXPECT_EQ(vaccel_tflite_tensor_delete(out), VACCEL_OK);
	EXPECT_EQ(vaccel_tflite_tensor_delete(in), VACCEL_OK);
	EXPECT_EQ(vaccel_tflite_tensor_init(in = (struct vaccel_tflite_tensor *)
							 calloc(1, sizeof(*in)),
					    0, dims, VACCEL_TFLITE_INT32),
		  VACCEL_EINVAL)
		<< "no dims";
	free(in);
	ASSERT_EQ(vaccel_tflite_model_unload(&s_, &model_), VACCEL_OK);
}

TEST_F(Ops, TorchRunCopiesInputs)
{
	EXPECT_EQ(vaccel_torch_model_load(&s_, &model_), VACCEL_EPERM);
	ASSERT_EQ(vaccel_resource_register(&model_, &s_), VACCEL_OK);
	ASSERT_EQ(vaccel_torch_model_load(&s_, &model_), VACCEL_OK);
	int64_t dims[2] = { 2, 2 };
	struct vaccel_torch_tensor *in = nullptr, *out = nullptr;
	ASSERT_EQ(vaccel_torch_tensor_allocate(&in, 2, dims, VACCEL_TORCH_FLOAT,
					       4 * sizeof(float)),
		  VACCEL_OK);
	((float *)in->data)[3] = 42.0f;
	ASSERT_EQ(vaccel_torch_model_run(&s_, &model_, nullptr, &in, 1, &out,
					 1),
		  VACCEL_OK);
	ASSERT_NE(out, nullptr);
	EXPECT_EQ(((float *)out->data)[3], 42.0f);
	EXPECT_EQ(out->nr_dims, 2);
	EXPECT_EQ(out->data_type, VACCEL_TORCH_FLOAT);
	EXPECT_EQ(vaccel_torch_tensor_delete(out), VACCEL_OK);
	EXPECT_EQ(vaccel_torch_tensor_delete(in), VACCEL_OK);
}

TEST_F(Ops, FpgaMinmaxOpencv)
{
	int a[3] = { 1, 2, 3 }, out_a[3] = {};
	ASSERT_EQ(vaccel_fpga_arraycopy(&s_, a, out_a, 3), VACCEL_OK);
	EXPECT_EQ(out_a[2], 3);
	float fa[2] = { 1, 2 }, fb[2] = { 10, 20 }, fc[2] = {}, fm[2] = {};
	ASSERT_EQ(vaccel_fpga_vadd(&s_, fa, fb, fc, 2, 2), VACCEL_OK);
	EXPECT_EQ(fc[1], 22.0f);
	ASSERT_EQ(vaccel_fpga_mmult(&s_, fa, fb, fc, 2), VACCEL_OK);
	EXPECT_EQ(fc[0], 9.1f);
	ASSERT_EQ(vaccel_fpga_parallel(&s_, fa, fb, fc, fm, 2), VACCEL_OK);
	EXPECT_EQ(fc[0], 11.0f);
	EXPECT_EQ(fm[1], 1.0f);

	double in[3] = { 5, -2, 7 }, outd[3] = {}, mn = 0, mx = 0;
	ASSERT_EQ(vaccel_minmax(&s_, in, 3, 0, 10, outd, &mn, &mx), VACCEL_OK);
	EXPECT_EQ(outd[2], 7.0);
	EXPECT_EQ(mn, -1.0);
	EXPECT_EQ(mx, 10000.0);

	size_t hdr[4] = {};
	struct vaccel_arg w[1] = { { hdr, sizeof(hdr), VACCEL_ARG_RAW, 0,
				     false } };
	ASSERT_EQ(vaccel_opencv_unpack(&s_, nullptr, 0, w, 1), VACCEL_OK);
	const size_t bytes = sizeof(hdr);
	EXPECT_EQ(hdr[0], bytes / sizeof(float)) << "its size in floats";
}

TEST_F(Ops, FpgaAndMinmaxThroughGenopCheckSizes)
{
	uint8_t op = VACCEL_OP_FPGA_VECTORADD;
	float fa[4] = { 1, 2, 3, 4 }, fb[4] = { 1, 1, 1, 1 }, fc[4] = {};
	struct vaccel_arg read[3] = {
		{ &op, 1, VACCEL_ARG_UINT8, 0, false },
		{ fa, sizeof(fa), VACCEL_ARG_FLOAT32_ARRAY, 0, false },
		{ fb, sizeof(fb), VACCEL_ARG_FLOAT32_ARRAY, 0, false },
	};
	struct vaccel_arg write[1] = {
		{ fc, sizeof(fc), VACCEL_ARG_FLOAT32_ARRAY, 0, false },
	};
	ASSERT_EQ(vaccel_genop(&s_, read, 3, write, 1), VACCEL_OK);
	EXPECT_EQ(fc[3], 5.0f);
	write[0].size = sizeof(float); // smaller than a
	EXPECT_EQ(vaccel_genop(&s_, read, 3, write, 1), VACCEL_EINVAL)
		<< "an output smaller than the input would be overrun";

	op = VACCEL_OP_MINMAX;
	double in[2] = { 1, 2 }, outd[2], mn, mx;
	int n = 2, lo = 0, hi = 5;
	struct vaccel_arg mread[5] = {
		{ &op, 1, VACCEL_ARG_UINT8, 0, false },
		{ in, sizeof(in), VACCEL_ARG_RAW, 0, false },
		{ &n, sizeof(n), VACCEL_ARG_RAW, 0, false },
		{ &lo, sizeof(lo), VACCEL_ARG_RAW, 0, false },
		{ &hi, sizeof(hi), VACCEL_ARG_RAW, 0, false },
	};
	struct vaccel_arg mwrite[3] = {
		{ outd, sizeof(outd), VACCEL_ARG_RAW, 0, false },
		{ &mn, sizeof(mn), VACCEL_ARG_RAW, 0, false },
		{ &mx, sizeof(mx), VACCEL_ARG_RAW, 0, false },
	};
	ASSERT_EQ(vaccel_genop(&s_, mread, 5, mwrite, 3), VACCEL_OK);
	EXPECT_EQ(mx, 10000.0);
	n = 1000;
	EXPECT_EQ(vaccel_genop(&s_, mread, 5, mwrite, 3), VACCEL_EINVAL)
		<< "ndata beyond the buffers";
}

TEST(OpsMissing, NotSupportedNamesTheOp)
{
	std::string log = TmpPath("ops.log");
	ASSERT_EQ(Boot(Path("PLUGIN_BLAS"), log.c_str()), VACCEL_OK);
	struct vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, 0), VACCEL_OK);
	std::string p = TmpPath("m.bin");
	std::ofstream(p) << "m";
	struct vaccel_resource m;
	ASSERT_EQ(vaccel_resource_init(&m, p.c_str(), VACCEL_RESOURCE_MODEL),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_resource_register(&m, &s), VACCEL_OK);
	struct vaccel_tf_status st = {};
	EXPECT_EQ(vaccel_tf_model_load(&s, &m, &st), VACCEL_ENOTSUP);
	EXPECT_EQ(vaccel_tflite_model_load(&s, &m), VACCEL_ENOTSUP);
	char img[2] = "i";
	unsigned char out[4];
	EXPECT_EQ(vaccel_image_depth(&s, img, out, 2, 4), VACCEL_ENOTSUP);
	vaccel_resource_unregister(&m, &s);
	vaccel_resource_release(&m);
	vaccel_session_release(&s);
	vaccel_cleanup(); // flushes and closes the log
	std::string text = ReadFile(log);
	EXPECT_NE(text.find("VACCEL_OP_TF_MODEL_LOAD"), std::string::npos)
		<< text;
	EXPECT_NE(text.find("VACCEL_OP_TFLITE_MODEL_LOAD"), std::string::npos);
	EXPECT_NE(text.find("VACCEL_OP_IMAGE_DEPTH"), std::string::npos);
	unlink(p.c_str());
}

} // namespace
