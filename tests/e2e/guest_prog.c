/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A guest program for the end-to-end tests, written against the plain vAccel API: it does
 * ITER rounds of noop, exec (when a library is given) and sgemm of a random odd size, each
 * checked against a result computed here, on one session or on several threads.
 * usage: guest_prog ITER [THREADS] [EXEC_LIB]     exit 0: every result right
 * With GUEST_PROG_READY_FD=N in the environment, the first thread writes "ready\n" on
 * descriptor N after its first round (a test then knows the guest is at work).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vaccel.h>

static int iters;
static const char *exec_lib;

static int check_sgemm(struct vaccel_session *s, unsigned *seed)
{
	int m = 1 + rand_r(seed) % 40, n = 1 + rand_r(seed) % 40, k = 1 + rand_r(seed) % 40;
	float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n);
	float *c = malloc(sizeof(float) * m * n), *ref = malloc(sizeof(float) * m * n);
	int bad = 0;

	for (int i = 0; i < m * k; i++)
		a[i] = (float)(rand_r(seed) % 7) - 3;
	for (int i = 0; i < k * n; i++)
		b[i] = (float)(rand_r(seed) % 5) - 2;
	for (int i = 0; i < m * n; i++)
		c[i] = ref[i] = (float)(i % 3);
	for (int i = 0; i < m; i++)
		for (int j = 0; j < n; j++) {
			float acc = 0;
			for (int p = 0; p < k; p++)
				acc += a[i * k + p] * b[p * n + j];
			ref[i * n + j] = 2.0f * acc + 0.5f * ref[i * n + j];
		}
	int ret = vaccel_sgemm(s, m, n, k, 2.0f, a, k, b, n, 0.5f, c, n);
	if (ret) {
		fprintf(stderr, "sgemm %dx%dx%d failed: %d\n", m, n, k, ret);
		bad = 1;
	}
	for (int i = 0; !bad && i < m * n; i++)
		if (c[i] != ref[i]) { /* small integers: exact in float */
			fprintf(stderr, "sgemm %dx%dx%d: C[%d] = %f, expected %f\n", m, n, k, i, c[i], ref[i]);
			bad = 1;
		}
	free(a);
	free(b);
	free(c);
	free(ref);
	return bad;
}

static int check_exec(struct vaccel_session *s, int x)
{
	int out = 0;
	struct vaccel_arg read[1] = {{.buf = &x, .size = sizeof(x)}};
	struct vaccel_arg write[1] = {{.buf = &out, .size = sizeof(out)}};
	int ret = vaccel_exec(s, exec_lib, "mytestfunc", read, 1, write, 1);

	if (ret || out != 2 * x) {
		fprintf(stderr, "exec mytestfunc(%d): ret %d, out %d\n", x, ret, out);
		return 1;
	}
	return 0;
}

static void say_ready(void)
{
	const char *fd = getenv("GUEST_PROG_READY_FD");

	if (fd && write(atoi(fd), "ready\n", 6) != 6)
		perror("guest_prog: GUEST_PROG_READY_FD");
}

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 7919u + 1;
	struct vaccel_session blas, dbg, gen;
	long bad = 0;

	if (vaccel_session_init(&blas, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_CPU) ||
	    vaccel_session_init(&dbg, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG) ||
	    (exec_lib && vaccel_session_init(&gen, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_GENERIC))) {
		fprintf(stderr, "session init failed\n");
		return (void *)1;
	}
	for (int i = 0; i < iters && !bad; i++) {
		if (vaccel_noop(&dbg)) {
			fprintf(stderr, "noop failed\n");
			bad = 1;
		}
		bad |= check_sgemm(&blas, &seed);
		if (exec_lib)
			bad |= check_exec(&gen, i);
		if (i == 0 && arg == 0)
			say_ready();
	}
	vaccel_session_release(&blas);
	vaccel_session_release(&dbg);
	if (exec_lib)
		vaccel_session_release(&gen);
	return (void *)bad;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help")) {
		fprintf(argc < 2 ? stderr : stdout, "usage: guest_prog ITER [THREADS] [EXEC_LIB]\n");
		return argc < 2 ? 2 : 0;
	}
	iters = atoi(argv[1]);
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	exec_lib = argc > 3 ? argv[3] : NULL;
	pthread_t t[64];
	long bad = 0;

	if (threads < 1 || threads > 64)
		return 2;
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
	for (int i = 0; i < threads; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad |= (long)r;
	}
	printf("%s: %d thread(s) x %d rounds\n", bad ? "FAILED" : "ok", threads, iters);
	return bad ? 1 : 0;
}
