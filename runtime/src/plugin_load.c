// SPDX-License-Identifier: Apache-2.0
// Plugin loader: dlopen, `vaccel_plugin` lookup, version check, init().
// Every failure names the plugin and the reason, and the loader goes on.
//
// Plugins are opened RTLD_NODELETE: a plugin may pull in libraries that
// start threads or keep heap memory in globals (OpenBLAS does both), and
// unmapping them at cleanup would crash those threads or make the leak
// checker report their memory. dlclose() only drops our reference.
#include "rt.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Same major.minor as ours, with or without a leading 'v'. */
static bool _version_ok(const char *v)
{
	int major, minor;
	if (!v)
		return false;
	if (*v == 'v')
		v++;
	if (sscanf(v, "%d.%d", &major, &minor) != 2)
		return false;
	return major == VACCEL_VERSION_MAJOR && minor == VACCEL_VERSION_MINOR;
}

/* Loads are serialized: the duplicate check and init() of one plugin must
 * not interleave with another load of the same file. */
static pthread_mutex_t rt_load_lock = PTHREAD_MUTEX_INITIALIZER;

static int _load(const char *lib);

int vaccel_plugin_load(const char *lib)
{
	pthread_mutex_lock(&rt_load_lock);
	int ret = _load(lib);
	pthread_mutex_unlock(&rt_load_lock);
	return ret;
}

static int _load(const char *lib)
{
	int ret;

	if (!lib || !*lib)
		return VACCEL_EINVAL;

	/* dlopen's own message says "cannot open" for a missing file and a
	 * bad format alike; check the path first so the reason is exact. */
	if (strchr(lib, '/') && access(lib, R_OK) != 0) {
		ret = errno;
		vaccel_error("Could not load plugin %s: file not found (%s)",
			     lib, strerror(ret));
		return ret == ENOENT ? VACCEL_ENOENT : ret;
	}

	void *dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!dl) {
		const char *e = dlerror();
		vaccel_error("Could not load plugin %s: dlopen failed: %s", lib,
			     e ? e : "unknown error");
		return VACCEL_ENOENT;
	}

	if (rt_plugin_loaded_handle(dl)) {
		vaccel_warn("Plugin %s is already loaded; skipping", lib);
		dlclose(dl);
		return VACCEL_EEXIST;
	}

	dlerror();
	struct vaccel_plugin **sym = dlsym(dl, "vaccel_plugin");
	if (!sym || !*sym) {
		vaccel_error("Could not load plugin %s: no `vaccel_plugin` "
			     "symbol (not a vAccel plugin?)",
			     lib);
		ret = VACCEL_ELIBBAD;
		goto err;
	}
	struct vaccel_plugin *p = *sym;
	struct vaccel_plugin_info *info = p->info;
	if (!info || !info->name || !info->init) {
		vaccel_error("Could not load plugin %s: incomplete plugin info "
			     "(name and init are required)",
			     lib);
		ret = VACCEL_ELIBBAD;
		goto err;
	}

	if (!rt_version_ignore() && !_version_ok(info->vaccel_version)) {
		vaccel_error("Could not load plugin %s (%s): version mismatch: "
			     "built for vAccel %s, runtime is %s "
			     "(set VACCEL_VERSION_IGNORE=1 to load anyway)",
			     info->name, lib,
			     info->vaccel_version ? info->vaccel_version :
						    "(unset)",
			     VACCEL_VERSION);
		ret = VACCEL_ELIBBAD;
		goto err;
	}

	memset(p->ops, 0, sizeof(p->ops));
	p->dl_handle = dl;
	ret = info->init();
	if (ret) {
		vaccel_error("Could not load plugin %s (%s): init failed: %d "
			     "(%s)",
			     info->name, lib, ret, strerror(abs(ret)));
		memset(p->ops, 0, sizeof(p->ops));
		p->dl_handle = NULL;
		ret = VACCEL_EBACKEND;
		goto err;
	}

	ret = -rt_plugin_add(p);
	if (ret) {
		vaccel_error("Could not load plugin %s: too many plugins", lib);
		if (info->fini)
			info->fini();
		memset(p->ops, 0, sizeof(p->ops));
		p->dl_handle = NULL;
		goto err;
	}
	vaccel_debug("Loaded plugin %s (%s) version %s from %s", info->name,
		     info->is_virtio ? "virtio" : "local",
		     info->version ? info->version : "?", lib);
	return VACCEL_OK;

err:
	dlclose(dl);
	return ret;
}

int vaccel_plugin_parse_and_load(const char *lib_str)
{
	if (!lib_str)
		return VACCEL_EINVAL;
	char *list = strdup(lib_str);
	if (!list)
		return VACCEL_ENOMEM;

	int first_err = VACCEL_OK;
	char *save = NULL;
	for (char *name = strtok_r(list, ":", &save); name;
	     name = strtok_r(NULL, ":", &save)) {
		int ret = vaccel_plugin_load(name);
		if (ret && !first_err)
			first_err = ret;
	}
	free(list);
	return first_err;
}
