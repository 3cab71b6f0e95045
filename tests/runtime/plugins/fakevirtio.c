// SPDX-License-Identifier: Apache-2.0
// Test fixture: a stand-in transport plugin (is_virtio). It records that its
// session and resource hooks ran (remote ids, priv) and answers noop with
// a marker so tests can tell which plugin served a call.
#include <stdlib.h>
#include <vaccel.h>

enum { FAKEVIRTIO_NOOP_RET = 0 };

static int fv_session_init(struct vaccel_session *sess, uint32_t flags)
{
	(void)flags;
	sess->remote_id = 1000 + sess->id;
	sess->priv = malloc(16);
	return sess->priv ? VACCEL_OK : VACCEL_ENOMEM;
}

static int fv_session_release(struct vaccel_session *sess)
{
	free(sess->priv);
	sess->priv = NULL;
	return VACCEL_OK;
}

static int fv_resource_register(struct vaccel_resource *res,
				struct vaccel_session *sess)
{
	(void)sess;
	res->remote_id = 5000 + res->id;
	return VACCEL_OK;
}

static int fv_resource_unregister(struct vaccel_resource *res,
				  struct vaccel_session *sess)
{
	(void)sess;
	res->remote_id = 0;
	return VACCEL_OK;
}

static int fv_noop(struct vaccel_session *sess)
{
	/* The session must arrive intact, with the plugin's priv. */
	return (sess->priv && sess->remote_id == 1000 + sess->id) ?
		       FAKEVIRTIO_NOOP_RET :
		       VACCEL_EBACKEND;
}

static struct vaccel_op fv_ops[] = {
	VACCEL_OP_INIT(fv_ops[0], VACCEL_OP_NOOP, fv_noop),
};

static int fv_init(void)
{
	return vaccel_plugin_register_ops(fv_ops, 1);
}

static int fv_fini(void)
{
	return VACCEL_OK;
}

VACCEL_PLUGIN(.name = "fakevirtio", .version = "0.1",
	      .vaccel_version = VACCEL_VERSION, .type = VACCEL_PLUGIN_GENERIC,
	      .is_virtio = true, .init = fv_init, .fini = fv_fini,
	      .session_init = fv_session_init,
	      .session_release = fv_session_release,
	      .resource_register = fv_resource_register,
	      .resource_unregister = fv_resource_unregister)
