// SPDX-License-Identifier: Apache-2.0
// Sessions: a client's context, bound at init to one plugin.
#pragma once

#include "id.h"
#include "list.h"
#include "resource.h"
#include <limits.h>
#include <linux/limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vaccel_plugin;

struct vaccel_session {
	vaccel_id_t id;
	/* id of the session on the remote side (transport plugins) */
	vaccel_id_t remote_id;
	/* plugin-type bits asked for at init/update */
	unsigned int hint;
	/* bound to a transport (virtio-like) plugin */
	bool is_virtio;
	/* the session's own run directory ("" until one is needed) */
	char rundir[PATH_MAX];
	/* entry in the runtime's list of live sessions */
	struct vaccel_list_entry entry;
	/* registered resources, one list per type (runtime-owned links) */
	struct vaccel_list_entry resources[VACCEL_RESOURCE_MAX];
	size_t resource_counts[VACCEL_RESOURCE_MAX];
	pthread_mutex_t resources_lock;
	/* plugin serving this session's ops */
	struct vaccel_plugin *plugin;
	/* plugin private data */
	void *priv;
};

/* The live session with this id (VACCEL_EINVAL, VACCEL_ENOENT). */
int vaccel_session_get_by_id(struct vaccel_session **sess, vaccel_id_t id);
/* flags: plugin-type bits (VACCEL_PLUGIN_*). VACCEL_ENOENT when no loaded
 * plugin can serve the session. */
int vaccel_session_init(struct vaccel_session *sess, uint32_t flags);
int vaccel_session_update(struct vaccel_session *sess, uint32_t flags);
/* Unregisters any resources still registered. */
int vaccel_session_release(struct vaccel_session *sess);
int vaccel_session_new(struct vaccel_session **sess, uint32_t flags);
int vaccel_session_delete(struct vaccel_session *sess);
bool vaccel_session_has_resource(struct vaccel_session *sess,
				 struct vaccel_resource *res);
int vaccel_session_resource_by_id(struct vaccel_session *sess,
				  struct vaccel_resource **res, vaccel_id_t id);
int vaccel_session_resource_by_type(struct vaccel_session *sess,
				    struct vaccel_resource **res,
				    vaccel_resource_type_t type);
/* Every registered resource of type: a malloc'ed array the caller frees.
 * VACCEL_ENOENT when there is none. */
int vaccel_session_resources_by_type(struct vaccel_session *sess,
				     struct vaccel_resource ***resources,
				     size_t *nr_found,
				     vaccel_resource_type_t type);

/* Older names. */
int vaccel_sess_init(struct vaccel_session *sess, uint32_t flags);
int vaccel_sess_update(struct vaccel_session *sess, uint32_t flags);
int vaccel_sess_free(struct vaccel_session *sess);
bool vaccel_sess_has_resource(struct vaccel_session *sess,
			      struct vaccel_resource *res);

#ifdef __cplusplus
}
#endif
