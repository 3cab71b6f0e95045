// SPDX-License-Identifier: Apache-2.0
// Test fixture: a plugin built for another vAccel version.
#include <vaccel.h>

static int badver_noop(struct vaccel_session *sess)
{
	(void)sess;
	return VACCEL_OK;
}

static struct vaccel_op badver_ops[] = {
	VACCEL_OP_INIT(badver_ops[0], VACCEL_OP_NOOP, badver_noop),
};

static int badver_init(void)
{
	return vaccel_plugin_register_ops(badver_ops, 1);
}

VACCEL_PLUGIN(.name = "badver", .version = "0.1", .vaccel_version = "v0.1.0",
	      .type = VACCEL_PLUGIN_DEBUG, .init = badver_init)
