// SPDX-License-Identifier: Apache-2.0
// Many threads with their own sessions, and several threads on one session
// (ops, resource registration). Run under TSan in CI.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/runtime/test_util.h"

using rt_test::Boot;
using rt_test::Path;

namespace {

constexpr int kThreads = 6;
constexpr int kIters = 300;

TEST(Concurrency, ThreadsWithOwnSessions)
{
	ASSERT_EQ(Boot(Path("PLUGIN_NOOP") + ":" + Path("PLUGIN_BLAS")),
		  VACCEL_OK);
	std::atomic<int> failures{ 0 };
	std::vector<std::thread> ts;
	std::vector<long long> ids(kThreads);
	for (int t = 0; t < kThreads; t++)
		ts.emplace_back([&, t] {
			struct vaccel_session noop, blas;
			if (vaccel_session_init(&noop, 0) ||
			    vaccel_session_init(&blas, VACCEL_PLUGIN_CPU)) {
				failures++;
				return;
			}
			ids[t] = noop.id;
			float a[4] = { 1, 2, 3, 4 }, b[4] = { 5, 6, 7, 8 };
			for (int i = 0; i < kIters; i++) {
				float c[4] = { 0, 0, 0, 0 };
				if (vaccel_noop(&noop))
					failures++;
				if (i % 10 == 0 &&
				    (vaccel_sgemm(&blas, 2, 2, 2, 1, a, 2, b, 2,
						  0, c, 2) ||
				     c[0] != 19 || c[3] != 50))
					failures++;
			}
			vaccel_session_release(&noop);
			vaccel_session_release(&blas);
		});
	for (auto &t : ts)
		t.join();
	EXPECT_EQ(failures.load(), 0);
	for (int i = 0; i < kThreads; i++)
		for (int j = i + 1; j < kThreads; j++)
			EXPECT_NE(ids[i], ids[j]) << "session ids are unique";
}

TEST(Concurrency, ThreadsSharingOneSession)
{
	ASSERT_EQ(Boot(Path("PLUGIN_EXEC")), VACCEL_OK);
	struct vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, 0), VACCEL_OK);
	std::string lib = Path("MYTESTLIB");
	struct vaccel_resource res;
	ASSERT_EQ(vaccel_resource_init(&res, lib.c_str(), VACCEL_RESOURCE_LIB),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_resource_register(&res, &s), VACCEL_OK);

	std::atomic<int> failures{ 0 };
	std::vector<std::thread> ts;
	for (int t = 0; t < kThreads; t++)
		ts.emplace_back([&, t] {
			// Each thread also registers a resource of its own.
			struct vaccel_resource mine;
			if (vaccel_resource_init(&mine, lib.c_str(),
						 VACCEL_RESOURCE_LIB)) {
				failures++;
				return;
			}
			for (int i = 0; i < kIters / 10; i++) {
				int in = t * 1000 + i, out = 0;
				struct vaccel_arg r[1] = { { &in, sizeof(in),
							     VACCEL_ARG_INT32,
							     0, false } };
				struct vaccel_arg w[1] = { { &out, sizeof(out),
							     VACCEL_ARG_INT32,
							     0, false } };
				if (vaccel_exec_with_resource(&s, &res,
							      "mytestfunc", r,
							      1, w, 1) ||
				    out != 2 * in)
					failures++;
				if (vaccel_resource_register(&mine, &s) ||
				    !vaccel_session_has_resource(&s, &mine) ||
				    vaccel_resource_unregister(&mine, &s))
					failures++;
			}
			if (vaccel_resource_release(&mine))
				failures++;
		});
	for (auto &t : ts)
		t.join();
	EXPECT_EQ(failures.load(), 0);
	EXPECT_EQ(vaccel_resource_refcount(&res), 1);
	EXPECT_EQ(vaccel_resource_unregister(&res, &s), VACCEL_OK);
	EXPECT_EQ(vaccel_resource_release(&res), VACCEL_OK);
	EXPECT_EQ(vaccel_session_release(&s), VACCEL_OK);
}

TEST(Concurrency, ThreadsCallingOpsOnOneSession)
{
	ASSERT_EQ(Boot(Path("PLUGIN_BLAS") + ":" + Path("PLUGIN_NOOP")),
		  VACCEL_OK);
	struct vaccel_session blas, noop;
	ASSERT_EQ(vaccel_session_init(&blas, VACCEL_PLUGIN_CPU), VACCEL_OK);
	ASSERT_EQ(vaccel_session_init(&noop, VACCEL_PLUGIN_DEBUG), VACCEL_OK);
	std::atomic<int> failures{ 0 };
	std::vector<std::thread> ts;
	for (int t = 0; t < kThreads; t++)
		ts.emplace_back([&, t] {
			float a[4] = { 1, 2, 3, 4 };
			float b[4] = { (float)t, 0, 0, (float)t };
			for (int i = 0; i < kIters / 10; i++) {
				float c[4] = { 0, 0, 0, 0 };
				if (vaccel_sgemm(&blas, 2, 2, 2, 1, a, 2, b, 2, 0,
						 c, 2) ||
				    c[0] != (float)t || c[3] != 4.0f * (float)t)
					failures++;
				if (vaccel_noop(&noop))
					failures++;
			}
		});
	for (auto &t : ts)
		t.join();
	EXPECT_EQ(failures.load(), 0)
		<< "each thread gets its own result through shared sessions";
	EXPECT_EQ(vaccel_session_release(&blas), VACCEL_OK);
	EXPECT_EQ(vaccel_session_release(&noop), VACCEL_OK);
}

TEST(Concurrency, OneResourceManySessions)
{
	ASSERT_EQ(Boot(Path("PLUGIN_NOOP")), VACCEL_OK);
	struct vaccel_resource res;
	ASSERT_EQ(vaccel_resource_init(&res, Path("MYTESTLIB").c_str(),
				       VACCEL_RESOURCE_DATA),
		  VACCEL_OK);
	std::atomic<int> failures{ 0 };
	std::atomic<long> peak{ 0 };
	std::vector<std::thread> ts;
	for (int t = 0; t < kThreads; t++)
		ts.emplace_back([&] {
			for (int i = 0; i < kIters / 10; i++) {
				struct vaccel_session s;
				if (vaccel_session_init(&s, 0) ||
				    vaccel_resource_register(&res, &s)) {
					failures++;
					continue;
				}
				long rc = vaccel_resource_refcount(&res);
				if (rc < 1 || rc > kThreads)
					failures++;
				if (rc > peak)
					peak = rc;
				if (vaccel_session_release(&s))
					failures++;
			}
		});
	for (auto &t : ts)
		t.join();
	EXPECT_EQ(failures.load(), 0);
	EXPECT_EQ(vaccel_resource_refcount(&res), 0)
		<< "every registration was dropped";
	EXPECT_EQ(vaccel_resource_release(&res), VACCEL_OK);
}

} // namespace
