// SPDX-License-Identifier: Apache-2.0
// Plugin ABI: a plugin .so exports `vaccel_plugin`, declared with
// VACCEL_PLUGIN(...), and registers its ops from init() with
// vaccel_plugin_register_ops(). Plugins are linked without libvaccel: the
// runtime's symbols come from the program that loads them.
#pragma once

#include "list.h"
#include "op.h"
#include "resource.h"
#include "session.h"
#include "version.h"
#include "utils/enum.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define _ENUM_PREFIX VACCEL_PLUGIN
#define VACCEL_PLUGIN_TYPE_ENUM_LIST(VACCEL_ENUM_ITEM) \
	VACCEL_ENUM_ITEM(CPU, 0x0001, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(GPU, 0x0002, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(FPGA, 0x0004, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(SOFTWARE, 0x0008, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(TENSORFLOW, 0x0010, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(TORCH, 0x0020, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(JETSON, 0x0040, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(GENERIC, 0x0080, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(DEBUG, 0x0100, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(REMOTE, 0x4000, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(ALL, 0xffff, _ENUM_PREFIX)

VACCEL_ENUM_DEF_WITH_STR_FUNCS(vaccel_plugin_type, _ENUM_PREFIX,
			       VACCEL_PLUGIN_TYPE_ENUM_LIST)
#undef _ENUM_PREFIX

struct vaccel_plugin_info {
	const char *name;
	const char *version;
	/* VACCEL_VERSION the plugin was built with */
	const char *vaccel_version;
	int (*init)(void);
	int (*fini)(void);
	/* a transport plugin that forwards ops to another vAccel instance */
	bool is_virtio;
	vaccel_plugin_type_t type;
	/* optional hooks; the runtime calls each one the plugin provides */
	int (*session_init)(struct vaccel_session *sess, uint32_t flags);
	int (*session_release)(struct vaccel_session *sess);
	int (*session_update)(struct vaccel_session *sess, uint32_t flags);
	int (*resource_register)(struct vaccel_resource *res,
				 struct vaccel_session *sess);
	int (*resource_unregister)(struct vaccel_resource *res,
				   struct vaccel_session *sess);
	int (*resource_sync)(struct vaccel_resource *res,
			     struct vaccel_session *sess);
};

struct vaccel_plugin {
	/* dlopen handle, set by the loader */
	void *dl_handle;
	/* entry in the runtime's list of loaded plugins */
	vaccel_list_entry_t entry;
	/* implementation per op type, NULL when unsupported */
	struct vaccel_op *ops[VACCEL_OP_MAX];
	struct vaccel_plugin_info *info;
};

/* Define the plugin. Works from C (designated initializers). */
#define VACCEL_PLUGIN(...)                                                     \
	static struct vaccel_plugin_info _vaccel_plugin_info = { __VA_ARGS__ }; \
	__attribute__((visibility("hidden"))) struct vaccel_plugin             \
		vaccel_this_plugin = {                                         \
			.dl_handle = NULL,                                     \
			.entry = VACCEL_LIST_ENTRY_INIT(vaccel_this_plugin.entry), \
			.ops = { NULL },                                       \
			.info = &_vaccel_plugin_info                           \
		};                                                             \
	__attribute__((visibility("default"))) const struct vaccel_plugin     \
		*vaccel_plugin = &vaccel_this_plugin;

/* Register ops with their owner plugin (op->owner); call from init().
 * VACCEL_EINVAL for a NULL func/owner or an out-of-range type. */
int vaccel_plugin_register_ops(struct vaccel_op *ops, size_t nr_ops);

static inline int vaccel_plugin_register_op(struct vaccel_op *op)
{
	return vaccel_plugin_register_ops(op, 1);
}

/* Load one plugin from a file name (searched like dlopen) or a path. On
 * failure the plugin is named in an error log line with the reason. */
int vaccel_plugin_load(const char *lib);
/* Load each entry of a ':'-separated list; a failing entry does not stop
 * the others. Returns the first failure's code, or VACCEL_OK. */
int vaccel_plugin_parse_and_load(const char *lib_str);

/* ours: number of loaded plugins, and the i-th one in load order */
size_t vaccel_plugin_count(void);
struct vaccel_plugin *vaccel_plugin_at(size_t i);
/* ours: a session bound to plugin p (a loaded one) rather than the one the
 * flags would select; a host agent uses it to run an op on the plugin that
 * implements it. VACCEL_EINVAL, VACCEL_ESESS, or the plugin's error. */
int vaccel_session_init_with_plugin(struct vaccel_session *sess,
				    struct vaccel_plugin *p, uint32_t flags);

/* Older names. */
#define VACCEL_MODULE(...) VACCEL_PLUGIN(__VA_ARGS__)
static inline int register_plugin_function(struct vaccel_op *op)
{
	return vaccel_plugin_register_ops(op, 1);
}
static inline int register_plugin_functions(struct vaccel_op *ops,
					    size_t nr_ops)
{
	return vaccel_plugin_register_ops(ops, nr_ops);
}

#ifdef __cplusplus
}
#endif
