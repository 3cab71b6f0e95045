// SPDX-License-Identifier: Apache-2.0
#include "tests/runtime/test_util.h"

#include <fstream>
#include <sstream>
#include <unistd.h>

#include <gtest/gtest.h>

namespace rt_test {

std::string Path(const char *name)
{
	const char *v = std::getenv(name);
	EXPECT_NE(v, nullptr) << "BUILD must set env " << name;
	return v ? std::string(v) : std::string();
}

int Boot(const std::string &plugins, const char *log_file,
	 bool version_ignore, bool profiling)
{
	vaccel_cleanup();
	setenv("VACCEL_PLUGINS", plugins.c_str(), 1);
	unsetenv("VACCEL_BACKENDS");
	if (log_file)
		setenv("VACCEL_LOG_FILE", log_file, 1);
	else
		unsetenv("VACCEL_LOG_FILE");
	if (version_ignore)
		setenv("VACCEL_VERSION_IGNORE", "1", 1);
	else
		unsetenv("VACCEL_VERSION_IGNORE");
	if (profiling)
		setenv("VACCEL_PROFILING_ENABLED", "1", 1);
	else
		unsetenv("VACCEL_PROFILING_ENABLED");
	return vaccel_bootstrap();
}

std::string ReadFile(const std::string &path)
{
	std::ifstream f(path);
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

std::string TmpPath(const std::string &name)
{
	static int seq;
	const char *d = std::getenv("TEST_TMPDIR");
	std::string dir = d ? d : "/tmp";
	return dir + "/" + std::to_string(getpid()) + "-" +
	       std::to_string(++seq) + "-" + name;
}

} // namespace rt_test
