// SPDX-License-Identifier: Apache-2.0
// examples/torch_inference and examples/classify run as a user would: a
// model, an image and a labels file the test writes, the torch plugin from
// VACCEL_PLUGINS.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <sys/wait.h>

#include "tests/torch/models.h"
#include "tests/torch/util.h"

using namespace torch_test;

namespace {

// Runs a shell command; its exit code and its stdout+stderr.
int Sh(const std::string &cmd, std::string *out)
{
	FILE *p = popen((cmd + " 2>&1").c_str(), "r");
	if (!p)
		return -1;
	char buf[4096];
	size_t n;
	out->clear();
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		out->append(buf, n);
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

class TorchInferenceExample : public ::testing::Test {
protected:
	void SetUp() override
	{
		bin = Env("EXAMPLE_TORCH_INFERENCE");
		classify = Env("EXAMPLE_CLASSIFY");
		env = "VACCEL_PLUGINS=" + Env("PLUGIN_TORCH") + " ";
		model = TmpPath("color.pt");
		torch_models::SaveColor(model);
		labels = TmpPath("labels.txt");
		WriteFile(labels, "red\ngreen\nblue\n");
		image = TmpPath("green.png");
		WriteFile(image, Png(320, 240, Solid(320, 240, 20, 220, 40)));
	}

	std::string bin, classify, env, model, labels, image;
};

TEST_F(TorchInferenceExample, ClassifiesWithLabels)
{
	std::string out;
	ASSERT_EQ(Sh(env + bin + " --labels " + labels + " --iterations 3 " +
			     image + " " + model,
		     &out),
		  0)
		<< out;
	EXPECT_NE(out.find(": green (class 1 of 3"), std::string::npos) << out;
	EXPECT_NE(out.find("plugin torch"), std::string::npos) << out;
	EXPECT_NE(out.find("over 3 run(s)"), std::string::npos) << out;

	// Zero-copy input: locally ordinary memory, same answer.
	ASSERT_EQ(Sh(env + bin + " --zero-copy " + image + " " + model, &out),
		  0)
		<< out;
	EXPECT_NE(out.find(": class 1 (class 1 of 3"), std::string::npos)
		<< out;
}

TEST_F(TorchInferenceExample, HelpAndBadInput)
{
	std::string out;
	EXPECT_EQ(Sh(bin + " --help", &out), 0);
	EXPECT_NE(out.find("usage: torch_inference"), std::string::npos);
	EXPECT_EQ(Sh(bin + " --bogus", &out), 2);
	EXPECT_NE(out.find("unknown option"), std::string::npos) << out;
	EXPECT_EQ(Sh(bin + " " + image, &out), 2);
	EXPECT_NE(out.find("expected IMAGE and MODEL"), std::string::npos);
	EXPECT_EQ(Sh(bin + " -i 0 " + image + " " + model, &out), 2);

	EXPECT_EQ(Sh(env + bin + " " + image + ".missing " + model, &out), 1);
	EXPECT_NE(out.find("No such file"), std::string::npos) << out;
	EXPECT_EQ(Sh(env + bin + " " + labels + " " + model, &out), 1);
	EXPECT_NE(out.find("not a JPEG, PNG"), std::string::npos) << out;
	EXPECT_EQ(Sh(env + bin + " " + image + " " + model + ".missing", &out),
		  1);
	EXPECT_NE(out.find("model"), std::string::npos) << out;
	// a model file that is not TorchScript
	EXPECT_EQ(Sh(env + bin + " " + image + " " + labels, &out), 1);
	EXPECT_NE(out.find("could not load the model"), std::string::npos)
		<< out;
	EXPECT_EQ(Sh("env -u VACCEL_PLUGINS " + bin + " " + image + " " + model,
		     &out),
		  1);
	EXPECT_NE(out.find("is VACCEL_PLUGINS set?"), std::string::npos)
		<< out;
}

TEST_F(TorchInferenceExample, ClassifyExample)
{
	std::string out;
	ASSERT_EQ(Sh(env + classify + " --labels " + labels + " -i 2 " + image +
			     " " + model,
		     &out),
		  0)
		<< out;
	EXPECT_NE(out.find(": green; plugin torch"), std::string::npos) << out;
	EXPECT_NE(out.find("over 2 call(s)"), std::string::npos) << out;

	EXPECT_EQ(Sh(classify + " --help", &out), 0);
	EXPECT_NE(out.find("usage: classify"), std::string::npos);
	EXPECT_EQ(Sh(classify + " --bogus", &out), 2);
	EXPECT_EQ(Sh(classify + " " + image, &out), 2);
	EXPECT_EQ(Sh(env + classify + " " + image + ".missing " + model, &out),
		  1);
	EXPECT_NE(out.find("No such file"), std::string::npos) << out;
	EXPECT_EQ(Sh(env + classify + " " + labels + " " + model, &out), 1);
	EXPECT_NE(out.find("vaccel_image_classification on plugin torch"),
		  std::string::npos)
		<< out;
	EXPECT_EQ(Sh("env -u VACCEL_PLUGINS " + classify + " " + image + " " +
			     model,
		     &out),
		  1);
	EXPECT_NE(out.find("is VACCEL_PLUGINS set?"), std::string::npos)
		<< out;
}

} // namespace
