// SPDX-License-Identifier: Apache-2.0
// Multiplies two random matrices with vaccel_sgemm, checks the result
// against a naive loop and prints GFLOP/s (median over the iterations).
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vaccel.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sgemm [--size N] [-m M -n N -k K] [--iterations I]\n"
		"C = A*B + C for row-major float matrices (default 512x512x512,\n"
		"3 iterations); checks C against a naive loop and prints the\n"
		"median GFLOP/s.\n"
		"  VACCEL_PLUGINS=backends/blas/libvaccel-blas.so "
		"bazel run -c opt //examples:sgemm -- --size 1024\n");
}

static int parse_pos(const char *s, long long *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || v < 1 || v > 16384)
		return -1;
	*out = v;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long long m = 512, n = 512, k = 512, iters = 3;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:m:n:k:i:h", opts, NULL)) !=
	       -1) {
		long long *dst = NULL;
		switch (c) {
		case 's':
			if (parse_pos(optarg, &m)) {
				fprintf(stderr, "sgemm: bad size '%s'\n", optarg);
				return 2;
			}
			n = k = m;
			continue;
		case 'm':
			dst = &m;
			break;
		case 'n':
			dst = &n;
			break;
		case 'k':
			dst = &k;
			break;
		case 'i':
			dst = &iters;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "sgemm: option '%s' needs a value\n",
				argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "sgemm: unknown option '%s' (try --help)\n",
				argv[optind - 1]);
			return 2;
		}
		if (parse_pos(optarg, dst)) {
			fprintf(stderr, "sgemm: bad value '%s' for -%c\n", optarg,
				c);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sgemm: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}

	float *a = malloc(sizeof(float) * (size_t)(m * k));
	float *b = malloc(sizeof(float) * (size_t)(k * n));
	float *cm = malloc(sizeof(float) * (size_t)(m * n));
	float *c0 = malloc(sizeof(float) * (size_t)(m * n));
	double *times = calloc((size_t)iters, sizeof(double));
	if (!a || !b || !cm || !c0 || !times) {
		fprintf(stderr, "sgemm: out of memory\n");
		return 1;
	}
	srand(1);
	for (long long i = 0; i < m * k; i++)
		a[i] = (float)rand() / (float)RAND_MAX - 0.5f;
	for (long long i = 0; i < k * n; i++)
		b[i] = (float)rand() / (float)RAND_MAX - 0.5f;
	for (long long i = 0; i < m * n; i++)
		c0[i] = (float)rand() / (float)RAND_MAX - 0.5f;

	struct vaccel_session sess;
	int ret = vaccel_session_init(&sess, 0);
	if (ret) {
		fprintf(stderr,
			"sgemm: could not create a session (%s); is "
			"VACCEL_PLUGINS set?\n",
			strerror(ret));
		return 1;
	}

	for (long long it = 0; it < iters && !ret; it++) {
		memcpy(cm, c0, sizeof(float) * (size_t)(m * n));
		double t0 = now_s();
		ret = vaccel_sgemm(&sess, m, n, k, 1.0f, a, k, b, n, 1.0f, cm, n);
		times[it] = now_s() - t0;
	}
	if (ret) {
		fprintf(stderr, "sgemm: vaccel_sgemm failed: %d (%s)\n", ret,
			strerror(ret));
		vaccel_session_release(&sess);
		return 1;
	}

	/* Check every element against a double-precision naive loop. */
	long long bad = 0;
	for (long long i = 0; i < m; i++)
		for (long long j = 0; j < n; j++) {
			double acc = c0[i * n + j];
			for (long long p = 0; p < k; p++)
				acc += (double)a[i * k + p] * b[p * n + j];
			if (fabs(acc - cm[i * n + j]) > 1e-4 * (double)k)
				bad++;
		}

	qsort(times, (size_t)iters, sizeof(double), cmp_double);
	double med = times[iters / 2];
	printf("sgemm %lldx%lldx%lld on %s: median %.3f ms, %.2f GFLOP/s "
	       "(%lld iterations), check %s\n",
	       m, n, k, sess.plugin->info->name, med * 1e3,
	       2.0 * (double)m * (double)n * (double)k / med * 1e-9, iters,
	       bad ? "FAILED" : "OK");
	if (bad)
		fprintf(stderr, "sgemm: %lld elements differ from the naive "
				"result\n",
			bad);
	vaccel_session_release(&sess);
	free(a);
	free(b);
	free(cm);
	free(c0);
	free(times);
	return bad ? 1 : 0;
}
