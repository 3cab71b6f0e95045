// SPDX-License-Identifier: Apache-2.0
// A small library for the exec examples and tests. Functions have the exec
// signature: int fn(struct vaccel_arg *in, size_t nr_in,
//                   struct vaccel_arg *out, size_t nr_out).
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <vaccel.h>

/* out[0] (int) = 2 * in[0] (int) */
int mytestfunc(struct vaccel_arg *input, size_t nr_in,
	       struct vaccel_arg *output, size_t nr_out)
{
	if (nr_in < 1 || nr_out < 1 || input[0].size != sizeof(int) ||
	    output[0].size != sizeof(int))
		return VACCEL_EINVAL;
	int in;
	memcpy(&in, input[0].buf, sizeof(in));
	int out = 2 * in;
	memcpy(output[0].buf, &out, sizeof(out));
	return VACCEL_OK;
}

/* Same through the older helpers (runtime symbols, resolved from the
 * program that loaded the exec plugin). vaccel_write_serial_arg copies as
 * many bytes as the output's size, which the caller chose: a function that
 * uses it must check that size first, or a caller asking for 4 KiB would get
 * this function's stack (on the agent, a guest would read host memory). */
int mytestfunc_serial(struct vaccel_arg *input, size_t nr_in,
		      struct vaccel_arg *output, size_t nr_out)
{
	if (nr_in < 1 || nr_out < 1 || input[0].size != sizeof(int) ||
	    output[0].size != sizeof(int))
		return VACCEL_EINVAL;
	int *in = vaccel_extract_serial_arg(input, 0);
	int out = 2 * *in;
	return vaccel_write_serial_arg(output, 0, &out);
}

/* out[0] (int64) = sum of in[0] (int32 array), with the arg-array API. */
int mytestfunc_sum(struct vaccel_arg *input, size_t nr_in,
		   struct vaccel_arg *output, size_t nr_out)
{
	struct vaccel_arg_array in, out;
	int32_t *v;
	size_t n;
	if (vaccel_arg_array_wrap(&in, input, nr_in) ||
	    vaccel_arg_array_wrap(&out, output, nr_out))
		return VACCEL_EINVAL;
	int ret = vaccel_arg_array_get_int32_array(&in, &v, &n);
	if (ret)
		return ret;
	int64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	return vaccel_arg_array_set_int64(&out, &sum);
}

/* Always fails with a code of its own, to see it reach the caller. */
int mytestfunc_fail(struct vaccel_arg *input, size_t nr_in,
		    struct vaccel_arg *output, size_t nr_out)
{
	(void)input;
	(void)nr_in;
	(void)output;
	(void)nr_out;
	return VACCEL_EBADF;
}

/* Data, not functions: vaccel_exec must refuse to call them (tests name
 * them as the function to run). */
const int32_t mytestlib_table[4] = { 1, 2, 3, 4 };
int32_t mytestlib_counter;
