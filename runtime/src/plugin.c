// SPDX-License-Identifier: Apache-2.0
// Registry of loaded plugins, op registration and the session plugin
// choice. A plugin is fully initialized (its ops registered) before it is
// published here, and stays unchanged until vaccel_cleanup().
#include "rt.h"
#include <pthread.h>
#include <string.h>

#define RT_MAX_PLUGINS 32

static pthread_mutex_t rt_plugins_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vaccel_plugin *rt_plugins[RT_MAX_PLUGINS];
static size_t rt_nr_plugins;

int vaccel_plugin_register_ops(struct vaccel_op *ops, size_t nr_ops)
{
	if (!ops || !nr_ops || nr_ops > VACCEL_OP_MAX) /* upstream's bounds */
		return VACCEL_EINVAL;
	for (size_t i = 0; i < nr_ops; i++) {
		struct vaccel_op *op = &ops[i];
		if (!op->owner || !op->func ||
		    (unsigned)op->type >= VACCEL_OP_MAX) {
			vaccel_error("Plugin %s: invalid op #%zu (type %d)",
				     rt_plugin_name(op->owner), i,
				     (int)op->type);
			return VACCEL_EINVAL;
		}
		if (op->owner->ops[op->type])
			vaccel_warn("Plugin %s: %s registered twice, keeping "
				    "the last one",
				    rt_plugin_name(op->owner),
				    vaccel_op_type_to_str(op->type));
		op->owner->ops[op->type] = op;
	}
	return VACCEL_OK;
}

int rt_plugin_add(struct vaccel_plugin *p)
{
	int ret = 0;
	pthread_mutex_lock(&rt_plugins_lock);
	if (rt_nr_plugins == RT_MAX_PLUGINS)
		ret = -ENOSPC;
	else
		rt_plugins[rt_nr_plugins++] = p;
	pthread_mutex_unlock(&rt_plugins_lock);
	return ret;
}

bool rt_plugin_loaded_handle(void *dl_handle)
{
	bool found = false;
	pthread_mutex_lock(&rt_plugins_lock);
	for (size_t i = 0; i < rt_nr_plugins; i++)
		if (rt_plugins[i]->dl_handle == dl_handle)
			found = true;
	pthread_mutex_unlock(&rt_plugins_lock);
	return found;
}

size_t vaccel_plugin_count(void)
{
	pthread_mutex_lock(&rt_plugins_lock);
	size_t n = rt_nr_plugins;
	pthread_mutex_unlock(&rt_plugins_lock);
	return n;
}

struct vaccel_plugin *vaccel_plugin_at(size_t i)
{
	struct vaccel_plugin *p = NULL;
	pthread_mutex_lock(&rt_plugins_lock);
	if (i < rt_nr_plugins)
		p = rt_plugins[i];
	pthread_mutex_unlock(&rt_plugins_lock);
	return p;
}

/* The choice, in order: REMOTE in flags picks the first virtio plugin (or
 * fails); else the first plugin whose type bits meet the hint; else the
 * first non-virtio plugin; else the only plugin if exactly one is loaded. */
struct vaccel_plugin *rt_plugin_select(uint32_t flags, int *err)
{
	struct vaccel_plugin *p = NULL;
	uint32_t hint = flags & ~(uint32_t)VACCEL_PLUGIN_REMOTE;

	pthread_mutex_lock(&rt_plugins_lock);
	if (!rt_nr_plugins) {
		*err = -ENOENT;
		vaccel_error("No plugin loaded (set VACCEL_PLUGINS)");
		goto out;
	}
	if (flags & VACCEL_PLUGIN_REMOTE) {
		for (size_t i = 0; i < rt_nr_plugins && !p; i++)
			if (rt_plugins[i]->info->is_virtio)
				p = rt_plugins[i];
		if (!p) {
			*err = -ENOENT;
			vaccel_error("Session asks for VACCEL_PLUGIN_REMOTE but "
				     "no virtio plugin is loaded");
		}
		goto out;
	}
	for (size_t i = 0; i < rt_nr_plugins && !p && hint; i++)
		if ((uint32_t)rt_plugins[i]->info->type & hint)
			p = rt_plugins[i];
	for (size_t i = 0; i < rt_nr_plugins && !p; i++)
		if (!rt_plugins[i]->info->is_virtio)
			p = rt_plugins[i];
	if (!p && rt_nr_plugins == 1)
		p = rt_plugins[0];
	if (!p) {
		*err = -ENOENT;
		vaccel_error("No plugin matches session flags 0x%x", flags);
	}
out:
	pthread_mutex_unlock(&rt_plugins_lock);
	return p;
}

void rt_plugin_unload_all(void)
{
	struct vaccel_plugin *gone[RT_MAX_PLUGINS];
	size_t n;

	/* Unpublish first, then call fini without the lock, so a fini that
	 * calls back into the runtime cannot deadlock. */
	pthread_mutex_lock(&rt_plugins_lock);
	n = rt_nr_plugins;
	memcpy(gone, rt_plugins, n * sizeof(gone[0]));
	rt_nr_plugins = 0;
	pthread_mutex_unlock(&rt_plugins_lock);

	while (n) {
		struct vaccel_plugin *p = gone[--n];
		if (p->info->fini) {
			int ret = p->info->fini();
			if (ret)
				vaccel_warn("Plugin %s: fini failed: %d",
					    rt_plugin_name(p), ret);
		}
		vaccel_debug("Unloaded plugin %s", rt_plugin_name(p));
		/* Plugins stay mapped (RTLD_NODELETE, see plugin_load.c);
		 * forgetting their ops makes a session that outlived cleanup
		 * get VACCEL_ENOTSUP instead of calling a finished plugin. */
		memset(p->ops, 0, sizeof(p->ops));
		p->dl_handle = NULL;
	}
}
