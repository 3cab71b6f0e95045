// SPDX-License-Identifier: Apache-2.0
// vaccel_noop: dispatch only, the floor of a call's cost.
#include "../rt.h"
#include <inttypes.h>

typedef int (*rt_noop_fn)(struct vaccel_session *sess);

int vaccel_noop(struct vaccel_session *sess)
{
	if (!sess || !sess->plugin)
		return VACCEL_EINVAL;

	rt_noop_fn fn = (rt_noop_fn)rt_op_func(sess, VACCEL_OP_NOOP);
	if (!fn) {
		vaccel_debug("session:%" PRId64 " plugin %s has no NOOP",
			     sess->id, rt_plugin_name(sess->plugin));
		return VACCEL_ENOTSUP;
	}
	vaccel_prof_region_start(&rt_op_prof[VACCEL_OP_NOOP]);
	int ret = fn(sess);
	vaccel_prof_region_stop(&rt_op_prof[VACCEL_OP_NOOP]);
	return ret;
}
