// SPDX-License-Identifier: Apache-2.0
#include "models.h"

#include <torch/script.h>

#include <cerrno>
#include <cstdio>

namespace torch_models {
namespace {

torch::jit::Module Make(const char *name, const char *forward)
{
	torch::jit::Module m(name);
	m.define(forward);
	return m;
}

void Param(torch::jit::Module &m, const char *name, at::IntArrayRef shape,
	   double scale)
{
	m.register_parameter(name, torch::randn(shape) * scale, false);
}

} // namespace

void SaveSmall(const std::string &path)
{
	torch::manual_seed(1);
	torch::jit::Module m("Small");
	Param(m, "w1", { 256, 512 }, 0.06);
	Param(m, "b1", { 512 }, 0.1);
	Param(m, "w2", { 512, 64 }, 0.04);
	Param(m, "b2", { 64 }, 0.1);
	m.define(R"(
def forward(self, x):
    h = torch.relu(torch.matmul(x, self.w1) + self.b1)
    return torch.matmul(h, self.w2) + self.b2
)");
	m.save(path);
}

void SaveCnn(const std::string &path)
{
	torch::manual_seed(2);
	torch::jit::Module m("Cnn");
	Param(m, "c1w", { 16, 3, 3, 3 }, 0.2);
	Param(m, "c1b", { 16 }, 0.1);
	Param(m, "c2w", { 32, 16, 3, 3 }, 0.08);
	Param(m, "c2b", { 32 }, 0.1);
	Param(m, "fcw", { 32, 10 }, 0.2);
	Param(m, "fcb", { 10 }, 0.1);
	m.define(R"(
def forward(self, x):
    x = torch.relu(torch.conv2d(x, self.c1w, self.c1b, [2, 2], [1, 1]))
    x = torch.max_pool2d(x, [2, 2])
    x = torch.relu(torch.conv2d(x, self.c2w, self.c2b, [1, 1], [1, 1]))
    x = torch.max_pool2d(x, [2, 2])
    x = torch.mean(x, [2, 3])
    return torch.matmul(x, self.fcw) + self.fcb
)");
	m.save(path);
}

void SaveColor(const std::string &path)
{
	Make("Color", R"(
def forward(self, x):
    return torch.mean(x, [2, 3])
)").save(path);
}

void SaveAllTypes(const std::string &path)
{
	Make("AllTypes", R"(
def forward(self, a, b, c, d, e, f, g):
    return (a + 1, b * 2, c - 3, d * d, e + e, f * 2, g / 4)
)").save(path);
}

void SaveDouble(const std::string &path)
{
	Make("Double", R"(
def forward(self, x):
    return x.double()
)").save(path);
}

void SaveInPlace(const std::string &path)
{
	Make("InPlace", R"(
def forward(self, x):
    x.add_(1.0)
    return x * 1.0
)").save(path);
}

void SaveSlice(const std::string &path)
{
	Make("Slice", R"(
def forward(self, x):
    return x[:, 0:16]
)").save(path);
}

} // namespace torch_models

namespace {

template <class F> int SaveC(const char *path, F save)
{
	try {
		save(std::string(path));
		return 0;
	} catch (const std::exception &e) {
		fprintf(stderr, "cannot make %s: %s\n", path, e.what());
		return -EIO;
	}
}

} // namespace

extern "C" int torch_models_save_small(const char *path)
{
	return SaveC(path, torch_models::SaveSmall);
}

extern "C" int torch_models_save_cnn(const char *path)
{
	return SaveC(path, torch_models::SaveCnn);
}

extern "C" int torch_models_save_slice(const char *path)
{
	return SaveC(path, torch_models::SaveSlice);
}
