// SPDX-License-Identifier: Apache-2.0
// Upstream-style program: a session and vaccel_noop, N times.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <vaccel.h>

int main(int argc, char *argv[])
{
	int ret;
	struct vaccel_session sess;
	int iter = (argc > 1) ? atoi(argv[1]) : 1;

	ret = vaccel_session_init(&sess, 0);
	if (ret != VACCEL_OK) {
		fprintf(stderr, "Could not initialize session\n");
		return 1;
	}

	printf("Initialized session with id: %" PRId64 "\n", sess.id);

	for (int i = 0; i < iter; i++) {
		ret = vaccel_noop(&sess);
		if (ret) {
			fprintf(stderr, "Could not run op: %d\n", ret);
			goto close_session;
		}
	}

close_session:
	if (vaccel_session_release(&sess) != VACCEL_OK) {
		fprintf(stderr, "Could not clear session\n");
		return 1;
	}

	return ret;
}
