// SPDX-License-Identifier: Apache-2.0
// The plugin loader: bad plugins are named with their reason and skipped,
// good ones still load; plugins written against upstream's ABI load.
#include <string>

#include <gtest/gtest.h>

#include "tests/runtime/test_util.h"

using rt_test::Boot;
using rt_test::Path;

namespace {

bool Has(const std::string &text, const std::string &what)
{
	return text.find(what) != std::string::npos;
}

TEST(PluginLoad, BadPluginsAreReportedAndSkipped)
{
	std::string log = rt_test::TmpPath("load.log");
	std::string nosym = Path("PLUGIN_NOSYM");
	std::string badver = Path("PLUGIN_BADVER");
	std::string initfail = Path("PLUGIN_INITFAIL");
	std::string missing = "/nonexistent/libvaccel-missing.so";
	std::string list = Path("PLUGIN_NOOP") + ":" + nosym + ":" + badver +
			   ":" + initfail + ":" + missing + ":" +
			   Path("PLUGIN_EXEC");
	ASSERT_EQ(Boot(list, log.c_str()), VACCEL_OK)
		<< "the runtime stays usable with the good plugins";
	ASSERT_EQ(vaccel_plugin_count(), 2u) << "noop and exec loaded";
	EXPECT_STREQ(vaccel_plugin_at(0)->info->name, "noop");
	EXPECT_STREQ(vaccel_plugin_at(1)->info->name, "exec");

	struct vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, 0), VACCEL_OK);
	EXPECT_EQ(vaccel_noop(&s), VACCEL_OK);
	EXPECT_EQ(vaccel_session_release(&s), VACCEL_OK);
	vaccel_cleanup();

	std::string text = rt_test::ReadFile(log);
	EXPECT_TRUE(Has(text, nosym + ": no `vaccel_plugin` symbol")) << text;
	EXPECT_TRUE(Has(text, "(" + badver + "): version mismatch")) << text;
	EXPECT_TRUE(Has(text, "built for vAccel v0.1.0")) << text;
	EXPECT_TRUE(Has(text, "(" + initfail + "): init failed: 5")) << text;
	EXPECT_TRUE(Has(text, missing + ": file not found")) << text;
}

TEST(PluginLoad, ReturnsFirstErrorButLoadsTheRest)
{
	ASSERT_EQ(Boot(""), VACCEL_OK);
	std::string list = Path("PLUGIN_NOSYM") + ":" + Path("PLUGIN_NOOP");
	EXPECT_EQ(vaccel_plugin_parse_and_load(list.c_str()), VACCEL_ELIBBAD);
	EXPECT_EQ(vaccel_plugin_count(), 1u);
	EXPECT_EQ(vaccel_plugin_load(Path("PLUGIN_NOOP").c_str()),
		  VACCEL_EEXIST)
		<< "the same plugin twice is refused";
	EXPECT_EQ(vaccel_plugin_load(Path("PLUGIN_INITFAIL").c_str()),
		  VACCEL_EBACKEND);
	EXPECT_EQ(vaccel_plugin_load("/nonexistent/x.so"), VACCEL_ENOENT);
	EXPECT_EQ(vaccel_plugin_load("libdefinitely-not-there.so"),
		  VACCEL_ENOENT)
		<< "a bare name goes through the dlopen search";
	EXPECT_EQ(vaccel_plugin_count(), 1u);
}

TEST(PluginLoad, InitFailureLeavesNoOps)
{
	// initfail registers a NOOP before failing; its session must not
	// exist, and a later good plugin must serve instead.
	ASSERT_EQ(Boot(Path("PLUGIN_INITFAIL") + ":" + Path("PLUGIN_BLAS")),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_plugin_count(), 1u);
	struct vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, VACCEL_PLUGIN_DEBUG), VACCEL_OK);
	EXPECT_STREQ(s.plugin->info->name, "blas");
	EXPECT_EQ(vaccel_noop(&s), VACCEL_ENOTSUP);
	vaccel_session_release(&s);
}

TEST(PluginLoad, VersionIgnore)
{
	ASSERT_EQ(Boot(Path("PLUGIN_BADVER"), nullptr, true), VACCEL_OK);
	EXPECT_EQ(vaccel_plugin_count(), 1u)
		<< "VACCEL_VERSION_IGNORE skips the version check";
}

TEST(PluginLoad, UpstreamStylePluginLoads)
{
	ASSERT_EQ(Boot(Path("PLUGIN_UPSTREAM")), VACCEL_OK);
	ASSERT_EQ(vaccel_plugin_count(), 1u);
	struct vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, 0), VACCEL_OK);
	EXPECT_STREQ(s.plugin->info->name, "upstream-style");
	EXPECT_EQ(vaccel_noop(&s), VACCEL_OK);
	float a[4] = { 1, 2, 3, 4 }, b[4] = { 1, 0, 0, 1 }, c[4] = { 0 };
	EXPECT_EQ(vaccel_sgemm(&s, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2),
		  VACCEL_OK);
	EXPECT_EQ(c[0], 1.0f);
	EXPECT_EQ(c[3], 4.0f);
	vaccel_session_release(&s);
}

TEST(PluginLoad, RegisterOpsValidates)
{
	struct vaccel_op bad = { VACCEL_OP_NOOP, nullptr, nullptr };
	EXPECT_EQ(vaccel_plugin_register_ops(&bad, 1), VACCEL_EINVAL);
	EXPECT_EQ(vaccel_plugin_register_ops(nullptr, 1), VACCEL_EINVAL);
}

} // namespace
