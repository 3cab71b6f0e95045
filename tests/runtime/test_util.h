// SPDX-License-Identifier: Apache-2.0
// Helpers for the runtime tests: plugin paths come from the environment
// the BUILD file sets ($(rootpath) of each plugin, relative to the runfiles
// directory the test runs in).
#pragma once

#include <cstdlib>
#include <string>

extern "C" {
#include <vaccel.h>
}

namespace rt_test {

// Path of a test artifact given as env var `name`; fails the test if unset.
std::string Path(const char *name);

// Restart the runtime with these plugins (':'-separated, may be empty) and
// optional extra environment; returns vaccel_bootstrap()'s result.
int Boot(const std::string &plugins, const char *log_file = nullptr,
	 bool version_ignore = false, bool profiling = false);

// Read a whole file (empty string if missing).
std::string ReadFile(const std::string &path);

// A fresh file name under $TEST_TMPDIR.
std::string TmpPath(const std::string &name);

} // namespace rt_test
