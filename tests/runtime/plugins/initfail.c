// SPDX-License-Identifier: Apache-2.0
// Test fixture: a plugin whose init() fails after registering an op.
#include <vaccel.h>

static int initfail_noop(struct vaccel_session *sess)
{
	(void)sess;
	return VACCEL_OK;
}

static struct vaccel_op initfail_ops[] = {
	VACCEL_OP_INIT(initfail_ops[0], VACCEL_OP_NOOP, initfail_noop),
};

static int initfail_init(void)
{
	vaccel_plugin_register_ops(initfail_ops, 1);
	return VACCEL_EIO;
}

VACCEL_PLUGIN(.name = "initfail", .version = "0.1",
	      .vaccel_version = VACCEL_VERSION, .type = VACCEL_PLUGIN_DEBUG,
	      .init = initfail_init)
