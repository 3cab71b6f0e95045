// SPDX-License-Identifier: Apache-2.0
// An exec library that says which build it is (WHOAMI), linked with -z nodelete
// so that it stays loaded, under the name it was opened by, after dlclose.
#include <stdint.h>
#include <string.h>
#include <vaccel.h>

int whoami(struct vaccel_arg *in, size_t nr_in, struct vaccel_arg *out, size_t nr_out)
{
	int32_t v = WHOAMI;

	(void)in;
	(void)nr_in;
	if (nr_out < 1 || out[0].size != sizeof(v))
		return VACCEL_EINVAL;
	memcpy(out[0].buf, &v, sizeof(v));
	return VACCEL_OK;
}
