// SPDX-License-Identifier: Apache-2.0
// TorchScript models made by the tests and benchmarks themselves (no
// download): built with libtorch's C++ API, weights from a fixed seed.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/* For C programs (perf/infer): the Small and Cnn models below, and a Slice
 * model: x [1, N] float -> x[:, :16] (its cost does not grow with N).
 * 0, or -EIO when libtorch could not make or save it (the reason on stderr). */
int torch_models_save_small(const char *path);
int torch_models_save_cnn(const char *path);
int torch_models_save_slice(const char *path);

#ifdef __cplusplus
}

#include <string>

namespace torch_models {

// x [1, 256] float -> [1, 64]: a two-layer perceptron (about 50 us a run).
void SaveSmall(const std::string &path);
// x [1, 3, 224, 224] float -> [1, 10]: two conv + pool layers and a linear
// head (a few ms a run).
void SaveCnn(const std::string &path);
// x [1, 3, H, W] float -> [1, 3]: the mean of each channel, so a red image
// is class 0, green 1, blue 2 (after ImageNet normalisation).
void SaveColor(const std::string &path);
// Seven inputs of the seven vaccel dtypes (uint8, int8, int16, int32,
// int64, half, float), returned as a tuple of seven tensors:
// (a + 1, b * 2, c - 3, d * d, e + e, f * 2, g / 4).
void SaveAllTypes(const std::string &path);
// x -> x.double(): a result dtype vaccel tensors cannot carry.
void SaveDouble(const std::string &path);
void SaveSlice(const std::string &path);
// x -> x + 1, by adding to x in place first: shows whether the model got the
// caller's buffer or a private copy of it.
void SaveInPlace(const std::string &path);

} // namespace torch_models
#endif
