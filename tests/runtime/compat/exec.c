// SPDX-License-Identifier: Apache-2.0
// Upstream-style program: vaccel_exec of mytestfunc from a library.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <vaccel.h>

int main(int argc, char *argv[])
{
	int ret;
	struct vaccel_session sess;
	int input;
	int output = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s library iterations\n", argv[0]);
		return 1;
	}

	ret = vaccel_session_init(&sess, 0);
	if (ret != VACCEL_OK) {
		fprintf(stderr, "Could not initialize session\n");
		return 1;
	}
	printf("Initialized session with id: %" PRId64 "\n", sess.id);

	input = 10;
	struct vaccel_arg read[1] = { { .size = sizeof(input), .buf = &input } };
	struct vaccel_arg write[1] = { { .size = sizeof(output),
					 .buf = &output } };

	for (int i = 0; i < atoi(argv[2]); ++i) {
		ret = vaccel_exec(&sess, argv[1], "mytestfunc", read, 1, write,
				  1);
		if (ret) {
			fprintf(stderr, "Could not run op: %d\n", ret);
			goto close_session;
		}
	}
	printf("output: %d\n", output);
	if (output != 2 * input) {
		fprintf(stderr, "expected output %d, got %d\n", 2 * input,
			output);
		ret = 1;
	}

close_session:
	if (vaccel_session_release(&sess) != VACCEL_OK) {
		fprintf(stderr, "Could not clear session\n");
		return 1;
	}
	return ret;
}
