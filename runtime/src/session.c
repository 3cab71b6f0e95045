// SPDX-License-Identifier: Apache-2.0
// Sessions: bind to a plugin at init, keep the set of registered resources.
#include "rt.h"
#include "session_res.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

static vaccel_id_t rt_next_session_id = 1;
/* live sessions, for vaccel_session_get_by_id */
static pthread_mutex_t rt_sess_lock = PTHREAD_MUTEX_INITIALIZER;
static vaccel_list_t rt_sess_live = LIST_ENTRY_INIT(rt_sess_live);

/* <vaccel_rundir()>/session.<id>, for plugins that need files of their
 * own; "" when the runtime has no run directory. */
static void _rundir_create(struct vaccel_session *sess)
{
	const char *top = vaccel_rundir();
	sess->rundir[0] = '\0';
	if (!top ||
	    snprintf(sess->rundir, sizeof(sess->rundir), "%s/session.%" PRId64,
		     top, sess->id) >= (int)sizeof(sess->rundir) ||
	    mkdir(sess->rundir, 0700)) {
		if (top)
			vaccel_warn("session:%" PRId64 " no run directory",
				    sess->id);
		sess->rundir[0] = '\0';
	}
}

/* Removes it only if empty: what a plugin left there is reported. */
static void _rundir_remove(struct vaccel_session *sess)
{
	if (sess->rundir[0] && rmdir(sess->rundir))
		vaccel_warn("session:%" PRId64 " run directory %s not removed: "
			    "%s",
			    sess->id, sess->rundir, strerror(errno));
	sess->rundir[0] = '\0';
}

static bool _has_resources(struct vaccel_session *sess)
{
	bool any = false;
	pthread_mutex_lock(&sess->resources_lock);
	for (int t = 0; t < VACCEL_RESOURCE_MAX; t++)
		any |= sess->resource_counts[t] > 0;
	pthread_mutex_unlock(&sess->resources_lock);
	return any;
}

int vaccel_session_init(struct vaccel_session *sess, uint32_t flags)
{
	int err = 0;

	if (!sess)
		return VACCEL_EINVAL;
	if (!vaccel_is_initialized()) {
		vaccel_error("vAccel is not initialized");
		return VACCEL_ESESS;
	}

	/* no plugin for these flags: upstream's ENOTSUP */
	struct vaccel_plugin *p = rt_plugin_select(flags, &err);
	if (!p)
		return VACCEL_ENOTSUP;
	return vaccel_session_init_with_plugin(sess, p, flags);
}

int vaccel_session_init_with_plugin(struct vaccel_session *sess,
				    struct vaccel_plugin *p, uint32_t flags)
{
	if (!sess || !p)
		return VACCEL_EINVAL;
	if (!vaccel_is_initialized()) {
		vaccel_error("vAccel is not initialized");
		return VACCEL_ESESS;
	}
	memset(sess, 0, sizeof(*sess));
	sess->id = __atomic_fetch_add(&rt_next_session_id, 1,
				      __ATOMIC_RELAXED);
	sess->hint = flags;
	sess->plugin = p;
	sess->is_virtio = p->info->is_virtio;
	for (int t = 0; t < VACCEL_RESOURCE_MAX; t++)
		vaccel_list_init(&sess->resources[t]);
	vaccel_list_init(&sess->entry);
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
	_rundir_create(sess);
	pthread_mutex_lock(&rt_sess_lock);
	vaccel_list_add_tail(&rt_sess_live, &sess->entry);
	pthread_mutex_unlock(&rt_sess_lock);
	vaccel_debug("session:%" PRId64 " new, flags 0x%x, plugin %s",
		     sess->id, flags, rt_plugin_name(p));
	return VACCEL_OK;
}

/* Upstream's rules: a transport session forwards the update to the
 * remote side; a local one chooses its plugin again, which it may only do
 * with no resource registered (VACCEL_ENOTSUP). */
int vaccel_session_update(struct vaccel_session *sess, uint32_t flags)
{
	int err = 0;
	if (!sess || !sess->plugin)
		return VACCEL_EINVAL;
	if (!vaccel_is_initialized())
		return VACCEL_ESESS;
	const struct vaccel_plugin_info *info = sess->plugin->info;
	if (sess->is_virtio) {
		if (!info->session_update) {
			vaccel_error("session:%" PRId64 " plugin %s cannot "
				     "update a remote session",
				     sess->id, rt_plugin_name(sess->plugin));
			return VACCEL_ENOTSUP;
		}
		int ret = info->session_update(
			sess, flags & ~(uint32_t)VACCEL_PLUGIN_REMOTE);
		if (!ret)
			sess->hint = flags;
		return ret;
	}
	if (_has_resources(sess)) {
		vaccel_error("session:%" PRId64 " cannot change plugin with "
			     "resources registered",
			     sess->id);
		return VACCEL_ENOTSUP;
	}
	struct vaccel_plugin *p = rt_plugin_select(flags, &err);
	if (!p || p->info->is_virtio)
		return VACCEL_ENOTSUP;
	if (p == sess->plugin && info->session_update) {
		int ret = info->session_update(sess, flags);
		if (ret)
			return ret;
	} else if (p != sess->plugin) {
		/* our rule: every plugin sees the sessions it serves */
		if (p->info->session_init) {
			int ret = p->info->session_init(sess, flags);
			if (ret)
				return ret;
		}
		if (info->session_release)
			(void)info->session_release(sess);
		sess->plugin = p;
	}
	sess->hint = flags;
	vaccel_debug("session:%" PRId64 " plugin %s", sess->id,
		     rt_plugin_name(p));
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
		for (int t = 0; t < VACCEL_RESOURCE_MAX && !res; t++)
			if (!vaccel_list_empty(&sess->resources[t]))
				res = vaccel_list_container(
					      sess->resources[t].next,
					      struct rt_res_link, sess_entry)
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

	pthread_mutex_lock(&rt_sess_lock);
	vaccel_list_unlink(&sess->entry);
	pthread_mutex_unlock(&rt_sess_lock);
	_rundir_remove(sess);

	int ret = VACCEL_OK;
	if (sess->plugin->info->session_release)
		ret = sess->plugin->info->session_release(sess);
	vaccel_debug("session:%" PRId64 " released", sess->id);
	pthread_mutex_destroy(&sess->resources_lock);
	sess->plugin = NULL;
	sess->priv = NULL;
	sess->id = 0; /* upstream: a released session has no id */
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
	if ((unsigned)res->type >= VACCEL_RESOURCE_MAX)
		return NULL;
	vaccel_list_for_each(it, &sess->resources[res->type])
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

int vaccel_session_get_by_id(struct vaccel_session **sess, vaccel_id_t id)
{
	vaccel_list_entry_t *it;
	if (!sess)
		return VACCEL_EINVAL;
	int ret = VACCEL_ENOENT;
	pthread_mutex_lock(&rt_sess_lock);
	vaccel_list_for_each(it, &rt_sess_live)
	{
		struct vaccel_session *s =
			vaccel_list_container(it, struct vaccel_session, entry);
		if (s->id == id) {
			*sess = s;
			ret = VACCEL_OK;
			break;
		}
	}
	pthread_mutex_unlock(&rt_sess_lock);
	return ret;
}

int vaccel_session_resource_by_id(struct vaccel_session *sess,
				  struct vaccel_resource **res, vaccel_id_t id)
{
	vaccel_list_entry_t *it;
	if (!sess || !res || !sess->plugin || id <= 0)
		return VACCEL_EINVAL;
	int ret = VACCEL_ENOENT;
	pthread_mutex_lock(&sess->resources_lock);
	for (int t = 0; t < VACCEL_RESOURCE_MAX && ret; t++)
		vaccel_list_for_each(it, &sess->resources[t])
		{
			struct vaccel_resource *r =
				vaccel_list_container(it, struct rt_res_link,
						      sess_entry)
					->res;
			if (r->id == id) {
				*res = r;
				ret = VACCEL_OK;
				break;
			}
		}
	pthread_mutex_unlock(&sess->resources_lock);
	return ret;
}

/* Up to max (all when max is 0) registered resources of type, in
 * registration order, into a malloc'ed array. */
static int _by_type(struct vaccel_session *sess, vaccel_resource_type_t type,
		    size_t max, struct vaccel_resource ***out, size_t *nr)
{
	vaccel_list_entry_t *it;
	pthread_mutex_lock(&sess->resources_lock);
	size_t n = sess->resource_counts[type];
	if (max && n > max)
		n = max;
	if (!n) {
		pthread_mutex_unlock(&sess->resources_lock);
		*nr = 0;
		return VACCEL_ENOENT;
	}
	struct vaccel_resource **arr = malloc(n * sizeof(*arr));
	if (!arr) {
		pthread_mutex_unlock(&sess->resources_lock);
		return VACCEL_ENOMEM;
	}
	size_t i = 0;
	vaccel_list_for_each(it, &sess->resources[type])
	{
		if (i == n)
			break;
		arr[i++] = vaccel_list_container(it, struct rt_res_link,
						 sess_entry)
				   ->res;
	}
	pthread_mutex_unlock(&sess->resources_lock);
	*out = arr;
	*nr = i;
	return VACCEL_OK;
}

int vaccel_session_resource_by_type(struct vaccel_session *sess,
				    struct vaccel_resource **res,
				    vaccel_resource_type_t type)
{
	struct vaccel_resource **arr;
	size_t n;
	if (!sess || !res || !sess->plugin ||
	    (unsigned)type >= VACCEL_RESOURCE_MAX)
		return VACCEL_EINVAL;
	int ret = _by_type(sess, type, 1, &arr, &n);
	if (ret)
		return ret;
	*res = arr[0];
	free(arr);
	return VACCEL_OK;
}

int vaccel_session_resources_by_type(struct vaccel_session *sess,
				     struct vaccel_resource ***resources,
				     size_t *nr_found,
				     vaccel_resource_type_t type)
{
	if (!sess || !resources || !nr_found || !sess->plugin ||
	    (unsigned)type >= VACCEL_RESOURCE_MAX)
		return VACCEL_EINVAL;
	return _by_type(sess, type, 0, resources, nr_found);
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
