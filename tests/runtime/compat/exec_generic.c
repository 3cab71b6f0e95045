// SPDX-License-Identifier: Apache-2.0
// Upstream-style program: vaccel_exec through vaccel_genop, strings sized
// without their terminator as upstream's older example does.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vaccel.h>

int main(int argc, char **argv)
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
	vaccel_op_type_t op_type = VACCEL_OP_EXEC;
	struct vaccel_arg read[4] = {
		{ .size = sizeof(op_type), .buf = &op_type },
		{ .size = strlen(argv[1]), .buf = argv[1] },
		{ .size = strlen("mytestfunc"), .buf = "mytestfunc" },
		{ .size = sizeof(input), .buf = &input },
	};
	struct vaccel_arg write[1] = {
		{ .size = sizeof(output), .buf = &output },
	};

	for (int i = 0; i < atoi(argv[2]); ++i) {
		ret = vaccel_genop(&sess, read, 4, write, 1);
		if (ret) {
			fprintf(stderr, "Could not run op: %d\n", ret);
			goto close_session;
		}
	}
	printf("output: %d\n", output);
	if (output != 20) {
		fprintf(stderr, "expected output 20, got %d\n", output);
		ret = 1;
	}

close_session:
	if (vaccel_session_release(&sess) != VACCEL_OK) {
		fprintf(stderr, "Could not clear session\n");
		return 1;
	}
	return ret;
}
