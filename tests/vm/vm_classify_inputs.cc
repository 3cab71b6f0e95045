// SPDX-License-Identifier: Apache-2.0
// Writes the inputs of vm_classify_test into a folder: color.pt (a TorchScript model made
// with libtorch whose class is the image's dominant colour), blue.png and red.png, and
// labels.txt (red, green, blue).
#include <cstdio>
#include <cstring>
#include <string>

#include "tests/torch/models.h"
#include "tests/torch/util.h"

int main(int argc, char **argv)
{
	if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fprintf(argc == 2 ? stdout : stderr,
			"usage: vm_classify_inputs DIR\nWrites DIR/color.pt, DIR/blue.png, "
			"DIR/red.png and DIR/labels.txt for tests/vm/vm_classify_test.sh.\n");
		return argc == 2 ? 0 : 2;
	}
	std::string dir = argv[1];
	try {
		torch_models::SaveColor(dir + "/color.pt");
	} catch (const std::exception &e) {
		fprintf(stderr, "vm_classify_inputs: cannot write %s/color.pt: %s\n", dir.c_str(), e.what());
		return 1;
	}
	torch_test::WriteFile(dir + "/blue.png", torch_test::Png(160, 120, torch_test::Solid(160, 120, 10, 30, 250)));
	torch_test::WriteFile(dir + "/red.png", torch_test::Png(90, 70, torch_test::Solid(90, 70, 240, 20, 10)));
	torch_test::WriteFile(dir + "/labels.txt", "red\ngreen\nblue\n");
	return 0;
}
