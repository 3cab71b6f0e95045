// SPDX-License-Identifier: Apache-2.0
// The op of known length mt_load's fairness part floods the agent's workers with: run by
// vaccel_exec in the agent, it keeps its CPU busy for in[0] (int64) microseconds.
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <vaccel.h>

int mt_spin(struct vaccel_arg *in, size_t nr_in, struct vaccel_arg *out, size_t nr_out)
{
	struct timespec t0, t;
	int64_t us;

	(void)out;
	(void)nr_out;
	if (nr_in < 1 || in[0].size != sizeof(us))
		return VACCEL_EINVAL;
	memcpy(&us, in[0].buf, sizeof(us));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000000ll + (t.tv_nsec - t0.tv_nsec) / 1000 < us);
	return VACCEL_OK;
}
