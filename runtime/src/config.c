// SPDX-License-Identifier: Apache-2.0
// struct vaccel_config: built from arguments, a copy, or the environment.
#include "rt.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int _dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

int vaccel_config_init(struct vaccel_config *config, const char *plugins,
		       vaccel_log_level_t log_level, const char *log_file,
		       bool profiling_enabled, bool version_ignore)
{
	if (!config)
		return VACCEL_EINVAL;
	if (log_level < VACCEL_LOG_ERROR || log_level >= VACCEL_LOG_MAX)
		return VACCEL_EINVAL;

	memset(config, 0, sizeof(*config));
	if (_dup_opt(&config->plugins, plugins) ||
	    _dup_opt(&config->log_file, log_file)) {
		vaccel_config_release(config);
		return VACCEL_ENOMEM;
	}
	config->log_level = log_level;
	config->profiling_enabled = profiling_enabled;
	config->version_ignore = version_ignore;
	return VACCEL_OK;
}

/* "1", "true", "yes", "on" (any case) are true; unset or anything else is
 * false. */
static bool _env_bool(const char *name)
{
	const char *v = getenv(name);
	if (!v)
		return false;
	return !strcmp(v, "1") || !strcasecmp(v, "true") ||
	       !strcasecmp(v, "yes") || !strcasecmp(v, "on");
}

int vaccel_config_init_from_env(struct vaccel_config *config)
{
	const char *plugins = getenv("VACCEL_PLUGINS");
	if (!plugins)
		plugins = getenv("VACCEL_BACKENDS");

	vaccel_log_level_t level = VACCEL_LOG_ERROR;
	const char *lvl = getenv("VACCEL_LOG_LEVEL");
	if (lvl && *lvl) {
		char *end;
		long v = strtol(lvl, &end, 10);
		if (*end == '\0' && v >= VACCEL_LOG_ERROR &&
		    v < VACCEL_LOG_MAX)
			level = (vaccel_log_level_t)v;
	}

	const char *file = getenv("VACCEL_LOG_FILE");
	if (file && !*file)
		file = NULL;

	return vaccel_config_init(config, plugins, level, file,
				  _env_bool("VACCEL_PROFILING_ENABLED"),
				  _env_bool("VACCEL_VERSION_IGNORE"));
}

int vaccel_config_init_from(struct vaccel_config *config,
			    struct vaccel_config *config_src)
{
	if (!config || !config_src)
		return VACCEL_EINVAL;
	return vaccel_config_init(config, config_src->plugins,
				  config_src->log_level, config_src->log_file,
				  config_src->profiling_enabled,
				  config_src->version_ignore);
}

int vaccel_config_release(struct vaccel_config *config)
{
	if (!config)
		return VACCEL_EINVAL;
	free(config->plugins);
	free(config->log_file);
	/* back to the defaults, as upstream leaves a released config */
	config->plugins = NULL;
	config->log_file = NULL;
	config->log_level = VACCEL_LOG_ERROR;
	config->profiling_enabled = false;
	config->version_ignore = false;
	return VACCEL_OK;
}

int vaccel_config_new(struct vaccel_config **config, const char *plugins,
		      vaccel_log_level_t log_level, const char *log_file,
		      bool profiling_enabled, bool version_ignore)
{
	if (!config)
		return VACCEL_EINVAL;
	struct vaccel_config *c = malloc(sizeof(*c));
	if (!c)
		return VACCEL_ENOMEM;
	int ret = vaccel_config_init(c, plugins, log_level, log_file,
				     profiling_enabled, version_ignore);
	if (ret) {
		free(c);
		return ret;
	}
	*config = c;
	return VACCEL_OK;
}

int vaccel_config_from_env(struct vaccel_config **config)
{
	if (!config)
		return VACCEL_EINVAL;
	struct vaccel_config *c = malloc(sizeof(*c));
	if (!c)
		return VACCEL_ENOMEM;
	int ret = vaccel_config_init_from_env(c);
	if (ret) {
		free(c);
		return ret;
	}
	*config = c;
	return VACCEL_OK;
}

int vaccel_config_from(struct vaccel_config **config,
		       struct vaccel_config *config_src)
{
	if (!config || !config_src)
		return VACCEL_EINVAL;
	return vaccel_config_new(config, config_src->plugins,
				 config_src->log_level, config_src->log_file,
				 config_src->profiling_enabled,
				 config_src->version_ignore);
}

int vaccel_config_delete(struct vaccel_config *config)
{
	if (!config)
		return VACCEL_EINVAL;
	vaccel_config_release(config);
	free(config);
	return VACCEL_OK;
}

void vaccel_config_print_debug(struct vaccel_config *config)
{
	if (!config)
		return;
	vaccel_debug("Config: plugins=%s log_level=%d log_file=%s "
		     "profiling=%d version_ignore=%d",
		     config->plugins ? config->plugins : "(none)",
		     (int)config->log_level,
		     config->log_file ? config->log_file : "(stderr)",
		     config->profiling_enabled, config->version_ignore);
}
