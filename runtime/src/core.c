// SPDX-License-Identifier: Apache-2.0
// Bootstrap and cleanup of the runtime, and the constructor that starts it
// from the environment when the library is loaded.
#include "rt.h"
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t rt_core_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vaccel_config rt_config;
static bool rt_initialized;
static bool rt_ignore_version;
/* the runtime's private directory, "" when none could be made */
static char rt_rundir[PATH_MAX];

/* A fresh private directory under $XDG_RUNTIME_DIR (else $TMPDIR, /tmp).
 * Not fatal: nothing in the runtime needs it; programs may ask for it. */
static void _rundir_create(void)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	if (!base || !*base || access(base, W_OK))
		base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	rt_rundir[0] = '\0';
	if (snprintf(rt_rundir, sizeof(rt_rundir), "%s/vaccel-XXXXXX", base) >=
		    (int)sizeof(rt_rundir) ||
	    !mkdtemp(rt_rundir)) {
		vaccel_warn("Cannot create a run directory in %s", base);
		rt_rundir[0] = '\0';
		return;
	}
	vaccel_debug("Run directory %s", rt_rundir);
}

const char *vaccel_rundir(void)
{
	return vaccel_is_initialized() && rt_rundir[0] ? rt_rundir : NULL;
}

bool vaccel_is_initialized(void)
{
	return __atomic_load_n(&rt_initialized, __ATOMIC_ACQUIRE);
}

bool rt_version_ignore(void)
{
	return __atomic_load_n(&rt_ignore_version, __ATOMIC_RELAXED);
}

const struct vaccel_config *vaccel_config(void)
{
	return vaccel_is_initialized() ? &rt_config : NULL;
}

int vaccel_bootstrap_with_config(struct vaccel_config *config)
{
	int ret;

	if (!config)
		return VACCEL_EINVAL;

	pthread_mutex_lock(&rt_core_lock);
	if (rt_initialized) {
		pthread_mutex_unlock(&rt_core_lock);
		vaccel_debug("vAccel is already initialized");
		return VACCEL_OK;
	}

	ret = vaccel_config_init_from(&rt_config, config);
	if (ret)
		goto err;

	ret = -rt_log_open(rt_config.log_level, rt_config.log_file);
	if (ret)
		goto err_config;

	rt_prof_set_enabled(rt_config.profiling_enabled);
	__atomic_store_n(&rt_ignore_version, rt_config.version_ignore,
			 __ATOMIC_RELAXED);
	vaccel_config_print_debug(&rt_config);
	_rundir_create();

	/* Plugins that fail are logged by the loader; the runtime stays
	 * usable with the others. */
	if (rt_config.plugins && rt_config.plugins[0])
		(void)vaccel_plugin_parse_and_load(rt_config.plugins);
	else
		vaccel_debug("No plugins configured (VACCEL_PLUGINS unset)");

	/* release pairs with the acquire in vaccel_is_initialized() */
	__atomic_store_n(&rt_initialized, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&rt_core_lock);
	vaccel_debug("vAccel %s initialized", VACCEL_VERSION);
	return VACCEL_OK;

err_config:
	vaccel_config_release(&rt_config);
err:
	pthread_mutex_unlock(&rt_core_lock);
	return ret;
}

int vaccel_bootstrap(void)
{
	struct vaccel_config config;
	int ret = vaccel_config_init_from_env(&config);
	if (ret)
		return ret;
	ret = vaccel_bootstrap_with_config(&config);
	vaccel_config_release(&config);
	return ret;
}

int vaccel_cleanup(void)
{
	pthread_mutex_lock(&rt_core_lock);
	if (!rt_initialized) {
		pthread_mutex_unlock(&rt_core_lock);
		return VACCEL_OK;
	}
	__atomic_store_n(&rt_initialized, false, __ATOMIC_RELEASE);

	rt_plugin_unload_all();
	rt_prof_ops_flush();
	rt_prof_set_enabled(false);
	/* only if empty: what programs left there is theirs */
	if (rt_rundir[0] && rmdir(rt_rundir))
		vaccel_debug("Run directory %s left in place", rt_rundir);
	rt_rundir[0] = '\0';
	vaccel_debug("vAccel cleaned up");
	rt_log_close();
	vaccel_config_release(&rt_config);
	pthread_mutex_unlock(&rt_core_lock);
	return VACCEL_OK;
}

/* Upstream starts itself when loaded, so programs that never call
 * vaccel_bootstrap() work; VACCEL_PLUGINS is read here, at load time. */
__attribute__((constructor)) static void rt_ctor(void)
{
	(void)vaccel_bootstrap();
}

__attribute__((destructor)) static void rt_dtor(void)
{
	(void)vaccel_cleanup();
}
