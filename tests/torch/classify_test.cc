// SPDX-License-Identifier: Apache-2.0
// IMAGE_CLASSIFY on the torch plugin: images and labels files written by
// the test, the session's registered model, and the label the test expects
// from its own preprocessing and libtorch's own forward.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "tests/torch/models.h"
#include "tests/torch/util.h"

using namespace torch_test;

namespace {

std::string log_path;

// vaccel_image_classification with 64-byte output buffers.
int Classify(struct vaccel_session *sess, const std::string &img,
	     std::string *text, std::string *imgname)
{
	unsigned char t[64] = { 0 }, n[64] = { 0 };
	int ret = vaccel_image_classification(sess, img.data(), t, n,
					      img.size(), sizeof(t), sizeof(n));
	*text = reinterpret_cast<char *>(t);
	*imgname = reinterpret_cast<char *>(n);
	return ret;
}

// Upstream's preprocessing, restated: nearest-neighbour to 224 x 224, /255,
// ImageNet mean and std, CHW.
at::Tensor Preprocess(int w, int h, const std::vector<unsigned char> &px)
{
	const float mean[3] = { 0.485F, 0.456F, 0.406F };
	const float std[3] = { 0.229F, 0.224F, 0.225F };
	at::Tensor x = torch::empty({ 1, 3, 224, 224 });
	float *d = x.data_ptr<float>();
	for (int c = 0; c < 3; c++)
		for (int y = 0; y < 224; y++)
			for (int i = 0; i < 224; i++) {
				int sy = y * h / 224, sx = i * w / 224;
				float v = px[((size_t)sy * w + sx) * 3 + c];
				d[(c * 224 + y) * 224 + i] =
					(v / 255.0F - mean[c]) / std[c];
			}
	return x;
}

class TorchClassify : public ::testing::Test {
protected:
	static void SetUpTestSuite()
	{
		log_path = TmpPath("vaccel.log");
		ASSERT_EQ(Boot(Env("PLUGIN_TORCH"), log_path), VACCEL_OK);
	}

	void SetUp() override
	{
		ASSERT_EQ(vaccel_session_init(&sess, 0), VACCEL_OK);
		labels = TmpPath("labels.txt");
		setenv("VACCEL_TORCH_LABELS", labels.c_str(), 1);
	}

	void TearDown() override
	{
		if (model) {
			vaccel_resource_unregister(model, &sess);
			vaccel_resource_delete(model);
		}
		EXPECT_EQ(vaccel_session_release(&sess), VACCEL_OK);
	}

	void Register(const std::string &path)
	{
		ASSERT_EQ(vaccel_resource_new(&model, path.c_str(),
					      VACCEL_RESOURCE_MODEL),
			  VACCEL_OK);
		ASSERT_EQ(vaccel_resource_register(model, &sess), VACCEL_OK);
	}

	struct vaccel_session sess;
	struct vaccel_resource *model = nullptr;
	std::string labels;
};

TEST_F(TorchClassify, ColoursInEveryFormat)
{
	std::string path = TmpPath("color.pt");
	torch_models::SaveColor(path);
	Register(path);
	WriteFile(labels, "red\ngreen\nblue\n");

	struct {
		std::string img;
		const char *want;
	} cases[] = {
		{ Png(300, 200, Solid(300, 200, 230, 20, 10)), "red" },
		{ Bmp(64, 96, Solid(64, 96, 5, 240, 30)), "green" },
		{ Jpeg(500, 400, Solid(500, 400, 10, 30, 250)), "blue" },
		{ Ppm(7, 3, Solid(7, 3, 250, 0, 0)), "red" },
	};
	for (const auto &c : cases) {
		std::string text, name;
		ASSERT_EQ(Classify(&sess, c.img, &text, &name), VACCEL_OK)
			<< ReadFile(log_path);
		EXPECT_EQ(text, c.want);
		EXPECT_EQ(name, c.want);
	}
}

// A random-weight CNN on noise: any difference in decoding, resizing or
// normalisation would change the scores; the label must be libtorch's.
TEST_F(TorchClassify, CnnOnNoiseMatchesLibtorch)
{
	std::string path = TmpPath("cnn.pt");
	torch_models::SaveCnn(path);
	Register(path);
	std::string names;
	for (int i = 0; i < 10; i++)
		names += "class-" + std::to_string(i) + "\r\n";
	WriteFile(labels, names);

	for (int seed = 0; seed < 3; seed++) {
		const int w = 97 + 50 * seed, h = 311 - 40 * seed;
		torch::manual_seed(seed);
		at::Tensor noise =
			torch::randint(0, 256, { h * w * 3 }, at::kByte);
		std::vector<unsigned char> px(noise.data_ptr<uint8_t>(),
					      noise.data_ptr<uint8_t>() +
						      noise.numel());
		at::Tensor y =
			Reference(path, { Preprocess(w, h, px) }).toTensor();
		int64_t want = y.flatten().argmax().item<int64_t>();
		std::string text, name;
		ASSERT_EQ(Classify(&sess, Png(w, h, px), &text, &name),
			  VACCEL_OK);
		EXPECT_EQ(text, "class-" + std::to_string(want));
	}
}

TEST_F(TorchClassify, Errors)
{
	std::string text, name;
	std::string img = Png(8, 8, Solid(8, 8, 255, 0, 0));
	// no model registered with the session
	EXPECT_EQ(Classify(&sess, img, &text, &name), VACCEL_ENOENT);

	std::string path = TmpPath("color-err.pt");
	torch_models::SaveColor(path);
	Register(path);
	// not an image
	EXPECT_EQ(Classify(&sess, "GIF89a not really", &text, &name),
		  VACCEL_EINVAL);
	EXPECT_EQ(Classify(&sess, "", &text, &name), VACCEL_EINVAL);
	// a truncated PNG
	EXPECT_EQ(Classify(&sess, img.substr(0, img.size() / 2), &text, &name),
		  VACCEL_EINVAL);
	// labels file with too few lines for class 0... none at all
	WriteFile(labels, "");
	EXPECT_EQ(Classify(&sess, img, &text, &name), VACCEL_EINVAL);
	// labels file missing
	setenv("VACCEL_TORCH_LABELS", (labels + ".missing").c_str(), 1);
	EXPECT_EQ(Classify(&sess, img, &text, &name), VACCEL_ENOENT);
	// no labels file at all: the class number
	unsetenv("VACCEL_TORCH_LABELS");
	ASSERT_EQ(Classify(&sess, img, &text, &name), VACCEL_OK);
	EXPECT_EQ(text, "class 0");
	// a label longer than the caller's buffer is cut, NUL-terminated
	setenv("VACCEL_TORCH_LABELS", labels.c_str(), 1);
	WriteFile(labels, std::string(200, 'x') + "\n");
	ASSERT_EQ(Classify(&sess, img, &text, &name), VACCEL_OK);
	EXPECT_EQ(text, std::string(63, 'x'));
}

} // namespace
