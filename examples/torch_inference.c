// SPDX-License-Identifier: Apache-2.0
// Classifies an image with a TorchScript model through
// vaccel_torch_model_run: decodes and preprocesses the image here
// (224 x 224, ImageNet normalisation, CHW), runs the model, and prints the
// top-1 class (its label with --labels) and the median time per run.
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vaccel.h>

#include "examples/example_util.h"

#include "backends/torch/classify.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: torch_inference [--labels FILE] [--iterations N] "
		"[--zero-copy] IMAGE MODEL\n"
		"Runs the TorchScript MODEL (input 1x3x224x224 float) on IMAGE\n"
		"(JPEG, PNG, PNM or BMP) with vaccel_torch_model_run and prints\n"
		"the top-1 class (line i of FILE names class i) and the median\n"
		"time per run over N runs (default 1). --zero-copy puts the\n"
		"input tensor in vaccel_buffer_alloc memory (the transport's\n"
		"pool: no copy on the way to the host).\n"
		"  VACCEL_PLUGINS=backends/torch/libvaccel-torch.so bazel run "
		"//examples:torch_inference -- cat.png model.pt\n");
}

static int64_t argmax(const struct vaccel_torch_tensor *t)
{
	const float *v = t->data;
	size_t n = t->size / sizeof(float);
	int64_t best = 0;
	for (size_t i = 1; i < n; i++)
		if (v[i] > v[best])
			best = (int64_t)i;
	return best;
}

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "labels", required_argument, NULL, 'l' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "zero-copy", no_argument, NULL, 'z' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *labels = NULL;
	long iters = 1;
	int zero_copy = 0, c;
	char *end;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":l:i:zh", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			labels = optarg;
			break;
		case 'i':
			iters = strtol(optarg, &end, 10);
			if (!*optarg || *end || iters < 1 || iters > 1000000) {
				fprintf(stderr,
					"torch_inference: bad iteration count "
					"'%s' (1..1000000)\n",
					optarg);
				return 2;
			}
			break;
		case 'z':
			zero_copy = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr,
				"torch_inference: option '%s' needs a value\n",
				argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr,
				"torch_inference: unknown option '%s' (try "
				"--help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "torch_inference: expected IMAGE and MODEL "
				"(try --help)\n");
		return 2;
	}
	const char *image = argv[optind], *model_path = argv[optind + 1];

	char *img = NULL;
	size_t img_len = 0;
	float *x = NULL;
	int ret = example_read_file(image, &img, &img_len);
	if (ret) {
		fprintf(stderr, "torch_inference: %s: %s\n", image,
			strerror(-ret));
		return 1;
	}
	ret = torch_image_input(img, img_len, &x);
	free(img);
	if (ret) {
		fprintf(stderr,
			"torch_inference: %s: %s\n", image,
			ret == -EINVAL ? "not a JPEG, PNG, PNM or BMP image "
					 "(up to 8192 pixels a side)" :
					 strerror(-ret));
		return 1;
	}

	struct vaccel_session sess;
	struct vaccel_resource model;
	struct vaccel_torch_tensor *in = NULL, *out = NULL;
	double *times = calloc((size_t)iters, sizeof(double));
	const size_t in_bytes =
		sizeof(float) * TORCH_IMG_CH * TORCH_IMG_H * TORCH_IMG_W;
	const int64_t dims[4] = { 1, TORCH_IMG_CH, TORCH_IMG_H, TORCH_IMG_W };
	int rc = 1;

	if (!times) {
		fprintf(stderr, "torch_inference: out of memory\n");
		goto out_free;
	}
	ret = vaccel_resource_init(&model, model_path, VACCEL_RESOURCE_MODEL);
	if (ret) {
		fprintf(stderr, "torch_inference: model %s: %s\n", model_path,
			strerror(ret));
		goto out_free;
	}
	ret = vaccel_session_init(&sess, 0);
	if (ret) {
		fprintf(stderr,
			"torch_inference: could not create a session (%s); is "
			"VACCEL_PLUGINS set?\n",
			strerror(ret));
		goto out_model;
	}
	ret = vaccel_resource_register(&model, &sess);
	if (!ret)
		ret = vaccel_torch_model_load(&sess, &model);
	if (ret) {
		fprintf(stderr,
			"torch_inference: could not load the model %s on "
			"plugin %s: %s\n",
			model_path, sess.plugin->info->name, strerror(ret));
		goto out_sess;
	}
	ret = vaccel_torch_tensor_new(&in, 4, dims, VACCEL_TORCH_FLOAT);
	if (ret)
		goto out_sess;
	if (zero_copy) {
		void *buf = NULL;
		ret = vaccel_buffer_alloc(&sess, in_bytes, &buf);
		if (ret) {
			fprintf(stderr,
				"torch_inference: vaccel_buffer_alloc: %s\n",
				strerror(ret));
			goto out_sess;
		}
		memcpy(buf, x, in_bytes);
		vaccel_torch_tensor_set_data(in, buf, in_bytes);
	} else {
		vaccel_torch_tensor_set_data(in, x, in_bytes);
	}

	for (long it = 0; it < iters && !ret; it++) {
		if (out)
			vaccel_torch_tensor_delete(out);
		out = NULL;
		double t0 = example_now_s();
		ret = vaccel_torch_model_run(&sess, &model, NULL, &in, 1, &out,
					     1);
		times[it] = example_now_s() - t0;
	}
	if (ret) {
		fprintf(stderr,
			"torch_inference: vaccel_torch_model_run: %s (the log "
			"says why; VACCEL_LOG_LEVEL=4 for more)\n",
			strerror(ret));
		goto out_sess;
	}
	if (out->data_type != VACCEL_TORCH_FLOAT || out->size < sizeof(float)) {
		fprintf(stderr,
			"torch_inference: the model returned %zu bytes of type "
			"%d, not class scores (float)\n",
			out->size, (int)out->data_type);
		goto out_sess;
	}
	int64_t top = argmax(out);
	char label[256];
	snprintf(label, sizeof(label), "class %" PRId64, top);
	if (labels) {
		ret = torch_label(labels, top, label, sizeof(label));
		if (ret) {
			fprintf(stderr, "torch_inference: labels %s: %s\n",
				labels,
				ret == -ERANGE ? "fewer lines than classes" :
						 strerror(-ret));
			goto out_sess;
		}
	}
	printf("%s: %s (class %" PRId64 " of %zu, score %.4f); plugin %s, "
	       "median %.3f ms over %ld run(s)\n",
	       image, label, top, out->size / sizeof(float),
	       ((const float *)out->data)[top], sess.plugin->info->name,
	       example_median(times, (size_t)iters) * 1e3, iters);
	rc = 0;

out_sess:
	if (out)
		vaccel_torch_tensor_delete(out);
	if (in) {
		if (zero_copy && in->data)
			vaccel_buffer_free(&sess, in->data);
		vaccel_torch_tensor_delete(in);
	}
	if (vaccel_session_has_resource(&sess, &model))
		vaccel_resource_unregister(&model, &sess);
	vaccel_session_release(&sess);
out_model:
	vaccel_resource_release(&model);
out_free:
	free(x);
	free(times);
	return rc;
}
