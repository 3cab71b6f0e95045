// SPDX-License-Identifier: Apache-2.0
// Public API semantics: bootstrap/cleanup, config, error and enum values,
// sessions, plugin choice, dispatch, logging and profiling.
#include <cerrno>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "tests/runtime/test_util.h"

using rt_test::Boot;
using rt_test::Path;

namespace {

std::string NoopExecBlas()
{
	return Path("PLUGIN_NOOP") + ":" + Path("PLUGIN_EXEC") + ":" +
	       Path("PLUGIN_BLAS");
}

TEST(Api, ErrorCodesArePositiveErrnoValues)
{
	EXPECT_EQ(VACCEL_OK, 0);
	EXPECT_EQ(VACCEL_EINVAL, EINVAL);
	EXPECT_EQ(VACCEL_ENOTSUP, ENOTSUP);
	EXPECT_EQ(VACCEL_ESESS, ECONNRESET);
	EXPECT_EQ(VACCEL_EBACKEND, EPROTO);
	EXPECT_EQ(VACCEL_ENOENT, ENOENT);
	EXPECT_EQ(VACCEL_EREMOTEIO, EREMOTEIO);
	EXPECT_EQ(VACCEL_ENOSYS, ENOSYS);
	EXPECT_GT(VACCEL_EAGAIN, 0);
}

TEST(Api, OpTypeValuesMatchUpstream)
{
	EXPECT_EQ(VACCEL_OP_NOOP, 0);
	EXPECT_EQ(VACCEL_OP_EXEC, 1);
	EXPECT_EQ(VACCEL_OP_EXEC_WITH_RESOURCE, 2);
	EXPECT_EQ(VACCEL_OP_IMAGE_CLASSIFY, 3);
	EXPECT_EQ(VACCEL_OP_TF_MODEL_LOAD, 8);
	EXPECT_EQ(VACCEL_OP_TORCH_SGEMM, 16);
	EXPECT_EQ(VACCEL_OP_BLAS_SGEMM, 17);
	EXPECT_EQ(VACCEL_OP_MINMAX, 22);
	EXPECT_EQ(VACCEL_OP_OPENCV, 23);
	EXPECT_EQ(VACCEL_OP_MAX, 24);
	EXPECT_STREQ(vaccel_op_type_to_str(VACCEL_OP_BLAS_SGEMM),
		     "VACCEL_OP_BLAS_SGEMM");
	EXPECT_STREQ(vaccel_op_type_to_base_str(VACCEL_OP_NOOP), "NOOP");
	EXPECT_STREQ(vaccel_op_type_to_str((vaccel_op_type_t)99),
		     "VACCEL_OP_MAX");
}

TEST(Api, PluginTypeBitsMatchUpstream)
{
	EXPECT_EQ(VACCEL_PLUGIN_CPU, 0x1);
	EXPECT_EQ(VACCEL_PLUGIN_GPU, 0x2);
	EXPECT_EQ(VACCEL_PLUGIN_FPGA, 0x4);
	EXPECT_EQ(VACCEL_PLUGIN_DEBUG, 0x100);
	EXPECT_EQ(VACCEL_PLUGIN_REMOTE, 0x4000);
}

TEST(Api, BootstrapCleanupCycle)
{
	ASSERT_EQ(Boot(Path("PLUGIN_NOOP")), VACCEL_OK);
	EXPECT_TRUE(vaccel_is_initialized());
	ASSERT_NE(vaccel_config(), nullptr);
	EXPECT_EQ(vaccel_plugin_count(), 1u);
	EXPECT_EQ(vaccel_cleanup(), VACCEL_OK);
	EXPECT_FALSE(vaccel_is_initialized());
	EXPECT_EQ(vaccel_plugin_count(), 0u);
	EXPECT_EQ(vaccel_cleanup(), VACCEL_OK) << "cleanup twice is harmless";
	// Again, to show a plugin can be reloaded after cleanup.
	ASSERT_EQ(Boot(Path("PLUGIN_NOOP")), VACCEL_OK);
	struct vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, 0), VACCEL_OK);
	EXPECT_EQ(vaccel_noop(&s), VACCEL_OK);
	EXPECT_EQ(vaccel_session_release(&s), VACCEL_OK);
}

TEST(Api, BackendsIsTheOldNameOfPlugins)
{
	vaccel_cleanup();
	unsetenv("VACCEL_PLUGINS");
	setenv("VACCEL_BACKENDS", Path("PLUGIN_NOOP").c_str(), 1);
	ASSERT_EQ(vaccel_bootstrap(), VACCEL_OK);
	unsetenv("VACCEL_BACKENDS");
	EXPECT_EQ(vaccel_plugin_count(), 1u);
}

TEST(Api, ConfigFromEnv)
{
	setenv("VACCEL_PLUGINS", "a.so:b.so", 1);
	setenv("VACCEL_LOG_LEVEL", "4", 1);
	setenv("VACCEL_LOG_FILE", "/x/log", 1);
	setenv("VACCEL_PROFILING_ENABLED", "1", 1);
	setenv("VACCEL_VERSION_IGNORE", "true", 1);
	struct vaccel_config c;
	ASSERT_EQ(vaccel_config_init_from_env(&c), VACCEL_OK);
	EXPECT_STREQ(c.plugins, "a.so:b.so");
	EXPECT_EQ(c.log_level, VACCEL_LOG_DEBUG);
	EXPECT_STREQ(c.log_file, "/x/log");
	EXPECT_TRUE(c.profiling_enabled);
	EXPECT_TRUE(c.version_ignore);
	vaccel_config_release(&c);

	setenv("VACCEL_LOG_LEVEL", "9", 1); // out of range: default
	unsetenv("VACCEL_PROFILING_ENABLED");
	unsetenv("VACCEL_VERSION_IGNORE");
	unsetenv("VACCEL_LOG_FILE");
	ASSERT_EQ(vaccel_config_init_from_env(&c), VACCEL_OK);
	EXPECT_EQ(c.log_level, VACCEL_LOG_ERROR);
	EXPECT_FALSE(c.profiling_enabled);
	EXPECT_EQ(c.log_file, nullptr);
	vaccel_config_release(&c);
	unsetenv("VACCEL_LOG_LEVEL");
	unsetenv("VACCEL_PLUGINS");
}

TEST(Api, SessionWithoutPluginsFails)
{
	ASSERT_EQ(Boot(""), VACCEL_OK);
	struct vaccel_session s;
	EXPECT_EQ(vaccel_session_init(&s, 0), VACCEL_ENOTSUP)
		<< "no plugin (upstream: ENOTSUP)";
}

TEST(Api, SessionLifecycleAndIds)
{
	ASSERT_EQ(Boot(Path("PLUGIN_NOOP")), VACCEL_OK);
	struct vaccel_session a, b;
	ASSERT_EQ(vaccel_session_init(&a, 0), VACCEL_OK);
	ASSERT_EQ(vaccel_session_init(&b, 0), VACCEL_OK);
	EXPECT_GT(a.id, 0);
	EXPECT_NE(a.id, b.id);
	EXPECT_FALSE(a.is_virtio);
	ASSERT_NE(a.plugin, nullptr);
	EXPECT_STREQ(a.plugin->info->name, "noop");
	EXPECT_EQ(vaccel_session_update(&a, VACCEL_PLUGIN_CPU), VACCEL_OK);
	EXPECT_EQ(a.hint, (unsigned)VACCEL_PLUGIN_CPU);
	EXPECT_EQ(vaccel_session_release(&a), VACCEL_OK);
	EXPECT_EQ(vaccel_session_release(&b), VACCEL_OK);
	EXPECT_EQ(vaccel_session_release(&b), VACCEL_EINVAL)
		<< "a released session is not released twice";

	struct vaccel_session *p = nullptr;
	ASSERT_EQ(vaccel_session_new(&p, 0), VACCEL_OK);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(vaccel_noop(p), VACCEL_OK);
	EXPECT_EQ(vaccel_session_delete(p), VACCEL_OK);

	EXPECT_EQ(vaccel_session_init(nullptr, 0), VACCEL_EINVAL);
	EXPECT_EQ(vaccel_noop(nullptr), VACCEL_EINVAL);
}

const char *PluginOf(uint32_t flags, int *ret)
{
	static struct vaccel_session s;
	*ret = vaccel_session_init(&s, flags);
	if (*ret)
		return "(error)";
	const char *name = s.plugin->info->name;
	vaccel_session_release(&s);
	return name;
}

TEST(Api, PluginChoiceByHint)
{
	ASSERT_EQ(Boot(NoopExecBlas() + ":" + Path("PLUGIN_FAKEVIRTIO")),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_plugin_count(), 4u);
	int ret;
	EXPECT_STREQ(PluginOf(0, &ret), "noop") << "first non-virtio plugin";
	EXPECT_STREQ(PluginOf(VACCEL_PLUGIN_CPU, &ret), "blas");
	EXPECT_STREQ(PluginOf(VACCEL_PLUGIN_GENERIC, &ret), "exec")
		<< "first plugin whose type matches, in load order";
	EXPECT_STREQ(PluginOf(VACCEL_PLUGIN_DEBUG, &ret), "noop");
	EXPECT_STREQ(PluginOf(VACCEL_PLUGIN_REMOTE, &ret), "fakevirtio");
	EXPECT_STREQ(PluginOf(VACCEL_PLUGIN_GPU, &ret), "noop")
		<< "no type match: first non-virtio";
}

TEST(Api, RemoteWithoutVirtioPluginIsAnError)
{
	ASSERT_EQ(Boot(Path("PLUGIN_NOOP")), VACCEL_OK);
	struct vaccel_session s;
	EXPECT_EQ(vaccel_session_init(&s, VACCEL_PLUGIN_REMOTE),
		  VACCEL_ENOTSUP);
}

TEST(Api, OnlyVirtioPluginServesPlainSessions)
{
	ASSERT_EQ(Boot(Path("PLUGIN_FAKEVIRTIO")), VACCEL_OK);
	struct vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, 0), VACCEL_OK);
	EXPECT_TRUE(s.is_virtio);
	EXPECT_EQ(s.remote_id, 1000 + s.id) << "plugin session_init ran";
	EXPECT_NE(s.priv, nullptr);
	EXPECT_EQ(vaccel_noop(&s), VACCEL_OK)
		<< "plugin saw the session with its priv";
	EXPECT_EQ(vaccel_sgemm(&s, 1, 1, 1, 1.0f, nullptr, 1, nullptr, 1, 0.0f,
			       nullptr, 1),
		  VACCEL_ENOTSUP);
	EXPECT_EQ(vaccel_session_release(&s), VACCEL_OK);
	EXPECT_EQ(s.priv, nullptr);
}

TEST(Api, MissingOpIsNotSupported)
{
	ASSERT_EQ(Boot(Path("PLUGIN_BLAS")), VACCEL_OK);
	struct vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, 0), VACCEL_OK);
	EXPECT_EQ(vaccel_noop(&s), VACCEL_ENOTSUP);
	EXPECT_EQ(vaccel_exec(&s, "x.so", "f", nullptr, 0, nullptr, 0),
		  VACCEL_ENOTSUP);
	int op = VACCEL_OP_IMAGE_CLASSIFY;
	char img[4] = "img", name[16];
	struct vaccel_arg read[2] = {
		{ &op, sizeof(op), VACCEL_ARG_RAW, 0, false },
		{ img, sizeof(img), VACCEL_ARG_BUFFER, 0, false }
	};
	struct vaccel_arg write[1] = {
		{ name, sizeof(name), VACCEL_ARG_UCHAR_ARRAY, 0, false }
	};
	EXPECT_EQ(vaccel_genop(&s, read, 2, write, 1), VACCEL_ENOTSUP)
		<< "well-formed, but the plugin has no IMAGE_CLASSIFY";
	EXPECT_EQ(vaccel_genop(&s, read, 1, nullptr, 0), VACCEL_EINVAL)
		<< "arguments are checked first (upstream)";
	op = VACCEL_OP_TORCH_MODEL_RUN;
	EXPECT_EQ(vaccel_genop(&s, read, 1, nullptr, 0), VACCEL_ENOTSUP)
		<< "torch has no genop form";
	op = 1000;
	EXPECT_EQ(vaccel_genop(&s, read, 1, nullptr, 0), VACCEL_EINVAL);
	op = VACCEL_OP_NOOP;
	EXPECT_EQ(vaccel_genop(&s, read, 1, nullptr, 0), VACCEL_ENOTSUP);
	EXPECT_EQ(vaccel_session_release(&s), VACCEL_OK);
}

TEST(Api, GenopNoop)
{
	ASSERT_EQ(Boot(Path("PLUGIN_NOOP")), VACCEL_OK);
	struct vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, 0), VACCEL_OK);
	uint8_t op = VACCEL_OP_NOOP;
	struct vaccel_arg read[1] = { { &op, sizeof(op), VACCEL_ARG_UINT8, 0,
					false } };
	EXPECT_EQ(vaccel_genop(&s, read, 1, nullptr, 0), VACCEL_OK);
	EXPECT_EQ(vaccel_genop(&s, nullptr, 0, nullptr, 0), VACCEL_EINVAL);
	EXPECT_EQ(vaccel_session_release(&s), VACCEL_OK);
}

TEST(Api, LogLevelAndFile)
{
	std::string log = rt_test::TmpPath("api.log");
	setenv("VACCEL_LOG_LEVEL", "4", 1);
	ASSERT_EQ(Boot(Path("PLUGIN_NOOP"), log.c_str()), VACCEL_OK);
	unsetenv("VACCEL_LOG_LEVEL");
	struct vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, 0), VACCEL_OK);
	EXPECT_EQ(vaccel_noop(&s), VACCEL_OK);
	vaccel_warn("marker-%d", 42);
	EXPECT_EQ(vaccel_session_release(&s), VACCEL_OK);
	vaccel_cleanup();
	std::string text = rt_test::ReadFile(log);
	EXPECT_NE(text.find("<WARN> marker-42"), std::string::npos) << text;
	EXPECT_NE(text.find("[noop] session:"), std::string::npos)
		<< "noop plugin logs each call at debug level\n"
		<< text;

	// At the default level (error) debug lines are not written.
	std::string quiet = rt_test::TmpPath("quiet.log");
	ASSERT_EQ(Boot(Path("PLUGIN_NOOP"), quiet.c_str()), VACCEL_OK);
	vaccel_debug("hidden");
	vaccel_error("shown");
	vaccel_cleanup();
	text = rt_test::ReadFile(quiet);
	EXPECT_EQ(text.find("hidden"), std::string::npos) << text;
	EXPECT_NE(text.find("<ERROR> shown"), std::string::npos) << text;
}

TEST(Api, ProfilingRegions)
{
	ASSERT_EQ(Boot(Path("PLUGIN_NOOP")), VACCEL_OK);
	EXPECT_FALSE(vaccel_prof_enabled());
	struct vaccel_prof_region r = VACCEL_PROF_REGION_INIT("off");
	EXPECT_EQ(vaccel_prof_region_start(&r), VACCEL_OK);
	EXPECT_EQ(vaccel_prof_region_stop(&r), VACCEL_OK);
	EXPECT_EQ(r.nr_entries, 0u) << "disabled profiling records nothing";

	std::string log = rt_test::TmpPath("prof.log");
	setenv("VACCEL_LOG_LEVEL", "3", 1);
	ASSERT_EQ(Boot(Path("PLUGIN_NOOP"), log.c_str(), false, true),
		  VACCEL_OK);
	unsetenv("VACCEL_LOG_LEVEL");
	EXPECT_TRUE(vaccel_prof_enabled());
	struct vaccel_prof_region p;
	ASSERT_EQ(vaccel_prof_region_init(&p, "myregion"), VACCEL_OK);
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(vaccel_prof_region_start(&p), VACCEL_OK);
		EXPECT_EQ(vaccel_prof_region_stop(&p), VACCEL_OK);
	}
	EXPECT_EQ(p.nr_entries, 3u);
	EXPECT_EQ(vaccel_prof_region_print(&p), VACCEL_OK);
	EXPECT_EQ(vaccel_prof_region_release(&p), VACCEL_OK);
	vaccel_cleanup();
	std::string text = rt_test::ReadFile(log);
	EXPECT_NE(text.find("[prof] myregion: total_time:"), std::string::npos)
		<< text;
	EXPECT_NE(text.find("nr_entries: 3"), std::string::npos) << text;
	vaccel_prof_region_release(&r);

	ASSERT_EQ(Boot(Path("PLUGIN_NOOP"), nullptr, false, true), VACCEL_OK);
	struct vaccel_prof_region regs[2] = { VACCEL_PROF_REGION_INIT("a"),
					      VACCEL_PROF_REGION_INIT("b") };
	EXPECT_EQ(vaccel_prof_regions_start_by_name(regs, 2, "b"), VACCEL_OK);
	EXPECT_EQ(vaccel_prof_regions_stop_by_name(regs, 2, "b"), VACCEL_OK);
	EXPECT_EQ(vaccel_prof_regions_start_by_name(regs, 2, "c"),
		  VACCEL_ENOENT);
	EXPECT_EQ(regs[0].nr_entries, 0u);
	EXPECT_EQ(regs[1].nr_entries, 1u);
	EXPECT_EQ(vaccel_prof_regions_release(regs, 2), VACCEL_OK);
	vaccel_cleanup();
}

TEST(Api, SessionOutlivingCleanupGetsNotSupported)
{
	ASSERT_EQ(Boot(Path("PLUGIN_NOOP")), VACCEL_OK);
	struct vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, 0), VACCEL_OK);
	vaccel_cleanup();
	EXPECT_EQ(vaccel_noop(&s), VACCEL_ENOTSUP)
		<< "plugins stay mapped but their ops are gone: no crash";
	EXPECT_EQ(vaccel_session_release(&s), VACCEL_OK);
}

TEST(Api, UnwritableLogFileFallsBackToStderr)
{
	EXPECT_EQ(Boot(Path("PLUGIN_NOOP"), "/nonexistent/dir/vaccel.log"),
		  VACCEL_OK);
	EXPECT_TRUE(vaccel_is_initialized());
	EXPECT_EQ(vaccel_plugin_count(), 1u);
}

} // namespace
