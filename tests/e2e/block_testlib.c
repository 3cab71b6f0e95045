// SPDX-License-Identifier: Apache-2.0
// A function for vaccel_exec that runs on the host (in the agent) and blocks until the test
// tells it to return, so a test knows for certain that a request is in flight: the
// function itself says when it has started, and the call cannot end before the test lets it.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <vaccel.h>

/* Creates DIR/NAME (empty). 0 or -1. */
static int touch(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/*
 * in[0]: a folder (NUL-terminated path). Creates DIR/entered, waits until DIR/go exists,
 * creates DIR/left and returns VACCEL_OK. Gives up after 60 s (VACCEL_ETIMEDOUT) so that
 * a test that died cannot keep the agent's thread forever.
 */
int block_until_told(struct vaccel_arg *in, size_t nr_in, struct vaccel_arg *out, size_t nr_out)
{
	(void)out;
	(void)nr_out;
	if (nr_in < 1 || in[0].size < 2 || ((char *)in[0].buf)[in[0].size - 1] != 0)
		return VACCEL_EINVAL;
	const char *dir = in[0].buf;
	char go[4096];

	snprintf(go, sizeof(go), "%s/go", dir);
	if (touch(dir, "entered"))
		return VACCEL_EIO;
	struct timespec tick = {0, 1000000};
	for (int i = 0; i < 60000; i++) {
		if (access(go, F_OK) == 0)
			return touch(dir, "left") ? VACCEL_EIO : VACCEL_OK;
		nanosleep(&tick, NULL);
	}
	return VACCEL_ETIMEDOUT;
}
