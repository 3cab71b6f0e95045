// SPDX-License-Identifier: Apache-2.0
// Runtime configuration, usually read from the environment.
#pragma once

#include "log.h"
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vaccel_config {
	/* colon-separated plugin names or paths */
	char *plugins;
	vaccel_log_level_t log_level;
	/* NULL: stderr */
	char *log_file;
	bool profiling_enabled;
	/* skip the plugins' vaccel_version check */
	bool version_ignore;
};

int vaccel_config_init(struct vaccel_config *config, const char *plugins,
		       vaccel_log_level_t log_level, const char *log_file,
		       bool profiling_enabled, bool version_ignore);
/* VACCEL_PLUGINS (or VACCEL_BACKENDS), VACCEL_LOG_LEVEL, VACCEL_LOG_FILE,
 * VACCEL_PROFILING_ENABLED, VACCEL_VERSION_IGNORE */
int vaccel_config_init_from_env(struct vaccel_config *config);
int vaccel_config_init_from(struct vaccel_config *config,
			    struct vaccel_config *config_src);
int vaccel_config_release(struct vaccel_config *config);
int vaccel_config_new(struct vaccel_config **config, const char *plugins,
		      vaccel_log_level_t log_level, const char *log_file,
		      bool profiling_enabled, bool version_ignore);
int vaccel_config_from_env(struct vaccel_config **config);
int vaccel_config_from(struct vaccel_config **config,
		       struct vaccel_config *config_src);
int vaccel_config_delete(struct vaccel_config *config);
void vaccel_config_print_debug(struct vaccel_config *config);

#ifdef __cplusplus
}
#endif
