// SPDX-License-Identifier: Apache-2.0
#include "tests/torch/util.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <gtest/gtest.h>

#include <stb/stb_image_write.h>

namespace torch_test {

std::string Env(const char *name)
{
	const char *v = std::getenv(name);
	EXPECT_NE(v, nullptr) << "BUILD must set env " << name;
	return v ? std::string(v) : std::string();
}

int Boot(const std::string &plugins, const std::string &log_file)
{
	vaccel_cleanup();
	setenv("VACCEL_PLUGINS", plugins.c_str(), 1);
	setenv("VACCEL_LOG_FILE", log_file.c_str(), 1);
	return vaccel_bootstrap();
}

std::string TmpPath(const std::string &name)
{
	static int seq;
	const char *d = std::getenv("TEST_TMPDIR");
	return std::string(d ? d : "/tmp") + "/" + std::to_string(getpid()) +
	       "-" + std::to_string(++seq) + "-" + name;
}

std::string ReadFile(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

void WriteFile(const std::string &path, const std::string &bytes)
{
	std::ofstream f(path, std::ios::binary | std::ios::trunc);
	f << bytes;
	ASSERT_TRUE(f.good()) << path;
}

c10::IValue Reference(const std::string &model_path,
		      const std::vector<at::Tensor> &inputs)
{
	torch::jit::Module m = torch::jit::load(model_path);
	m.eval();
	c10::InferenceMode guard;
	std::vector<c10::IValue> args(inputs.begin(), inputs.end());
	return m.forward(args);
}

enum vaccel_torch_data_type VaccelType(c10::ScalarType s)
{
	switch (s) {
	case at::kByte: return VACCEL_TORCH_BYTE;
	case at::kChar: return VACCEL_TORCH_CHAR;
	case at::kShort: return VACCEL_TORCH_SHORT;
	case at::kInt: return VACCEL_TORCH_INT;
	case at::kLong: return VACCEL_TORCH_LONG;
	case at::kHalf: return VACCEL_TORCH_HALF;
	case at::kFloat: return VACCEL_TORCH_FLOAT;
	default: ADD_FAILURE() << "no vaccel type for " << s;
	}
	return VACCEL_TORCH_FLOAT;
}

struct vaccel_torch_tensor *Borrow(const at::Tensor &t)
{
	EXPECT_TRUE(t.is_contiguous());
	struct vaccel_torch_tensor *v = nullptr;
	std::vector<int64_t> dims(t.sizes().begin(), t.sizes().end());
	EXPECT_EQ(vaccel_torch_tensor_new(&v, (int64_t)dims.size(),
					  dims.data(),
					  VaccelType(t.scalar_type())),
		  VACCEL_OK);
	EXPECT_EQ(vaccel_torch_tensor_set_data(v, t.data_ptr(), t.nbytes()),
		  VACCEL_OK);
	return v;
}

::testing::AssertionResult SameTensor(const at::Tensor &t,
				      const struct vaccel_torch_tensor *out)
{
	if (!out)
		return ::testing::AssertionFailure() << "no output tensor";
	at::Tensor c = t.contiguous();
	if (out->data_type != VaccelType(c.scalar_type()))
		return ::testing::AssertionFailure()
		       << "dtype " << out->data_type << ", expected "
		       << VaccelType(c.scalar_type());
	std::vector<int64_t> dims(c.sizes().begin(), c.sizes().end());
	std::vector<int64_t> got(out->dims, out->dims + out->nr_dims);
	if (dims != got)
		return ::testing::AssertionFailure()
		       << "dims " << c10::IntArrayRef(got) << ", expected "
		       << c.sizes();
	if (out->size != c.nbytes() || !out->owned)
		return ::testing::AssertionFailure()
		       << "size " << out->size << " owned " << out->owned
		       << ", expected " << c.nbytes() << " owned";
	if (memcmp(out->data, c.data_ptr(), out->size) != 0)
		return ::testing::AssertionFailure() << "bytes differ";
	return ::testing::AssertionSuccess();
}

// w x h RGB pixels of one colour.
std::vector<unsigned char> Solid(int w, int h, unsigned char r,
				 unsigned char g, unsigned char b)
{
	std::vector<unsigned char> px((size_t)w * h * 3);
	for (size_t i = 0; i < px.size(); i += 3) {
		px[i] = r;
		px[i + 1] = g;
		px[i + 2] = b;
	}
	return px;
}

static void Append(void *ctx, void *data, int size)
{
	static_cast<std::string *>(ctx)->append(static_cast<char *>(data),
						size);
}

std::string Png(int w, int h, const std::vector<unsigned char> &px)
{
	std::string out;
	EXPECT_TRUE(stbi_write_png_to_func(Append, &out, w, h, 3, px.data(),
					   w * 3));
	return out;
}

std::string Bmp(int w, int h, const std::vector<unsigned char> &px)
{
	std::string out;
	EXPECT_TRUE(stbi_write_bmp_to_func(Append, &out, w, h, 3, px.data()));
	return out;
}

std::string Jpeg(int w, int h, const std::vector<unsigned char> &px)
{
	std::string out;
	EXPECT_TRUE(stbi_write_jpg_to_func(Append, &out, w, h, 3, px.data(),
					   95));
	return out;
}

std::string Ppm(int w, int h, const std::vector<unsigned char> &px)
{
	return "P6\n" + std::to_string(w) + " " + std::to_string(h) +
	       "\n255\n" + std::string(px.begin(), px.end());
}

} // namespace torch_test
