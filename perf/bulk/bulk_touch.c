// SPDX-License-Identifier: Apache-2.0
// The host side of the bulk benchmark's call, run by the exec plugin in the agent: it reads
// the tensor's first and last cache lines where they are (in the pool, for zero copy) and
// answers 8 bytes. Linked -z nodelete so that exec's dlopen/dlclose per call stays cheap.
#include <stdint.h>
#include <string.h>
#include <vaccel.h>

/* Sum of the 64-bit words of the first and the last 64 bytes of buf (len >= 64). */
uint64_t bulk_touch_sum(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t s = 0, w;

	for (size_t i = 0; i < 64; i += 8) {
		memcpy(&w, p + i, 8);
		s += w;
		memcpy(&w, p + len - 64 + i, 8);
		s += w;
	}
	return s;
}

/* in[0]: the tensor (at least 64 bytes); out[0] (uint64): bulk_touch_sum of it. */
int bulk_touch(struct vaccel_arg *in, size_t nr_in, struct vaccel_arg *out, size_t nr_out)
{
	uint64_t s;

	if (nr_in < 1 || nr_out < 1 || in[0].size < 64 || out[0].size != sizeof(s))
		return VACCEL_EINVAL;
	s = bulk_touch_sum(in[0].buf, in[0].size);
	memcpy(out[0].buf, &s, sizeof(s));
	return VACCEL_OK;
}
