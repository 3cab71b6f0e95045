// SPDX-License-Identifier: Apache-2.0
// Functions for vaccel_exec in the zero-copy tests. They run on the host (in the agent) and
// report what the host saw, so a test can tell memory shared in place from a copy.
#include <stdint.h>
#include <string.h>
#include <vaccel.h>

/* out[0] (uint64) = in[0]'s first byte + 256 * its last byte; then both bytes are
 * incremented in place, so the caller sees the change only if the host used its memory. */
int zc_mark(struct vaccel_arg *in, size_t nr_in, struct vaccel_arg *out, size_t nr_out)
{
	if (nr_in < 1 || nr_out < 1 || in[0].size < 2 || out[0].size != sizeof(uint64_t))
		return VACCEL_EINVAL;
	unsigned char *p = in[0].buf;
	uint64_t v = p[0] + 256u * p[in[0].size - 1];
	memcpy(out[0].buf, &v, sizeof(v));
	p[0]++;
	p[in[0].size - 1]++;
	return VACCEL_OK;
}

/* out[0] = uint32 words i * seed, seed = in[0] (uint32). With in[1] and out[1] (uint64):
 * out[1] = 1 when in[1] and out[0] are the same memory on the host. */
int zc_fill(struct vaccel_arg *in, size_t nr_in, struct vaccel_arg *out, size_t nr_out)
{
	uint32_t seed;

	if (nr_in < 1 || nr_out < 1 || in[0].size != sizeof(seed))
		return VACCEL_EINVAL;
	memcpy(&seed, in[0].buf, sizeof(seed));
	if (nr_in >= 2 && nr_out >= 2) {
		uint64_t same = in[1].buf == out[0].buf;
		if (out[1].size != sizeof(same))
			return VACCEL_EINVAL;
		memcpy(out[1].buf, &same, sizeof(same));
	}
	uint32_t *w = out[0].buf;
	for (size_t i = 0; i < out[0].size / sizeof(*w); i++)
		w[i] = (uint32_t)i * seed;
	return VACCEL_OK;
}
