// SPDX-License-Identifier: Apache-2.0
// vaccel_exec and vaccel_exec_with_resource.
#include "../rt.h"
#include <inttypes.h>

typedef int (*rt_exec_fn)(struct vaccel_session *sess, const char *library,
			  const char *fn_symbol, struct vaccel_arg *read,
			  size_t nr_read, struct vaccel_arg *write,
			  size_t nr_write);
typedef int (*rt_exec_res_fn)(struct vaccel_session *sess,
			      struct vaccel_resource *resource,
			      const char *fn_symbol, struct vaccel_arg *read,
			      size_t nr_read, struct vaccel_arg *write,
			      size_t nr_write);

static bool _args_ok(const struct vaccel_arg *a, size_t n)
{
	return n == 0 || a != NULL;
}

int vaccel_exec(struct vaccel_session *sess, const char *library,
		const char *fn_symbol, struct vaccel_arg *read, size_t nr_read,
		struct vaccel_arg *write, size_t nr_write)
{
	if (!sess || !sess->plugin || !library || !fn_symbol ||
	    !_args_ok(read, nr_read) || !_args_ok(write, nr_write))
		return VACCEL_EINVAL;

	rt_exec_fn fn = (rt_exec_fn)rt_op_func(sess, VACCEL_OP_EXEC);
	if (!fn) {
		vaccel_debug("session:%" PRId64 " plugin %s has no EXEC",
			     sess->id, rt_plugin_name(sess->plugin));
		return VACCEL_ENOTSUP;
	}
	vaccel_prof_region_start(&rt_op_prof[VACCEL_OP_EXEC]);
	int ret = fn(sess, library, fn_symbol, read, nr_read, write, nr_write);
	vaccel_prof_region_stop(&rt_op_prof[VACCEL_OP_EXEC]);
	return ret;
}

int vaccel_exec_with_resource(struct vaccel_session *sess,
			      struct vaccel_resource *resource,
			      const char *fn_symbol, struct vaccel_arg *read,
			      size_t nr_read, struct vaccel_arg *write,
			      size_t nr_write)
{
	if (!sess || !sess->plugin || !resource || !fn_symbol ||
	    !_args_ok(read, nr_read) || !_args_ok(write, nr_write))
		return VACCEL_EINVAL;
	if (resource->type != VACCEL_RESOURCE_LIB) {
		vaccel_error("session:%" PRId64 " exec_with_resource needs a "
			     "LIB resource, resource %" PRId64 " is %s",
			     sess->id, resource->id,
			     vaccel_resource_type_to_str(resource->type));
		return VACCEL_EINVAL;
	}
	if (!vaccel_session_has_resource(sess, resource)) {
		vaccel_error("session:%" PRId64 " resource %" PRId64
			     " is not registered with the session",
			     sess->id, resource->id);
		return VACCEL_EPERM;
	}

	rt_exec_res_fn fn =
		(rt_exec_res_fn)rt_op_func(sess, VACCEL_OP_EXEC_WITH_RESOURCE);
	if (!fn) {
		vaccel_debug("session:%" PRId64
			     " plugin %s has no EXEC_WITH_RESOURCE",
			     sess->id, rt_plugin_name(sess->plugin));
		return VACCEL_ENOTSUP;
	}
	vaccel_prof_region_start(&rt_op_prof[VACCEL_OP_EXEC_WITH_RESOURCE]);
	int ret = fn(sess, resource, fn_symbol, read, nr_read, write,
		     nr_write);
	vaccel_prof_region_stop(&rt_op_prof[VACCEL_OP_EXEC_WITH_RESOURCE]);
	return ret;
}
