// SPDX-License-Identifier: Apache-2.0
// examples/torch_inference and examples/classify through a real vaccel-agent
// whose torch plugin runs the model: the examples' only plugin is the
// transport (VACCEL_PLUGINS=libvaccel-shm.so), unchanged programs.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/agent_util.h"
#include "tests/torch/models.h"
#include "tests/torch/util.h"

namespace {

class ExamplesThroughAgent : public ::testing::Test {
protected:
	void SetUp() override
	{
		model = torch_test::TmpPath("color.pt");
		torch_models::SaveColor(model);
		labels = torch_test::TmpPath("labels.txt");
		torch_test::WriteFile(labels, "red\ngreen\nblue\n");
		image = torch_test::TmpPath("blue.bmp");
		torch_test::WriteFile(
			image, torch_test::Bmp(90, 60,
					       torch_test::Solid(90, 60, 0, 10,
								 240)));
		// The labels file is the host's: classify's labels come from
		// the agent's environment.
		agent = std::make_unique<e2e::Agent>(
			std::vector<std::string>{
				"--plugins",
				e2e::Abs(e2e::Runfile("PLUGIN_TORCH")), "--pool",
				"4k:64,64k:16,1m:8"},
			"agent", "",
			std::vector<std::string>{"VACCEL_TORCH_LABELS=" + labels,
						 "VACCEL_TORCH_THREADS=1"});
		ASSERT_TRUE(agent->ok()) << agent->Log();
		env = { "VACCEL_PLUGINS=" + e2e::Abs(e2e::Runfile("PLUGIN_SHM")),
			"VACCEL_SHM_SOCKET=" + agent->socket() };
	}

	std::unique_ptr<e2e::Agent> agent;
	std::vector<std::string> env;
	std::string model, labels, image;
};

TEST_F(ExamplesThroughAgent, TorchInference)
{
	std::string out;
	const std::string bin = e2e::Abs(e2e::Runfile("EXAMPLE_TORCH_INFERENCE"));
	ASSERT_EQ(e2e::Run({ bin, "--labels", labels, "-i", "3", image, model },
			   env, 60, &out),
		  0)
		<< out << agent->Log();
	EXPECT_NE(out.find(": blue (class 2 of 3"), std::string::npos) << out;
	EXPECT_NE(out.find("plugin shm"), std::string::npos) << out;
	// the input tensor in the pool: the call carries its offset
	ASSERT_EQ(e2e::Run({ bin, "--zero-copy", "--labels", labels, image,
			     model },
			   env, 60, &out),
		  0)
		<< out << agent->Log();
	EXPECT_NE(out.find(": blue (class 2 of 3"), std::string::npos) << out;
}

TEST_F(ExamplesThroughAgent, Classify)
{
	std::string out;
	const std::string bin = e2e::Abs(e2e::Runfile("EXAMPLE_CLASSIFY"));
	ASSERT_EQ(e2e::Run({ bin, "-i", "2", image, model }, env, 60, &out), 0)
		<< out << agent->Log();
	EXPECT_NE(out.find(": blue; plugin shm"), std::string::npos) << out;
}

} // namespace
