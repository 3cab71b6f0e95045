// SPDX-License-Identifier: Apache-2.0
// The OpenCV op: its arguments are the plugin's to interpret.
#include "../rt.h"

/* Plugins declare the counts as int or size_t; a size_t carries both. */
typedef int (*rt_opencv_fn)(struct vaccel_session *sess,
			    struct vaccel_arg *read, size_t nr_read,
			    struct vaccel_arg *write, size_t nr_write);

int vaccel_opencv_unpack(struct vaccel_session *sess, struct vaccel_arg *read,
			 int nr_read, struct vaccel_arg *write, int nr_write)
{
	if (!sess || !sess->plugin || nr_read < 0 || nr_write < 0 ||
	    (nr_read && !read) || (nr_write && !write))
		return VACCEL_EINVAL;
	rt_opencv_fn fn = (rt_opencv_fn)rt_op_lookup(sess, VACCEL_OP_OPENCV);
	if (!fn)
		return VACCEL_ENOTSUP;
	vaccel_prof_region_start(&rt_op_prof[VACCEL_OP_OPENCV]);
	int ret = fn(sess, read, (size_t)nr_read, write, (size_t)nr_write);
	vaccel_prof_region_stop(&rt_op_prof[VACCEL_OP_OPENCV]);
	return ret;
}
