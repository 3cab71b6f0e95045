// SPDX-License-Identifier: Apache-2.0
// Image decoding and preprocessing for IMAGE_CLASSIFY, and label lookup.
// The image bytes are untrusted (a guest's, through the agent): stb is
// built for the formats upstream's examples use only, with a dimension cap.
#include "classify.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_PNM
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_MAX_DIMENSIONS 8192 /* at most 192 MiB of decoded pixels */
/* stbi_* stay private to the plugin .so */
#define STBIDEF extern __attribute__((visibility("hidden")))
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

int torch_image_input(const void *img, size_t len, float **out)
{
	static const float mean[TORCH_IMG_CH] = { 0.485F, 0.456F, 0.406F };
	static const float std[TORCH_IMG_CH] = { 0.229F, 0.224F, 0.225F };
	int w, h, n;

	if (!img || !len || len > INT_MAX || !out)
		return -EINVAL;
	unsigned char *px = stbi_load_from_memory(img, (int)len, &w, &h, &n,
						  TORCH_IMG_CH);
	if (!px)
		return -EINVAL;
	float *x = malloc(sizeof(float) * TORCH_IMG_CH * TORCH_IMG_H *
			  TORCH_IMG_W);
	if (!x) {
		stbi_image_free(px);
		return -ENOMEM;
	}
	for (int y = 0; y < TORCH_IMG_H; y++) {
		/* w, h <= STBI_MAX_DIMENSIONS: the products fit an int */
		const unsigned char *row =
			px + (size_t)(y * h / TORCH_IMG_H) * w * TORCH_IMG_CH;
		for (int c = 0; c < TORCH_IMG_CH; c++) {
			float *dst = x + ((size_t)c * TORCH_IMG_H + y) *
						 TORCH_IMG_W;
			for (int i = 0; i < TORCH_IMG_W; i++) {
				unsigned char v =
					row[(size_t)(i * w / TORCH_IMG_W) *
						    TORCH_IMG_CH +
					    c];
				dst[i] = ((float)v / 255.0F - mean[c]) / std[c];
			}
		}
	}
	stbi_image_free(px);
	*out = x;
	return 0;
}

int torch_label(const char *path, int64_t idx, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t line_cap = 0;
	ssize_t n = -1;
	for (int64_t i = 0; i <= idx; i++) {
		n = getline(&line, &line_cap, f);
		if (n < 0)
			break;
	}
	fclose(f);
	if (n < 0 || idx < 0) {
		free(line);
		return -ERANGE;
	}
	line[strcspn(line, "\r\n")] = 0;
	if (cap) {
		strncpy(buf, line, cap - 1);
		buf[cap - 1] = 0;
	}
	free(line);
	return 0;
}
