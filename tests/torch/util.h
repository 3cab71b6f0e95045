// SPDX-License-Identifier: Apache-2.0
// Helpers of the torch tests: the runtime restarted with the plugins the
// BUILD file names, temporary files, and libtorch's own answer for a model.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/script.h>

extern "C" {
#include <vaccel.h>
}

namespace torch_test {

// Env var `name` set by the BUILD file (a runfiles path); fails if unset.
std::string Env(const char *name);
// Restart the runtime with these plugins, logging to log_file.
int Boot(const std::string &plugins, const std::string &log_file);
std::string TmpPath(const std::string &name);
std::string ReadFile(const std::string &path);
void WriteFile(const std::string &path, const std::string &bytes);

// libtorch's own forward of the model file on these inputs (eval mode,
// inference mode), as the plugin should compute it.
c10::IValue Reference(const std::string &model_path,
		      const std::vector<at::Tensor> &inputs);

// A vaccel tensor over t's data (borrowed: t must outlive it).
struct vaccel_torch_tensor *Borrow(const at::Tensor &t);
// The vaccel dtype of a libtorch one (the plugin's mapping, restated).
enum vaccel_torch_data_type VaccelType(c10::ScalarType s);
// True when out has t's dtype, dims and bytes exactly.
::testing::AssertionResult SameTensor(const at::Tensor &t,
				      const struct vaccel_torch_tensor *out);

// w x h RGB pixels of one colour, and images of RGB pixels in four formats.
std::vector<unsigned char> Solid(int w, int h, unsigned char r,
				 unsigned char g, unsigned char b);
std::string Png(int w, int h, const std::vector<unsigned char> &px);
std::string Bmp(int w, int h, const std::vector<unsigned char> &px);
std::string Jpeg(int w, int h, const std::vector<unsigned char> &px);
std::string Ppm(int w, int h, const std::vector<unsigned char> &px);

} // namespace torch_test
