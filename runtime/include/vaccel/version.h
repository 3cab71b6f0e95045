// SPDX-License-Identifier: Apache-2.0
#pragma once

/* The upstream release whose API this runtime follows. Plugins record the
 * value they were built with in .vaccel_version; the loader accepts the same
 * major.minor (see runtime/src/plugin_load.c). */
#define VACCEL_VERSION "v0.8.0"
#define VACCEL_VERSION_MAJOR 0
#define VACCEL_VERSION_MINOR 8
