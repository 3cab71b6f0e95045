// SPDX-License-Identifier: Apache-2.0
// IMAGE_CLASSIFY's C half: decode an image with stb, make the model's
// input the way upstream's examples do, and name the top-1 class.
#pragma once

#include <stddef.h>
#include <stdint.h>

enum { TORCH_IMG_CH = 3, TORCH_IMG_H = 224, TORCH_IMG_W = 224 };

/* Decode img (JPEG, PNG, PNM or BMP; any channel count, taken as RGB) into
 * a malloc'ed 3 x 224 x 224 float CHW array in *out: nearest-neighbour
 * resize, /255, minus ImageNet's mean, over its std.
 * 0, -EINVAL (not a decodable image, or too large) or -ENOMEM. */
int torch_image_input(const void *img, size_t len, float **out);

/* Copy line idx (0-based, without its line end) of the labels file at
 * path into buf (NUL-terminated, truncated to cap - 1).
 * 0, -errno of fopen, or -ERANGE when the file has too few lines. */
int torch_label(const char *path, int64_t idx, char *buf, size_t cap);
