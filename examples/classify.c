// SPDX-License-Identifier: Apache-2.0
// Classifies an image with vaccel_image_classification: the plugin (torch)
// decodes it, runs the session's registered model and answers the top-1
// label (from the file named by VACCEL_TORCH_LABELS where the plugin runs).
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vaccel.h>

#include "examples/example_util.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: classify [--labels FILE] [--iterations N] IMAGE MODEL\n"
		"Registers the TorchScript MODEL with a session and classifies\n"
		"IMAGE (JPEG, PNG, PNM or BMP; the plugin resizes it to 224x224)\n"
		"with vaccel_image_classification, N times (default 1); prints\n"
		"the label and the median time per call. --labels sets\n"
		"VACCEL_TORCH_LABELS for a plugin in this process (through the\n"
		"transport, set it in the agent's environment instead).\n"
		"  VACCEL_PLUGINS=backends/torch/libvaccel-torch.so bazel run "
		"//examples:classify -- --labels labels.txt cat.png model.pt\n");
}

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "labels", required_argument, NULL, 'l' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long iters = 1;
	int c;
	char *end;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":l:i:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			setenv("VACCEL_TORCH_LABELS", optarg, 1);
			break;
		case 'i':
			iters = strtol(optarg, &end, 10);
			if (!*optarg || *end || iters < 1 || iters > 1000000) {
				fprintf(stderr,
					"classify: bad iteration count '%s' "
					"(1..1000000)\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "classify: option '%s' needs a value\n",
				argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr,
				"classify: unknown option '%s' (try --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr,
			"classify: expected IMAGE and MODEL (try --help)\n");
		return 2;
	}
	const char *image = argv[optind], *model_path = argv[optind + 1];

	char *img = NULL;
	size_t img_len = 0;
	int ret = example_read_file(image, &img, &img_len);
	if (ret) {
		fprintf(stderr, "classify: %s: %s\n", image, strerror(-ret));
		return 1;
	}
	double *times = calloc((size_t)iters, sizeof(double));
	struct vaccel_session sess;
	struct vaccel_resource model;
	unsigned char text[256] = { 0 }, name[256] = { 0 };
	int rc = 1;

	if (!times) {
		fprintf(stderr, "classify: out of memory\n");
		goto out_free;
	}
	ret = vaccel_resource_init(&model, model_path, VACCEL_RESOURCE_MODEL);
	if (ret) {
		fprintf(stderr, "classify: model %s: %s\n", model_path,
			strerror(ret));
		goto out_free;
	}
	ret = vaccel_session_init(&sess, 0);
	if (ret) {
		fprintf(stderr,
			"classify: could not create a session (%s); is "
			"VACCEL_PLUGINS set?\n",
			strerror(ret));
		goto out_model;
	}
	ret = vaccel_resource_register(&model, &sess);
	if (ret) {
		fprintf(stderr,
			"classify: could not register the model with the "
			"session: %s\n",
			strerror(ret));
		goto out_sess;
	}
	for (long it = 0; it < iters && !ret; it++) {
		double t0 = example_now_s();
		ret = vaccel_image_classification(&sess, img, text, name,
						  img_len, sizeof(text),
						  sizeof(name));
		times[it] = example_now_s() - t0;
	}
	if (ret) {
		fprintf(stderr,
			"classify: vaccel_image_classification on plugin %s: "
			"%s (the log says why; VACCEL_LOG_LEVEL=4 for more)\n",
			sess.plugin->info->name, strerror(ret));
		goto out_unreg;
	}
	printf("%s: %s; plugin %s, median %.3f ms over %ld call(s)\n", image,
	       (const char *)text, sess.plugin->info->name,
	       example_median(times, (size_t)iters) * 1e3, iters);
	rc = 0;
out_unreg:
	vaccel_resource_unregister(&model, &sess);
out_sess:
	vaccel_session_release(&sess);
out_model:
	vaccel_resource_release(&model);
out_free:
	free(img);
	free(times);
	return rc;
}
