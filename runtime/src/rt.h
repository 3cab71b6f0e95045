// SPDX-License-Identifier: Apache-2.0
// Runtime internals shared by the .c files of runtime/src. Not installed.
// Internal functions return 0 or -errno unless they say otherwise; public
// API functions convert to the positive VACCEL_E* codes.
#pragma once

#include "vaccel.h"
#include <stdbool.h>

/* core.c */
bool rt_version_ignore(void);

/* log.c: open the sink and set the threshold; close it. */
int rt_log_open(vaccel_log_level_t level, const char *path);
void rt_log_close(void);

/* prof.c */
void rt_prof_set_enabled(bool on);
/* per-op regions, printed and released at cleanup */
extern struct vaccel_prof_region rt_op_prof[VACCEL_OP_MAX];
void rt_prof_ops_flush(void);

/* plugin.c: the registry of loaded plugins. */
int rt_plugin_add(struct vaccel_plugin *p);
/* The plugin a new session with these flags uses, or NULL (-errno in *err). */
struct vaccel_plugin *rt_plugin_select(uint32_t flags, int *err);
/* fini + forget every plugin, in reverse load order. */
void rt_plugin_unload_all(void);
bool rt_plugin_loaded_handle(void *dl_handle);

/* resource.c: the live-resource registry. */
void rt_resource_refcount_inc(struct vaccel_resource *res);
void rt_resource_refcount_dec(struct vaccel_resource *res);

/* Op dispatch: the session plugin's function for this op, or NULL.
 * Plugins are immutable once published, so no lock is needed. */
static inline void *rt_op_func(const struct vaccel_session *sess,
			       vaccel_op_type_t type)
{
	const struct vaccel_plugin *p = sess->plugin;
	if (!p || (unsigned)type >= VACCEL_OP_MAX || !p->ops[type])
		return NULL;
	return p->ops[type]->func;
}

/* ops/dispatch.c: the session plugin's function for type, or NULL after a
 * log line naming the op and the plugin (the caller answers ENOTSUP). */
void *rt_op_lookup(struct vaccel_session *sess, vaccel_op_type_t type);
/* 0, or VACCEL_EINVAL (res not of type want) / VACCEL_EPERM (res not
 * registered with sess), logged with the op's name. */
int rt_op_check_resource(struct vaccel_session *sess,
			 struct vaccel_resource *res,
			 vaccel_resource_type_t want, vaccel_op_type_t op);

/* A model op's checks (session, a MODEL resource registered with it: else
 * VACCEL_EINVAL / VACCEL_EPERM), then the plugin's function, or NULL with
 * *ret set (VACCEL_ENOTSUP when the plugin lacks the op). */
void *rt_model_op_lookup(struct vaccel_session *sess,
			 struct vaccel_resource *model, vaccel_op_type_t type,
			 int *ret);

/* genop unpackers (read/write without genop's op-type head); each checks
 * the argument count and every buffer against the sizes its op uses. */
int rt_image_unpack(vaccel_op_type_t type, struct vaccel_session *sess,
		    struct vaccel_arg *read, int nr_read,
		    struct vaccel_arg *write, int nr_write);
int rt_fpga_unpack(vaccel_op_type_t type, struct vaccel_session *sess,
		   struct vaccel_arg *read, int nr_read,
		   struct vaccel_arg *write, int nr_write);
int rt_minmax_unpack(struct vaccel_session *sess, struct vaccel_arg *read,
		     int nr_read, struct vaccel_arg *write, int nr_write);

static inline const char *rt_plugin_name(const struct vaccel_plugin *p)
{
	return (p && p->info && p->info->name) ? p->info->name : "(none)";
}
