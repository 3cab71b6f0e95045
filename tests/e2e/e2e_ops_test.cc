// Every op through the transport, against a real agent process, gives the same result as
// the local plugin in this same process: sgemm element-wise, exec outputs, genop; and the
// agent's policy and error paths (exec allow-list, guest-shipped code, no agent at all).
#include <gtest/gtest.h>

#include <stdlib.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

extern "C" {
#include <vaccel.h>
}

#include "agent_util.h"

namespace {

std::string Dir(const std::string &p)
{
	return p.substr(0, p.rfind('/'));
}

int Boot(const std::string &socket)
{
	vaccel_cleanup();
	std::string plugins = e2e::Abs(e2e::Runfile("PLUGIN_SHM")) + ":" + e2e::Abs(e2e::Runfile("PLUGIN_BLAS")) +
			      ":" + e2e::Abs(e2e::Runfile("PLUGIN_EXEC"));
	setenv("VACCEL_PLUGINS", plugins.c_str(), 1);
	setenv("VACCEL_SHM_SOCKET", socket.c_str(), 1);
	return vaccel_bootstrap();
}

class E2eOps : public testing::Test {
      protected:
	static void SetUpTestSuite()
	{
		setenv("OPENBLAS_NUM_THREADS", "1", 1);
		std::string lib = e2e::Abs(e2e::Runfile("TESTLIB"));
		agent_ = new e2e::Agent({"--plugins",
					 e2e::Abs(e2e::Runfile("PLUGIN_BLAS")) + ":" + e2e::Abs(e2e::Runfile("PLUGIN_EXEC")) +
						 ":" + e2e::Abs(e2e::Runfile("PLUGIN_NOOP")),
					 "--pool", "4k:256,64k:64,1m:16,4m:4", "--exec-allow", Dir(lib)});
	}
	static void TearDownTestSuite()
	{
		vaccel_cleanup();
		EXPECT_EQ(agent_->Stop(), 0) << "agent must exit 0 on SIGTERM\n" << agent_->Log();
		delete agent_;
	}
	void SetUp() override
	{
		ASSERT_TRUE(agent_->ok()) << agent_->Log();
		ASSERT_EQ(Boot(agent_->socket()), VACCEL_OK);
		ASSERT_EQ(vaccel_session_init(&remote_, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_CPU), VACCEL_OK)
			<< agent_->Log();
		ASSERT_EQ(vaccel_session_init(&local_, VACCEL_PLUGIN_CPU), VACCEL_OK);
	}
	void TearDown() override
	{
		vaccel_session_release(&remote_);
		vaccel_session_release(&local_);
	}
	static e2e::Agent *agent_;
	vaccel_session remote_{}, local_{};
};
e2e::Agent *E2eOps::agent_;

TEST_F(E2eOps, SessionsBindToTheRightPlugins)
{
	EXPECT_TRUE(remote_.is_virtio) << "REMOTE must pick the transport plugin";
	EXPECT_GT(remote_.remote_id, 0) << "the host session id";
	EXPECT_FALSE(local_.is_virtio);
	EXPECT_STREQ(remote_.plugin->info->name, "shm");
}

TEST_F(E2eOps, NoopThroughTheTransport)
{
	vaccel_session dbg;
	ASSERT_EQ(vaccel_session_init(&dbg, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG), VACCEL_OK);
	for (int i = 0; i < 1000; i++)
		ASSERT_EQ(vaccel_noop(&dbg), VACCEL_OK);
	EXPECT_EQ(vaccel_session_release(&dbg), VACCEL_OK);
	// The blas host plugin has no noop: the agent routes it to the noop plugin (issue 16.1;
	// route_test checks the answer when no plugin has the op).
	EXPECT_EQ(vaccel_noop(&remote_), VACCEL_OK);
}

struct Dims {
	int m, n, k, pad;
};

class E2eSgemm : public E2eOps, public testing::WithParamInterface<Dims> {};

TEST_P(E2eSgemm, MatchesLocalElementWise)
{
	Dims d = GetParam();
	int lda = d.k + d.pad, ldb = d.n + d.pad, ldc = d.n + d.pad;
	std::mt19937 rng(d.m * 131 + d.n * 7 + d.k);
	std::uniform_real_distribution<float> u(-1, 1);
	std::vector<float> a((size_t)d.m * lda), b((size_t)d.k * ldb), c0((size_t)d.m * ldc);
	for (auto &x : a)
		x = u(rng);
	for (auto &x : b)
		x = u(rng);
	for (auto &x : c0)
		x = u(rng);
	std::vector<float> cr = c0, cl = c0;
	ASSERT_EQ(vaccel_sgemm(&remote_, d.m, d.n, d.k, 1.5f, a.data(), lda, b.data(), ldb, 0.25f,
			       cr.data(), ldc),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_sgemm(&local_, d.m, d.n, d.k, 1.5f, a.data(), lda, b.data(), ldb, 0.25f,
			       cl.data(), ldc),
		  VACCEL_OK);
	size_t diff = 0;
	for (size_t i = 0; i < cr.size(); i++)
		if (cr[i] != cl[i])
			diff++;
	EXPECT_EQ(diff, 0u) << "same OpenBLAS, same thread count: results must be identical";
}

INSTANTIATE_TEST_SUITE_P(Sizes, E2eSgemm,
			 testing::Values(Dims{1, 1, 1, 0}, Dims{17, 33, 5, 0}, Dims{17, 33, 5, 3},
					 Dims{512, 512, 512, 0}, Dims{100, 3, 250, 1}));

TEST_F(E2eOps, ExecMatchesLocal)
{
	vaccel_session rg, lg;
	ASSERT_EQ(vaccel_session_init(&rg, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_GENERIC), VACCEL_OK);
	ASSERT_EQ(vaccel_session_init(&lg, VACCEL_PLUGIN_GENERIC), VACCEL_OK);
	std::string lib = e2e::Abs(e2e::Runfile("TESTLIB"));
	for (int x : {0, 21, -7, 1 << 20}) {
		int outr = -1, outl = -2;
		vaccel_arg rd[1] = {{&x, sizeof(x), VACCEL_ARG_RAW, 0, false}};
		vaccel_arg wr[1] = {{&outr, sizeof(outr), VACCEL_ARG_RAW, 0, false}};
		ASSERT_EQ(vaccel_exec(&rg, lib.c_str(), "mytestfunc", rd, 1, wr, 1), VACCEL_OK);
		wr[0].buf = &outl;
		ASSERT_EQ(vaccel_exec(&lg, lib.c_str(), "mytestfunc", rd, 1, wr, 1), VACCEL_OK);
		EXPECT_EQ(outr, outl) << "x=" << x;
		EXPECT_EQ(outr, 2 * x);
	}
	int x = 1, out = 0;
	vaccel_arg rd[1] = {{&x, sizeof(x), VACCEL_ARG_RAW, 0, false}};
	vaccel_arg wr[1] = {{&out, sizeof(out), VACCEL_ARG_RAW, 0, false}};
	EXPECT_NE(vaccel_exec(&rg, lib.c_str(), "no_such_symbol", rd, 1, wr, 1), VACCEL_OK);
	EXPECT_EQ(vaccel_exec(&rg, "/usr/lib/x86_64-linux-gnu/libm.so.6", "cos", rd, 1, wr, 1),
		  VACCEL_EPERM)
		<< "a library outside --exec-allow must be refused";
	EXPECT_TRUE(agent_->WaitLog("not under --exec-allow")) << agent_->Log();
	vaccel_session_release(&rg);
	vaccel_session_release(&lg);
}

TEST_F(E2eOps, GenopMatchesLocal)
{
	const int m = 9, n = 11, k = 13;
	std::vector<float> a(m * k), b(k * n), cr(m * n, 1.0f), cl(m * n, 1.0f);
	for (int i = 0; i < m * k; i++)
		a[i] = (float)(i % 5) * 0.5f;
	for (int i = 0; i < k * n; i++)
		b[i] = (float)(i % 3) - 1;
	int op = VACCEL_OP_BLAS_SGEMM;
	long long mm = m, nn = n, kk = k, lda = k, ldb = n, ldc = n;
	float alpha = 2.0f, beta = 3.0f;
	auto run = [&](vaccel_session *s, std::vector<float> &c) {
		vaccel_arg rd[11] = {
			{&op, sizeof(op), VACCEL_ARG_INT32, 0, false},
			{&mm, 8, VACCEL_ARG_INT64, 0, false},
			{&nn, 8, VACCEL_ARG_INT64, 0, false},
			{&kk, 8, VACCEL_ARG_INT64, 0, false},
			{&alpha, 4, VACCEL_ARG_FLOAT32, 0, false},
			{a.data(), a.size() * 4, VACCEL_ARG_FLOAT32_ARRAY, 0, false},
			{&lda, 8, VACCEL_ARG_INT64, 0, false},
			{b.data(), b.size() * 4, VACCEL_ARG_FLOAT32_ARRAY, 0, false},
			{&ldb, 8, VACCEL_ARG_INT64, 0, false},
			{&beta, 4, VACCEL_ARG_FLOAT32, 0, false},
			{&ldc, 8, VACCEL_ARG_INT64, 0, false},
		};
		vaccel_arg wr[1] = {{c.data(), c.size() * 4, VACCEL_ARG_FLOAT32_ARRAY, 0, false}};
		return vaccel_genop(s, rd, 11, wr, 1);
	};
	ASSERT_EQ(run(&remote_, cr), VACCEL_OK);
	ASSERT_EQ(run(&local_, cl), VACCEL_OK);
	EXPECT_EQ(cr, cl);
	// An op with no genop form (upstream's table) answers ENOTSUP through
	// the transport too; a malformed image op is EINVAL before any plugin.
	int nogen = VACCEL_OP_TORCH_MODEL_RUN;
	vaccel_arg rd[1] = {{&nogen, sizeof(nogen), VACCEL_ARG_INT32, 0, false}};
	EXPECT_EQ(vaccel_genop(&remote_, rd, 1, nullptr, 0), VACCEL_ENOTSUP);
	nogen = VACCEL_OP_IMAGE_CLASSIFY;
	EXPECT_EQ(vaccel_genop(&remote_, rd, 1, nullptr, 0), VACCEL_EINVAL);
}

TEST_F(E2eOps, GuestShippedLibraryNeedsTheOperatorsFlag)
{
	vaccel_session rg;
	ASSERT_EQ(vaccel_session_init(&rg, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_GENERIC), VACCEL_OK);
	vaccel_resource res;
	ASSERT_EQ(vaccel_resource_init(&res, e2e::Abs(e2e::Runfile("TESTLIB")).c_str(), VACCEL_RESOURCE_LIB),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_resource_register(&res, &rg), VACCEL_OK) << "bytes shipped to the host";
	EXPECT_GT(res.remote_id, 0);
	int x = 4, out = 0;
	vaccel_arg rd[1] = {{&x, sizeof(x), VACCEL_ARG_RAW, 0, false}};
	vaccel_arg wr[1] = {{&out, sizeof(out), VACCEL_ARG_RAW, 0, false}};
	EXPECT_EQ(vaccel_exec_with_resource(&rg, &res, "mytestfunc", rd, 1, wr, 1), VACCEL_EPERM);
	EXPECT_TRUE(agent_->WaitLog("--allow-guest-code")) << "the refusal names the flag";
	EXPECT_EQ(vaccel_resource_unregister(&res, &rg), VACCEL_OK);
	vaccel_resource_release(&res);
	vaccel_session_release(&rg);

	// With the flag, the shipped library runs on the host.
	e2e::Agent permissive({"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_EXEC")), "--pool", "4k:64,1m:4",
			       "--allow-guest-code"},
			      "permissive");
	ASSERT_TRUE(permissive.ok()) << permissive.Log();
	ASSERT_EQ(Boot(permissive.socket()), VACCEL_OK);
	ASSERT_EQ(vaccel_session_init(&rg, VACCEL_PLUGIN_REMOTE), VACCEL_OK);
	ASSERT_EQ(vaccel_resource_init(&res, e2e::Abs(e2e::Runfile("TESTLIB")).c_str(), VACCEL_RESOURCE_LIB),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_resource_register(&res, &rg), VACCEL_OK);
	EXPECT_EQ(vaccel_exec_with_resource(&rg, &res, "mytestfunc", rd, 1, wr, 1), VACCEL_OK);
	EXPECT_EQ(out, 8);
	vaccel_resource_unregister(&res, &rg);
	vaccel_resource_release(&res);
	vaccel_session_release(&rg);
	vaccel_cleanup();
	EXPECT_EQ(permissive.Stop(), 0) << permissive.Log();
	EXPECT_NE(permissive.Log().find("gone"), std::string::npos) << "guest teardown was logged";
}

TEST(E2eNoAgent, SessionInitFailsClearly)
{
	std::string sock = e2e::SockPath("nobody-listens.sock");
	std::string log = e2e::TmpPath("noagent.log");
	setenv("VACCEL_LOG_FILE", log.c_str(), 1);
	ASSERT_EQ(Boot(sock), VACCEL_OK);
	vaccel_session s;
	EXPECT_EQ(vaccel_session_init(&s, VACCEL_PLUGIN_REMOTE), VACCEL_EIO);
	vaccel_cleanup();
	unsetenv("VACCEL_LOG_FILE");
	FILE *f = fopen(log.c_str(), "r");
	ASSERT_NE(f, nullptr) << "no log written";
	char buf[4096] = {};
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	std::string text(buf, n);
	EXPECT_NE(text.find(sock), std::string::npos) << "the error must name the socket: " << text;
	EXPECT_NE(text.find("VACCEL_SHM_SOCKET"), std::string::npos) << text;
}

} // namespace
