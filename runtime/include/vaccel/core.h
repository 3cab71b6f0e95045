// SPDX-License-Identifier: Apache-2.0
// Library start and stop. The library also bootstraps itself from the
// environment in a constructor, as upstream does.
#pragma once

#include "config.h"
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Read the config from the environment and load its plugins. A plugin that
 * fails to load is logged and skipped; returns VACCEL_OK if the runtime is
 * usable (also when already initialized). */
int vaccel_bootstrap(void);
int vaccel_bootstrap_with_config(struct vaccel_config *config);
/* Unload every plugin (after their fini) and forget the config. Sessions
 * must be released before. */
int vaccel_cleanup(void);
bool vaccel_is_initialized(void);
/* The runtime's private run directory (created at bootstrap), or NULL. */
const char *vaccel_rundir(void);
const struct vaccel_config *vaccel_config(void);

#ifdef __cplusplus
}
#endif
