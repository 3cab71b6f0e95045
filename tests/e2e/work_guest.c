/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A guest for the worker tests: THREADS threads call vaccel_exec(LIB, work_block, PATH)
 * on one session at once, each printing "ret R out O" as it returns. With WARM, WARM
 * quick calls (work_peek) come first, so that the agent expects this guest's ops short.
 * usage: work_guest LIB PATH [THREADS [WARM]]     exit 0 when every call returned VACCEL_OK
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vaccel.h>

static const char *lib, *path;
static struct vaccel_session sess;
static int failures;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void *one(void *arg)
{
	int out = 0;
	struct vaccel_arg rd[1] = {{.buf = (void *)path, .size = strlen(path), .type = VACCEL_ARG_RAW}};
	struct vaccel_arg wr[1] = {{.buf = &out, .size = sizeof(out), .type = VACCEL_ARG_INT32}};
	int ret = vaccel_exec(&sess, lib, "work_block", rd, 1, wr, 1);

	(void)arg;
	pthread_mutex_lock(&out_lock);
	printf("ret %d out %d\n", ret, out);
	fflush(stdout);
	failures += ret != VACCEL_OK;
	pthread_mutex_unlock(&out_lock);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[16];
	int n;

	if (argc < 3 || !strcmp(argv[1], "--help")) {
		fprintf(argc < 3 ? stderr : stdout, "usage: work_guest LIB PATH [THREADS [WARM]]\n");
		return argc < 3 ? 2 : 0;
	}
	lib = argv[1];
	path = argv[2];
	n = argc > 3 ? atoi(argv[3]) : 1;
	if (n < 0 || n > 16) {
		fprintf(stderr, "work_guest: THREADS from 0 (the WARM calls only) to 16\n");
		return 2;
	}
	if (vaccel_session_init(&sess, VACCEL_PLUGIN_REMOTE)) {
		fprintf(stderr, "work_guest: no session\n");
		return 1;
	}
	int warm = argc > 4 ? atoi(argv[4]) : 0;
	for (int i = 0; i < warm; i++) {
		char seen[8] = {0};
		struct vaccel_arg rd[1] = {{.buf = (void *)path, .size = strlen(path), .type = VACCEL_ARG_RAW}};
		struct vaccel_arg wr[1] = {{.buf = seen, .size = sizeof(seen), .type = VACCEL_ARG_RAW}};
		if (vaccel_exec(&sess, lib, "work_peek", rd, 1, wr, 1) != VACCEL_OK) {
			fprintf(stderr, "work_guest: warm-up call %d failed\n", i);
			return 1;
		}
	}
	printf("session\n");
	fflush(stdout);
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, one, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	vaccel_session_release(&sess);
	return failures ? 1 : 0;
}
