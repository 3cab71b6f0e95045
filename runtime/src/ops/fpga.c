// SPDX-License-Identifier: Apache-2.0
// The FPGA demo ops and their genop form:
//   ARRAYCOPY read [a]    write [out_a]
//   MMULT     read [a, b] write [c]
//   PARALLEL  read [a, b] write [add_output, mult_output]
//   VECTORADD read [a, b] write [c]
// The length is a's element count; every other buffer must hold as many.
#include "../rt.h"

/* This file implements the deprecated API; its own uses are intended. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

typedef int (*rt_fpga_copy_fn)(struct vaccel_session *sess, int a[],
			       int out_a[], size_t len_a);
typedef int (*rt_fpga_mmult_fn)(struct vaccel_session *sess, float a[],
				float b[], float c[], size_t len_a);
typedef int (*rt_fpga_parallel_fn)(struct vaccel_session *sess, float a[],
				   float b[], float add_output[],
				   float mult_output[], size_t len_a);
typedef int (*rt_fpga_vadd_fn)(struct vaccel_session *sess, float a[],
			       float b[], float c[], size_t len_a,
			       size_t len_b);

/* The plugin's function for type (or NULL: ENOTSUP), profiled by caller. */
static void *_fn(struct vaccel_session *sess, vaccel_op_type_t type)
{
	if (!sess || !sess->plugin)
		return NULL;
	return rt_op_lookup(sess, type);
}

#define RT_FPGA_CALL(type, fn_t, ...)                                 \
	do {                                                          \
		if (!sess || !sess->plugin)                           \
			return VACCEL_EINVAL;                         \
		fn_t fn = (fn_t)_fn(sess, type);                      \
		if (!fn)                                              \
			return VACCEL_ENOTSUP;                        \
		vaccel_prof_region_start(&rt_op_prof[type]);          \
		int ret = fn(sess, __VA_ARGS__);                      \
		vaccel_prof_region_stop(&rt_op_prof[type]);           \
		return ret;                                           \
	} while (0)

int vaccel_fpga_arraycopy(struct vaccel_session *sess, int a[], int out_a[],
			  size_t len_a)
{
	RT_FPGA_CALL(VACCEL_OP_FPGA_ARRAYCOPY, rt_fpga_copy_fn, a, out_a, len_a);
}

int vaccel_fpga_mmult(struct vaccel_session *sess, float a[], float b[],
		      float c[], size_t len_a)
{
	RT_FPGA_CALL(VACCEL_OP_FPGA_MMULT, rt_fpga_mmult_fn, a, b, c, len_a);
}

int vaccel_fpga_parallel(struct vaccel_session *sess, float a[], float b[],
			 float add_output[], float mult_output[], size_t len_a)
{
	RT_FPGA_CALL(VACCEL_OP_FPGA_PARALLEL, rt_fpga_parallel_fn, a, b,
		     add_output, mult_output, len_a);
}

int vaccel_fpga_vadd(struct vaccel_session *sess, float a[], float b[],
		     float c[], size_t len_a, size_t len_b)
{
	RT_FPGA_CALL(VACCEL_OP_FPGA_VECTORADD, rt_fpga_vadd_fn, a, b, c, len_a,
		     len_b);
}

/* Each arg has a buffer of at least min bytes. */
static bool _hold(const struct vaccel_arg *args, int n, size_t min)
{
	for (int i = 0; i < n; i++)
		if (!args[i].buf || args[i].size < min)
			return false;
	return true;
}

int rt_fpga_unpack(vaccel_op_type_t type, struct vaccel_session *sess,
		   struct vaccel_arg *read, int nr_read,
		   struct vaccel_arg *write, int nr_write)
{
	int want_read = type == VACCEL_OP_FPGA_ARRAYCOPY ? 1 : 2;
	int want_write = type == VACCEL_OP_FPGA_PARALLEL ? 2 : 1;
	const char *name = vaccel_op_type_to_str(type);
	if (nr_read != want_read || nr_write != want_write) {
		vaccel_error("genop %s: expected %d read and %d write "
			     "arguments, got %d and %d",
			     name, want_read, want_write, nr_read, nr_write);
		return VACCEL_EINVAL;
	}
	size_t elem = type == VACCEL_OP_FPGA_ARRAYCOPY ? sizeof(int) :
							 sizeof(float);
	size_t len = read[0].size / elem;
	if (!_hold(read, nr_read, len * elem) ||
	    !_hold(write, nr_write, len * elem)) {
		vaccel_error("genop %s: every buffer must hold a's %zu "
			     "elements",
			     name, len);
		return VACCEL_EINVAL;
	}
	switch (type) {
	case VACCEL_OP_FPGA_ARRAYCOPY:
		return vaccel_fpga_arraycopy(sess, read[0].buf, write[0].buf,
					     len);
	case VACCEL_OP_FPGA_MMULT:
		return vaccel_fpga_mmult(sess, read[0].buf, read[1].buf,
					 write[0].buf, len);
	case VACCEL_OP_FPGA_PARALLEL:
		return vaccel_fpga_parallel(sess, read[0].buf, read[1].buf,
					    write[0].buf, write[1].buf, len);
	case VACCEL_OP_FPGA_VECTORADD:
		return vaccel_fpga_vadd(sess, read[0].buf, read[1].buf,
					write[0].buf, len,
					read[1].size / sizeof(float));
	default:
		return VACCEL_EINVAL;
	}
}
