// SPDX-License-Identifier: Apache-2.0
// Upstream-style program: vaccel_noop through vaccel_genop.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <vaccel.h>

int main(void)
{
	int ret;
	struct vaccel_session sess;

	ret = vaccel_session_init(&sess, 0);
	if (ret != VACCEL_OK) {
		fprintf(stderr, "Could not initialize session\n");
		return 1;
	}
	printf("Initialized session with id: %" PRId64 "\n", sess.id);

	vaccel_op_type_t op_type = VACCEL_OP_NOOP;
	struct vaccel_arg read[1] = {
		{ .size = sizeof(op_type), .buf = &op_type },
	};

	ret = vaccel_genop(&sess, read, 1, NULL, 0);
	if (ret)
		fprintf(stderr, "Could not run op: %d\n", ret);

	if (vaccel_session_release(&sess) != VACCEL_OK) {
		fprintf(stderr, "Could not clear session\n");
		return 1;
	}
	return ret;
}
