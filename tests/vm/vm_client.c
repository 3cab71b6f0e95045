// SPDX-License-Identifier: Apache-2.0
/*
 * A vAccel program for the QEMU guest, on the public API only (the transport plugin is
 * chosen by VACCEL_PLUGINS, the device by VACCEL_SHM_DEVICE):
 *   --bench N [--gap-us G]  N vaccel_noop round trips, G microseconds apart (0: back to
 *                           back), timed one by one; prints "VM-BENCH n N p50_ns X p99_ns Y"
 *   --loop                  32x32 sgemm calls until killed; prints "VM-LOOP n"
 *                           every 200 calls (the host kills the VM in the middle of this)
 *   --first-call            one noop after a 300 ms idle pause (the host poller is asleep
 *                           by then, so only the doorbell can wake it); prints its latency
 *   --check LIB             noop, exec of LIB's mytestfunc (a path on the host) and a 40x40
 *                           sgemm checked against a naive product; each in a session whose
 *                           hint (DEBUG, GENERIC, CPU) picks the host plugin, as a host that
 *                           loads several plugins needs; prints "VM-CHECK <op> OK" each
 * Exit status 0 on success, 1 on a failed call, 2 on bad usage.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vaccel.h>

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vm_client (--bench N [--gap-us G] | --loop | --first-call | --check LIB)\n"
		   "vAccel calls from inside a VM through the shared-memory transport; see the\n"
		   "comment at the top of tests/vm/vm_client.c.\n");
}

static int bench(struct vaccel_session *s, long n, long gap_us)
{
	uint64_t *t = calloc((size_t)n, sizeof(*t));

	if (!t)
		return 1;
	for (long i = 0; i < n; i++) {
		if (gap_us)
			usleep((useconds_t)gap_us);
		uint64_t t0 = now_ns();
		int ret = vaccel_noop(s);
		t[i] = now_ns() - t0;
		if (ret != VACCEL_OK) {
			fprintf(stderr, "vm_client: vaccel_noop failed at call %ld: %d\n", i, ret);
			free(t);
			return 1;
		}
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_u64);
	printf("VM-BENCH n %ld gap_us %ld p50_ns %llu p99_ns %llu\n", n, gap_us,
	       (unsigned long long)t[n / 2], (unsigned long long)t[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1]);
	free(t);
	return 0;
}

static int check(const char *lib)
{
	enum { N = 40 };
	static float a[N * N], b[N * N], c[N * N];
	struct vaccel_session s;
	int in = 21, out = 0, ret, bad = 0;
	struct vaccel_arg rd[] = {{.buf = &in, .size = sizeof(in)}};
	struct vaccel_arg wr[] = {{.buf = &out, .size = sizeof(out)}};

	if ((ret = vaccel_session_init(&s, VACCEL_PLUGIN_DEBUG)) || (ret = vaccel_noop(&s))) {
		fprintf(stderr, "vm_client: noop failed: %d\n", ret);
		return 1;
	}
	vaccel_session_release(&s);
	printf("VM-CHECK noop OK\n");
	if ((ret = vaccel_session_init(&s, VACCEL_PLUGIN_GENERIC)) ||
	    (ret = vaccel_exec(&s, lib, "mytestfunc", rd, 1, wr, 1)) || out != 42) {
		fprintf(stderr, "vm_client: exec failed: %d, mytestfunc(21) = %d\n", ret, out);
		return 1;
	}
	vaccel_session_release(&s);
	printf("VM-CHECK exec OK mytestfunc(21) = %d\n", out);
	for (int i = 0; i < N * N; i++) {
		a[i] = (float)(i % 13) - 6.0f;
		b[i] = (float)(i % 7) * 0.5f;
	}
	if ((ret = vaccel_session_init(&s, VACCEL_PLUGIN_CPU)) ||
	    (ret = vaccel_sgemm(&s, N, N, N, 1.0f, a, N, b, N, 0.0f, c, N))) {
		fprintf(stderr, "vm_client: sgemm failed: %d\n", ret);
		return 1;
	}
	vaccel_session_release(&s);
	/* Row-major as the blas plugin takes it; small integers and halves: exact in float. */
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			float want = 0;
			for (int k = 0; k < N; k++)
				want += a[i * N + k] * b[k * N + j];
			bad += c[i * N + j] != want;
		}
	if (bad) {
		fprintf(stderr, "vm_client: sgemm: %d of %d elements differ from the naive product\n",
			bad, N * N);
		return 1;
	}
	printf("VM-CHECK sgemm OK %dx%dx%d\n", N, N, N);
	return 0;
}

static int loop(struct vaccel_session *s)
{
	enum { N = 32 };
	static float a[N * N], b[N * N], c[N * N];

	for (int i = 0; i < N * N; i++) {
		a[i] = (float)(i % 7);
		b[i] = (float)(i % 5);
	}
	for (unsigned long i = 1;; i++) {
		int ret = vaccel_sgemm(s, N, N, N, 1.0f, a, N, b, N, 0.0f, c, N);
		if (ret != VACCEL_OK) {
			fprintf(stderr, "vm_client: call %lu failed: %d\n", i, ret);
			return 1;
		}
		if (i % 200 == 0) {
			printf("VM-LOOP %lu\n", i);
			fflush(stdout);
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"bench", required_argument, 0, 'b'}, {"gap-us", required_argument, 0, 'g'},
		{"loop", no_argument, 0, 'l'},        {"first-call", no_argument, 0, 'f'},
		{"check", required_argument, 0, 'c'}, {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	long n = 0, gap = 0;
	int mode = 0, c, ret;
	struct vaccel_session s;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case 'b':
		case 'g': {
			long v = strtol(optarg, &end, 10);
			if (!*optarg || *end || v < (c == 'b')) {
				fprintf(stderr, "vm_client: bad number '%s'\n", optarg);
				return 2;
			}
			if (c == 'b') {
				n = v;
				mode = 'b';
			} else {
				gap = v;
			}
			break;
		}
		case 'l':
		case 'f':
			mode = c;
			break;
		case 'c':
			return check(optarg);
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "vm_client: unknown option '%s' (see --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (!mode) {
		usage(stderr);
		return 2;
	}
	/* The hint picks the host plugin: noop for the timings, blas for the loop. */
	ret = vaccel_session_init(&s, mode == 'l' ? VACCEL_PLUGIN_CPU : VACCEL_PLUGIN_DEBUG);
	if (ret != VACCEL_OK) {
		fprintf(stderr, "vm_client: vaccel_session_init failed: %d\n", ret);
		return 1;
	}
	if (mode == 'b') {
		ret = bench(&s, n, gap);
	} else if (mode == 'l') {
		ret = loop(&s);
	} else {
		/* The session's creation woke the poller; let it fall asleep again. */
		usleep(300000);
		uint64_t t0 = now_ns();
		ret = vaccel_noop(&s);
		printf("VM-FIRST-CALL ret %d ns %llu\n", ret, (unsigned long long)(now_ns() - t0));
		ret = ret != VACCEL_OK;
	}
	vaccel_session_release(&s);
	return ret;
}
