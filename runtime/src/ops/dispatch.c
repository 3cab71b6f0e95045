// SPDX-License-Identifier: Apache-2.0
// What every op checks before calling its plugin: that the plugin has the
// op, and that a resource it is given is of the right type and registered.
#include "../rt.h"
#include <inttypes.h>

void *rt_op_lookup(struct vaccel_session *sess, vaccel_op_type_t type)
{
	void *fn = rt_op_func(sess, type);
	if (!fn)
		/* an error: the program asked for an op its plugin does not
		 * serve, and needs to know which op and which plugin */
		vaccel_error("session:%" PRId64 " plugin %s does not implement "
			    "%s",
			    sess->id, rt_plugin_name(sess->plugin),
			    vaccel_op_type_to_str(type));
	return fn;
}

int rt_op_check_resource(struct vaccel_session *sess,
			 struct vaccel_resource *res,
			 vaccel_resource_type_t want, vaccel_op_type_t op)
{
	if (res->type != want) {
		vaccel_error("session:%" PRId64 " %s: resource %" PRId64
			     " is %s, expected %s",
			     sess->id, vaccel_op_type_to_str(op), res->id,
			     vaccel_resource_type_to_str(res->type),
			     vaccel_resource_type_to_str(want));
		return VACCEL_EINVAL;
	}
	if (!vaccel_session_has_resource(sess, res)) {
		vaccel_error("session:%" PRId64 " %s: resource %" PRId64
			     " is not registered with the session",
			     sess->id, vaccel_op_type_to_str(op), res->id);
		return VACCEL_EPERM;
	}
	return VACCEL_OK;
}

void *rt_model_op_lookup(struct vaccel_session *sess,
			 struct vaccel_resource *model, vaccel_op_type_t type,
			 int *ret)
{
	*ret = VACCEL_EINVAL;
	if (!sess || !sess->plugin || !model)
		return NULL;
	*ret = rt_op_check_resource(sess, model, VACCEL_RESOURCE_MODEL, type);
	if (*ret)
		return NULL;
	void *fn = rt_op_lookup(sess, type);
	*ret = fn ? VACCEL_OK : VACCEL_ENOTSUP;
	return fn;
}
