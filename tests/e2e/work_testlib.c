// SPDX-License-Identifier: Apache-2.0
// Functions for vaccel_exec in the worker and scratch tests. They run on the host, in the
// agent: one reports the bytes it was handed, one blocks until the test lets it go.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <vaccel.h>

/* out[0] = the first out[0].size bytes (at most 64) at in[0].buf, whatever in[0].size says:
 * a careless function, showing what a 0-byte input lets it see. */
int work_peek(struct vaccel_arg *in, size_t nr_in, struct vaccel_arg *out, size_t nr_out)
{
	if (nr_in < 1 || nr_out < 1 || out[0].size > 64 || !in[0].buf)
		return VACCEL_EINVAL;
	memcpy(out[0].buf, in[0].buf, out[0].size);
	return VACCEL_OK;
}

/* in[0] = a path P: writes one byte to the FIFO P.started (the op is running), then waits
 * for one byte on the FIFO P.release. out[0] (int) = 7 when both worked. */
int work_block(struct vaccel_arg *in, size_t nr_in, struct vaccel_arg *out, size_t nr_out)
{
	char path[512], c = 's';
	int fd, ok = 0;

	if (nr_in < 1 || nr_out < 1 || out[0].size != sizeof(int) || in[0].size == 0 ||
	    in[0].size >= 500)
		return VACCEL_EINVAL;
	snprintf(path, sizeof(path), "%.*s.started", (int)in[0].size, (const char *)in[0].buf);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		ok = write(fd, &c, 1) == 1;
		close(fd);
	}
	snprintf(path, sizeof(path), "%.*s.release", (int)in[0].size, (const char *)in[0].buf);
	/* EOF without a byte: the writer was the release of an earlier op, closing just as
	 * this one opened; wait for the next writer. */
	for (ssize_t n = 0; ok && n == 0;) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			ok = 0;
			break;
		}
		n = read(fd, &c, 1);
		close(fd);
		ok = n >= 0;
	}
	int v = ok ? 7 : 0;
	memcpy(out[0].buf, &v, sizeof(v));
	return ok ? VACCEL_OK : VACCEL_EIO;
}
