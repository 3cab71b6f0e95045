// SPDX-License-Identifier: Apache-2.0
// vaccel_minmax and its genop form: read [indata (double[]), ndata (int),
// low_threshold (int), high_threshold (int)], write [outdata (double[]),
// min (double), max (double)].
#include "../rt.h"
#include <string.h>

/* This file implements the deprecated API; its own uses are intended. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

typedef int (*rt_minmax_fn)(struct vaccel_session *sess, const double *indata,
			    int ndata, int low_threshold, int high_threshold,
			    double *outdata, double *min, double *max);

int vaccel_minmax(struct vaccel_session *sess, const double *indata, int ndata,
		  int low_threshold, int high_threshold, double *outdata,
		  double *min, double *max)
{
	if (!sess || !sess->plugin)
		return VACCEL_EINVAL;
	rt_minmax_fn fn = (rt_minmax_fn)rt_op_lookup(sess, VACCEL_OP_MINMAX);
	if (!fn)
		return VACCEL_ENOTSUP;
	vaccel_prof_region_start(&rt_op_prof[VACCEL_OP_MINMAX]);
	int ret = fn(sess, indata, ndata, low_threshold, high_threshold,
		     outdata, min, max);
	vaccel_prof_region_stop(&rt_op_prof[VACCEL_OP_MINMAX]);
	return ret;
}

static bool _int_arg(const struct vaccel_arg *a, int *out)
{
	if (!a->buf || a->size != sizeof(int))
		return false;
	memcpy(out, a->buf, sizeof(int));
	return true;
}

int rt_minmax_unpack(struct vaccel_session *sess, struct vaccel_arg *read,
		     int nr_read, struct vaccel_arg *write, int nr_write)
{
	int ndata, low, high;
	if (nr_read != 4 || nr_write != 3) {
		vaccel_error("genop MINMAX: expected 4 read and 3 write "
			     "arguments, got %d and %d",
			     nr_read, nr_write);
		return VACCEL_EINVAL;
	}
	if (!_int_arg(&read[1], &ndata) || !_int_arg(&read[2], &low) ||
	    !_int_arg(&read[3], &high) || ndata < 0) {
		vaccel_error("genop MINMAX: ndata and the thresholds must be "
			     "ints, ndata >= 0");
		return VACCEL_EINVAL;
	}
	size_t bytes = (size_t)ndata * sizeof(double);
	if (!read[0].buf || read[0].size < bytes || !write[0].buf ||
	    write[0].size < bytes || !write[1].buf ||
	    write[1].size != sizeof(double) || !write[2].buf ||
	    write[2].size != sizeof(double)) {
		vaccel_error("genop MINMAX: indata and outdata must hold %d "
			     "doubles, min and max one each",
			     ndata);
		return VACCEL_EINVAL;
	}
	return vaccel_minmax(sess, read[0].buf, ndata, low, high, write[0].buf,
			     write[1].buf, write[2].buf);
}
