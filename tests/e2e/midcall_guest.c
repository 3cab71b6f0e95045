/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A guest for the kill-mid-call test: opens three sessions, makes a few ordinary calls
 * (noop, sgemm), then writes "calling block_until_told\n" on file descriptor FD and calls
 * block_until_told of LIB (tests/e2e/block_testlib.c) with DIR, which blocks on the host
 * until the test creates DIR/go. The test kills this process while that call is in flight.
 * usage: midcall_guest FD LIB DIR     exit 0: the call returned (only if nobody killed us)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vaccel.h>

static int usage(FILE *f, int rc)
{
	fprintf(f, "usage: midcall_guest FD LIB DIR\n"
		   "  FD   a descriptor to announce the blocking call on\n"
		   "  LIB  the host's path of libblock_testlib.so\n"
		   "  DIR  the folder block_until_told signals in\n");
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--help"))
		return usage(stdout, 0);
	if (argc != 4)
		return usage(stderr, 2);
	char *end;
	long fd = strtol(argv[1], &end, 10);
	if (*end || fd < 0) {
		fprintf(stderr, "midcall_guest: FD must be a descriptor number, not '%s'\n", argv[1]);
		return 2;
	}
	struct vaccel_session blas, dbg, gen;
	if (vaccel_session_init(&blas, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_CPU) ||
	    vaccel_session_init(&dbg, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG) ||
	    vaccel_session_init(&gen, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_GENERIC)) {
		fprintf(stderr, "midcall_guest: session init failed\n");
		return 1;
	}
	float a[64], b[64], c[64];
	for (int i = 0; i < 64; i++)
		a[i] = b[i] = 1, c[i] = 0;
	for (int i = 0; i < 10; i++)
		if (vaccel_noop(&dbg) || vaccel_sgemm(&blas, 8, 8, 8, 1.0f, a, 8, b, 8, 0.0f, c, 8) ||
		    c[0] != 8.0f) {
			fprintf(stderr, "midcall_guest: call %d failed\n", i);
			return 1;
		}
	static const char msg[] = "calling block_until_told\n";
	if (write((int)fd, msg, sizeof(msg) - 1) != (ssize_t)sizeof(msg) - 1) {
		perror("midcall_guest: write FD");
		return 1;
	}
	struct vaccel_arg in[1] = {{.buf = argv[3], .size = strlen(argv[3]) + 1}};
	int ret = vaccel_exec(&gen, argv[2], "block_until_told", in, 1, NULL, 0);
	printf("block_until_told returned %d\n", ret);
	return ret ? 1 : 0;
}
