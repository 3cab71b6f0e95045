// SPDX-License-Identifier: Apache-2.0
// Bootstrap and cleanup of the runtime, and the constructor that starts it
// from the environment when the library is loaded.
#include "rt.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t rt_core_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vaccel_config rt_config;
static bool rt_initialized;
static bool rt_ignore_version;

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
