// SPDX-License-Identifier: Apache-2.0
// The exec plugin through vaccel_exec, exec_with_resource and genop.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "tests/runtime/test_util.h"

using rt_test::Boot;
using rt_test::Path;

namespace {

class Exec : public ::testing::Test {
    protected:
	void SetUp() override
	{
		ASSERT_EQ(Boot(Path("PLUGIN_EXEC")), VACCEL_OK);
		ASSERT_EQ(vaccel_session_init(&s, 0), VACCEL_OK);
		lib = Path("MYTESTLIB");
	}
	void TearDown() override
	{
		vaccel_session_release(&s);
	}
	struct vaccel_session s;
	std::string lib;
	int in = 10, out = 0;
	struct vaccel_arg read[1] = { { &in, sizeof(in), VACCEL_ARG_INT32, 0,
					false } };
	struct vaccel_arg write[1] = { { &out, sizeof(out), VACCEL_ARG_INT32,
					 0, false } };
};

TEST_F(Exec, CallsTheFunction)
{
	EXPECT_EQ(vaccel_exec(&s, lib.c_str(), "mytestfunc", read, 1, write, 1),
		  VACCEL_OK);
	EXPECT_EQ(out, 20);
	out = 0;
	EXPECT_EQ(vaccel_exec(&s, lib.c_str(), "mytestfunc_serial", read, 1,
			      write, 1),
		  VACCEL_OK)
		<< "library resolves runtime symbols from the program";
	EXPECT_EQ(out, 20);
}

TEST_F(Exec, DataSymbolsAreRefused)
{
	/* _end lies one past the library's last byte: refused too, as not its own
	 * symbol (VACCEL_ENOENT), so it is left out here. */
	for (const char *sym : { "__bss_start", "_edata", "mytestlib_table",
				 "mytestlib_counter" })
		EXPECT_EQ(vaccel_exec(&s, lib.c_str(), sym, read, 1, write, 1),
			  VACCEL_EINVAL)
			<< sym << " is data: calling it would crash the process";
	EXPECT_EQ(out, 0);
}

TEST_F(Exec, SerialOutputSizeIsChecked)
{
	unsigned char big[4096] = { 0 };
	struct vaccel_arg w[1] = { { big, sizeof(big), VACCEL_ARG_RAW, 0,
				     false } };
	EXPECT_EQ(vaccel_exec(&s, lib.c_str(), "mytestfunc_serial", read, 1, w,
			      1),
		  VACCEL_EINVAL);
	for (unsigned char c : big)
		ASSERT_EQ(c, 0) << "nothing of the library's stack is copied out";
}

TEST_F(Exec, SameFdPathAfterAnotherLibraryLoadsTheNewOne)
{
	/* The agent loads an allowed library as /proc/self/fd/N. A library that
	 * stays loaded after dlclose keeps that name, and dlopen matches names
	 * before it opens anything: a later library opened at the same fd number
	 * (another guest's) must not get the first one's code. */
	int32_t got = 0;
	struct vaccel_arg w[1] = { { &got, sizeof(got), VACCEL_ARG_INT32, 0,
				     false } };
	int fd1 = open(Path("WHOAMI1").c_str(), O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd1, 0);
	std::string p = "/proc/self/fd/" + std::to_string(fd1);
	ASSERT_EQ(vaccel_exec(&s, p.c_str(), "whoami", read, 1, w, 1),
		  VACCEL_OK);
	EXPECT_EQ(got, 1);
	close(fd1);
	int fd2 = open(Path("WHOAMI2").c_str(), O_RDONLY | O_CLOEXEC);
	ASSERT_EQ(fd2, fd1) << "the lowest free fd is reused";
	got = 0;
	ASSERT_EQ(vaccel_exec(&s, p.c_str(), "whoami", read, 1, w, 1),
		  VACCEL_OK);
	EXPECT_EQ(got, 2) << "the library now at that fd must run";
	close(fd2);
}

TEST_F(Exec, ArgArrayInsideTheLibrary)
{
	int32_t v[4] = { 1, 2, 3, 4 };
	int64_t sum = 0;
	struct vaccel_arg_array r, w;
	ASSERT_EQ(vaccel_arg_array_init(&r, 1), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_init(&w, 1), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_int32_array(&r, v, 4), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_int64(&w, &sum), VACCEL_OK);
	EXPECT_EQ(vaccel_exec(&s, lib.c_str(), "mytestfunc_sum", r.args,
			      r.count, w.args, w.count),
		  VACCEL_OK);
	EXPECT_EQ(sum, 10);
	vaccel_arg_array_release(&r);
	vaccel_arg_array_release(&w);
}

TEST_F(Exec, ErrorsAreReportedNotCrashes)
{
	EXPECT_EQ(vaccel_exec(&s, "/nonexistent/libnope.so", "f", read, 1,
			      write, 1),
		  VACCEL_ENOENT);
	EXPECT_EQ(vaccel_exec(&s, lib.c_str(), "no_such_symbol", read, 1, write,
			      1),
		  VACCEL_ENOENT);
	EXPECT_EQ(vaccel_exec(&s, lib.c_str(), "mytestfunc_fail", read, 1,
			      write, 1),
		  VACCEL_EBADF)
		<< "the function's own code reaches the caller";
	EXPECT_EQ(vaccel_exec(&s, nullptr, "f", read, 1, write, 1),
		  VACCEL_EINVAL);
	EXPECT_EQ(vaccel_exec(&s, lib.c_str(), "mytestfunc", nullptr, 1, write,
			      1),
		  VACCEL_EINVAL);
	EXPECT_EQ(out, 0);
}

TEST_F(Exec, Genop)
{
	vaccel_op_type_t op = VACCEL_OP_EXEC;
	// Upstream's old example sizes strings without the NUL.
	const char *sym = "mytestfunc";
	struct vaccel_arg g[4] = {
		{ &op, sizeof(op), VACCEL_ARG_RAW, 0, false },
		{ (void *)lib.c_str(), lib.size(), VACCEL_ARG_RAW, 0, false },
		{ (void *)sym, strlen(sym), VACCEL_ARG_RAW, 0, false },
		{ &in, sizeof(in), VACCEL_ARG_RAW, 0, false },
	};
	EXPECT_EQ(vaccel_genop(&s, g, 4, write, 1), VACCEL_OK);
	EXPECT_EQ(out, 20);

	struct vaccel_resource res;
	ASSERT_EQ(vaccel_resource_init(&res, lib.c_str(), VACCEL_RESOURCE_LIB),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_resource_register(&res, &s), VACCEL_OK);
	vaccel_op_type_t op2 = VACCEL_OP_EXEC_WITH_RESOURCE;
	int64_t id = res.id;
	struct vaccel_arg_array ga;
	ASSERT_EQ(vaccel_arg_array_init(&ga, 4), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_raw(&ga, &op2, sizeof(op2)), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_int64(&ga, &id), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_string(&ga, (char *)sym), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_int32(&ga, &in), VACCEL_OK);
	in = 7;
	EXPECT_EQ(vaccel_genop(&s, ga.args, (int)ga.count, write, 1), VACCEL_OK);
	EXPECT_EQ(out, 14);
	id = 999999;
	EXPECT_EQ(vaccel_genop(&s, ga.args, (int)ga.count, write, 1),
		  VACCEL_ENOENT)
		<< "unknown resource id";
	vaccel_arg_array_release(&ga);
	EXPECT_EQ(vaccel_resource_unregister(&res, &s), VACCEL_OK);
	EXPECT_EQ(vaccel_resource_release(&res), VACCEL_OK);

	struct vaccel_arg shortg[2] = {
		{ &op, sizeof(op), VACCEL_ARG_RAW, 0, false },
		{ (void *)lib.c_str(), lib.size(), VACCEL_ARG_RAW, 0, false },
	};
	EXPECT_EQ(vaccel_genop(&s, shortg, 2, write, 1), VACCEL_EINVAL);
}

} // namespace
