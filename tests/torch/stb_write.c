// SPDX-License-Identifier: Apache-2.0
// stb_image_write's implementation, for the tests' image files (PNG, BMP,
// JPEG encoders). Its own target: see the BUILD file for why.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
