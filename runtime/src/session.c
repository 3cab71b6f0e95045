// SPDX-License-Identifier: Apache-2.0
// Sessions: bind to a plugin at init, keep the set of registered resources.
#include "rt.h"
#include "session_res.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static vaccel_id_t rt_next_session_id = 1;

int vaccel_session_init(struct vaccel_session *sess, uint32_t flags)
{
	int err = 0;

	if (!sess)
		return VACCEL_EINVAL;
	if (!vaccel_is_initialized()) {
		vaccel_error("vAccel is not initialized");
		return VACCEL_EPERM;
	}

	struct vaccel_plugin *p = rt_plugin_select(flags, &err);
	if (!p)
		return -err;
	return vaccel_session_init_with_plugin(sess, p, flags);
}

int vaccel_session_init_with_plugin(struct vaccel_session *sess,
				    struct vaccel_plugin *p, uint32_t flags)
{
	if (!sess || !p)
		return VACCEL_EINVAL;
	if (!vaccel_is_initialized()) {
		vaccel_error("vAccel is not initialized");
		return VACCEL_EPERM;
	}
	memset(sess, 0, sizeof(*sess));
	sess->id = __atomic_fetch_add(&rt_next_session_id, 1,
				      __ATOMIC_RELAXED);
	sess->hint = flags;
	sess->plugin = p;
	sess->is_virtio = p->info->is_virtio;
	vaccel_list_init(&sess->resources);
	pthread_mutex_init(&sess->resources_lock, NULL);

	if (p->info->session_init) {
		int ret = p->info->session_init(sess, flags);
		if (ret) {
			vaccel_error("session:%" PRId64 " plugin %s could not "
				     "initialize the session: %d",
				     sess->id, rt_plugin_name(p), ret);
			pthread_mutex_destroy(&sess->resources_lock);
			sess->plugin = NULL;
			return ret;
		}
	}
	vaccel_debug("session:%" PRId64 " new, flags 0x%x, plugin %s",
		     sess->id, flags, rt_plugin_name(p));
	return VACCEL_OK;
}

int vaccel_session_update(struct vaccel_session *sess, uint32_t flags)
{
	if (!sess || !sess->plugin)
		return VACCEL_EINVAL;
	if (sess->plugin->info->session_update) {
		int ret = sess->plugin->info->session_update(sess, flags);
		if (ret)
			return ret;
	}
	sess->hint = flags;
	return VACCEL_OK;
}

int vaccel_session_release(struct vaccel_session *sess)
{
	if (!sess || !sess->plugin)
		return VACCEL_EINVAL;

	/* Drop what the caller left registered, so refcounts stay right. */
	for (;;) {
		struct vaccel_resource *res = NULL;
		pthread_mutex_lock(&sess->resources_lock);
		if (!vaccel_list_empty(&sess->resources))
			res = vaccel_list_container(sess->resources.next,
						    struct rt_res_link,
						    sess_entry)
				      ->res;
		pthread_mutex_unlock(&sess->resources_lock);
		if (!res)
			break;
		vaccel_warn("session:%" PRId64 " released with resource %" PRId64
			    " still registered; unregistering it",
			    sess->id, res->id);
		if (vaccel_resource_unregister(res, sess))
			break;
	}

	int ret = VACCEL_OK;
	if (sess->plugin->info->session_release)
		ret = sess->plugin->info->session_release(sess);
	vaccel_debug("session:%" PRId64 " released", sess->id);
	pthread_mutex_destroy(&sess->resources_lock);
	sess->plugin = NULL;
	sess->priv = NULL;
	return ret;
}

int vaccel_session_new(struct vaccel_session **sess, uint32_t flags)
{
	if (!sess)
		return VACCEL_EINVAL;
	struct vaccel_session *s = malloc(sizeof(*s));
	if (!s)
		return VACCEL_ENOMEM;
	int ret = vaccel_session_init(s, flags);
	if (ret) {
		free(s);
		return ret;
	}
	*sess = s;
	return VACCEL_OK;
}

int vaccel_session_delete(struct vaccel_session *sess)
{
	if (!sess)
		return VACCEL_EINVAL;
	int ret = vaccel_session_release(sess);
	free(sess);
	return ret;
}

/* Caller holds sess->resources_lock. */
struct rt_res_link *rt_session_find_link(struct vaccel_session *sess,
					 const struct vaccel_resource *res)
{
	vaccel_list_entry_t *it;
	vaccel_list_for_each(it, &sess->resources)
	{
		struct rt_res_link *l = vaccel_list_container(
			it, struct rt_res_link, sess_entry);
		if (l->res == res)
			return l;
	}
	return NULL;
}

bool vaccel_session_has_resource(struct vaccel_session *sess,
				 struct vaccel_resource *res)
{
	if (!sess || !res || !sess->plugin)
		return false;
	pthread_mutex_lock(&sess->resources_lock);
	bool found = rt_session_find_link(sess, res) != NULL;
	pthread_mutex_unlock(&sess->resources_lock);
	return found;
}

static int _find(struct vaccel_session *sess, struct vaccel_resource **res,
		 bool by_id, vaccel_id_t id, vaccel_resource_type_t type)
{
	vaccel_list_entry_t *it;
	if (!sess || !res || !sess->plugin)
		return VACCEL_EINVAL;
	int ret = VACCEL_ENOENT;
	pthread_mutex_lock(&sess->resources_lock);
	vaccel_list_for_each(it, &sess->resources)
	{
		struct vaccel_resource *r =
			vaccel_list_container(it, struct rt_res_link,
					      sess_entry)
				->res;
		if (by_id ? r->id == id : r->type == type) {
			*res = r;
			ret = VACCEL_OK;
			break;
		}
	}
	pthread_mutex_unlock(&sess->resources_lock);
	return ret;
}

int vaccel_session_resource_by_id(struct vaccel_session *sess,
				  struct vaccel_resource **res, vaccel_id_t id)
{
	return _find(sess, res, true, id, VACCEL_RESOURCE_LIB);
}

int vaccel_session_resource_by_type(struct vaccel_session *sess,
				    struct vaccel_resource **res,
				    vaccel_resource_type_t type)
{
	return _find(sess, res, false, 0, type);
}

int vaccel_sess_init(struct vaccel_session *sess, uint32_t flags)
{
	return vaccel_session_init(sess, flags);
}

int vaccel_sess_update(struct vaccel_session *sess, uint32_t flags)
{
	return vaccel_session_update(sess, flags);
}

int vaccel_sess_free(struct vaccel_session *sess)
{
	return vaccel_session_release(sess);
}

bool vaccel_sess_has_resource(struct vaccel_session *sess,
			      struct vaccel_resource *res)
{
	return vaccel_session_has_resource(sess, res);
}
