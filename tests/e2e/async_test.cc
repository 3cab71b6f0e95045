// Asynchronous submission through the transport: user_data round trip, results, the
// in-flight limit (VACCEL_EAGAIN or a wait), 4 threads with 64 requests in flight each,
// mixing with synchronous calls, the local fallback, and a thread without a queue of its own.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include <vaccel.h>
}

#include "agent_util.h"

namespace {

e2e::Agent *StartAgent(std::vector<std::string> extra = {})
{
	std::vector<std::string> args = {"--plugins",
					 e2e::Abs(e2e::Runfile("PLUGIN_NOOP")) + ":" + e2e::Abs(e2e::Runfile("PLUGIN_BLAS")),
					 "--pool", "4k:512,64k:64,1m:16"};
	args.insert(args.end(), extra.begin(), extra.end());
	return new e2e::Agent(args, "async");
}

void Boot(const std::string &sock)
{
	vaccel_cleanup();
	std::string plugins = e2e::Abs(e2e::Runfile("PLUGIN_SHM")) + ":" + e2e::Abs(e2e::Runfile("PLUGIN_NOOP")) +
			      ":" + e2e::Abs(e2e::Runfile("PLUGIN_BLAS"));
	setenv("VACCEL_PLUGINS", plugins.c_str(), 1);
	setenv("VACCEL_SHM_SOCKET", sock.c_str(), 1);
	setenv("OPENBLAS_NUM_THREADS", "1", 1);
	ASSERT_EQ(vaccel_bootstrap(), VACCEL_OK);
}

class Async : public testing::Test {
      protected:
	void SetUp() override
	{
		agent_.reset(StartAgent());
		ASSERT_TRUE(agent_->ok()) << agent_->Log();
		Boot(agent_->socket());
		ASSERT_EQ(vaccel_session_init(&dbg_, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG), VACCEL_OK);
	}
	void TearDown() override
	{
		vaccel_session_release(&dbg_);
		vaccel_cleanup();
		EXPECT_EQ(agent_->Stop(), 0) << agent_->Log();
	}
	std::unique_ptr<e2e::Agent> agent_;
	vaccel_session dbg_{};
};

TEST_F(Async, UserDataComesBackOncePerRequest)
{
	std::set<uint64_t> want;
	for (uint64_t i = 0; i < 100; i++) {
		uint64_t ud = 0xabc0000000ull + i * 7;
		want.insert(ud);
		// Batches of 10: nine queued with MORE, the tenth publishes all.
		ASSERT_EQ(vaccel_noop_async(&dbg_, ud, i % 10 == 9 ? 0 : VACCEL_ASYNC_MORE), VACCEL_OK);
	}
	EXPECT_EQ(vaccel_async_inflight(&dbg_), 100u);
	std::vector<vaccel_completion> c(128);
	std::set<uint64_t> got;
	unsigned total = 0;
	while (total < 100) {
		unsigned n = 0;
		ASSERT_EQ(vaccel_async_reap(&dbg_, c.data(), 1, 128, 5000, &n), VACCEL_OK);
		for (unsigned i = 0; i < n; i++) {
			EXPECT_EQ(c[i].ret, VACCEL_OK);
			EXPECT_TRUE(got.insert(c[i].user_data).second) << "duplicate completion";
		}
		total += n;
	}
	EXPECT_EQ(got, want);
	unsigned n = 7;
	EXPECT_EQ(vaccel_async_reap(&dbg_, c.data(), 1, 1, 100, &n), VACCEL_ETIMEDOUT)
		<< "nothing in flight: nothing can come";
	EXPECT_EQ(n, 0u);
	EXPECT_EQ(vaccel_async_inflight(&dbg_), 0u);
}

TEST_F(Async, SgemmResultsLandInTheCallersBuffers)
{
	vaccel_session blas;
	ASSERT_EQ(vaccel_session_init(&blas, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_CPU), VACCEL_OK);
	const int N = 24, M = 16;
	int op = VACCEL_OP_BLAS_SGEMM;
	long long m = M, n = M, k = M, ld = M;
	float alpha = 1.0f, beta = 0.0f;
	std::vector<std::vector<float>> a(N, std::vector<float>(M * M)), c(N, std::vector<float>(M * M, -1));
	std::vector<float> ident(M * M, 0);
	for (int i = 0; i < M; i++)
		ident[i * M + i] = 1;
	std::vector<std::vector<vaccel_arg>> rd(N), wr(N);
	for (int r = 0; r < N; r++) {
		for (int i = 0; i < M * M; i++)
			a[r][i] = (float)(r * 1000 + i);
		rd[r] = {{&op, sizeof(op), VACCEL_ARG_INT32, 0, false},
			 {&m, 8, VACCEL_ARG_INT64, 0, false},
			 {&n, 8, VACCEL_ARG_INT64, 0, false},
			 {&k, 8, VACCEL_ARG_INT64, 0, false},
			 {&alpha, 4, VACCEL_ARG_FLOAT32, 0, false},
			 {a[r].data(), a[r].size() * 4, VACCEL_ARG_FLOAT32_ARRAY, 0, false},
			 {&ld, 8, VACCEL_ARG_INT64, 0, false},
			 {ident.data(), ident.size() * 4, VACCEL_ARG_FLOAT32_ARRAY, 0, false},
			 {&ld, 8, VACCEL_ARG_INT64, 0, false},
			 {&beta, 4, VACCEL_ARG_FLOAT32, 0, false},
			 {&ld, 8, VACCEL_ARG_INT64, 0, false}};
		wr[r] = {{c[r].data(), c[r].size() * 4, VACCEL_ARG_FLOAT32_ARRAY, 0, false}};
		ASSERT_EQ(vaccel_genop_async(&blas, rd[r].data(), 11, wr[r].data(), 1, r, 0), VACCEL_OK);
	}
	std::vector<vaccel_completion> done(N);
	unsigned got = 0;
	ASSERT_EQ(vaccel_async_reap(&blas, done.data(), N, N, 10000, &got), VACCEL_OK);
	ASSERT_EQ(got, (unsigned)N);
	for (auto &d : done) {
		ASSERT_EQ(d.ret, VACCEL_OK);
		EXPECT_EQ(c[d.user_data], a[d.user_data]) << "A x I = A for request " << d.user_data;
	}
	vaccel_session_release(&blas);
}

TEST_F(Async, InFlightLimitIsEagainOrAWait)
{
	// A guest with a 16-entry completion ring may have 16 requests in flight.
	std::unique_ptr<e2e::Agent> small(StartAgent({"--cq-entries", "16", "--sq-entries", "16"}));
	ASSERT_TRUE(small->ok()) << small->Log();
	vaccel_session_release(&dbg_);
	Boot(small->socket());
	ASSERT_EQ(vaccel_session_init(&dbg_, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG), VACCEL_OK);
	int ok = 0, ret;
	while ((ret = vaccel_noop_async(&dbg_, ok, 0)) == VACCEL_OK && ok < 1000)
		ok++;
	EXPECT_EQ(ret, VACCEL_EAGAIN);
	EXPECT_EQ(ok, 16) << "exactly the completion ring's size";
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(vaccel_noop_async(&dbg_, 1000 + i, VACCEL_ASYNC_WAIT), VACCEL_OK)
			<< "with WAIT the submit waits for room";
	std::vector<vaccel_completion> c(256);
	unsigned total = 0, n;
	while (total < 116) {
		ASSERT_EQ(vaccel_async_reap(&dbg_, c.data(), 1, 256, 5000, &n), VACCEL_OK);
		total += n;
	}
	EXPECT_EQ(total, 116u);
	vaccel_session_release(&dbg_);
	vaccel_cleanup();
	EXPECT_EQ(small->Stop(), 0) << small->Log();
	Boot(agent_->socket());
	ASSERT_EQ(vaccel_session_init(&dbg_, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG), VACCEL_OK);
}

// Submitting with VACCEL_ASYNC_WAIT far beyond the completion ring without reaping: every
// completion met while waiting for room is kept, none overwritten, for the reap at the end.
TEST_F(Async, WaitingSubmitsKeepEveryCompletion)
{
	std::unique_ptr<e2e::Agent> small(StartAgent({"--cq-entries", "16", "--sq-entries", "16"}));
	ASSERT_TRUE(small->ok()) << small->Log();
	vaccel_session_release(&dbg_);
	Boot(small->socket());
	ASSERT_EQ(vaccel_session_init(&dbg_, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG), VACCEL_OK);
	const uint64_t n = 200;
	for (uint64_t i = 0; i < n; i++)
		ASSERT_EQ(vaccel_noop_async(&dbg_, 5000 + i, VACCEL_ASYNC_WAIT), VACCEL_OK) << i;
	EXPECT_EQ(vaccel_async_inflight(&dbg_), n) << "submitted and not yet reaped";
	std::vector<vaccel_completion> c(n + 8);
	std::set<uint64_t> got;
	unsigned total = 0, k = 0;
	while (total < n) {
		ASSERT_EQ(vaccel_async_reap(&dbg_, c.data(), 1, (unsigned)c.size(), 5000, &k), VACCEL_OK);
		for (unsigned i = 0; i < k; i++) {
			EXPECT_EQ(c[i].ret, VACCEL_OK);
			EXPECT_TRUE(got.insert(c[i].user_data).second) << "completion " << c[i].user_data << " twice";
		}
		total += k;
	}
	EXPECT_EQ(total, n);
	EXPECT_EQ(got.size(), n);
	EXPECT_EQ(*got.begin(), 5000u);
	EXPECT_EQ(*got.rbegin(), 5000 + n - 1);
	vaccel_session_release(&dbg_);
	vaccel_cleanup();
	EXPECT_EQ(small->Stop(), 0) << small->Log();
	Boot(agent_->socket());
	ASSERT_EQ(vaccel_session_init(&dbg_, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG), VACCEL_OK);
}

// The generic entry with a noop (vaccel_genop_async) and the noop entry (vaccel_noop_async)
// mixed in one batch: both reach the agent and come back in order.
TEST_F(Async, GenopNoopAndNoopMix)
{
	int32_t op = VACCEL_OP_NOOP;
	vaccel_arg rd[1] = {{&op, sizeof(op), VACCEL_ARG_INT32, 0, false}};
	for (uint64_t i = 0; i < 40; i++) {
		unsigned f = i % 8 == 7 ? 0 : VACCEL_ASYNC_MORE;
		if (i % 2)
			ASSERT_EQ(vaccel_genop_async(&dbg_, rd, 1, nullptr, 0, i, f), VACCEL_OK);
		else
			ASSERT_EQ(vaccel_noop_async(&dbg_, i, f), VACCEL_OK);
	}
	std::vector<vaccel_completion> c(40);
	unsigned n = 0;
	ASSERT_EQ(vaccel_async_reap(&dbg_, c.data(), 40, 40, 5000, &n), VACCEL_OK);
	ASSERT_EQ(n, 40u);
	for (unsigned i = 0; i < n; i++) {
		EXPECT_EQ(c[i].user_data, i) << "in submission order";
		EXPECT_EQ(c[i].ret, VACCEL_OK);
	}
	EXPECT_EQ(vaccel_noop_async(&dbg_, 1, 0x100), VACCEL_EINVAL) << "unknown flags";
}

TEST_F(Async, FourThreadsWith64InFlightEach)
{
	const int per_thread = 3000;
	std::atomic<int> failures{0};
	auto worker = [&](int t) {
		std::vector<int> seen(per_thread, 0);
		std::vector<vaccel_completion> c(64);
		int next = 0, done = 0;
		while (done < per_thread) {
			while (next < per_thread && vaccel_async_inflight(&dbg_) < 64) {
				if (vaccel_noop_async(&dbg_, ((uint64_t)t << 32) | next, 0) != VACCEL_OK) {
					failures++;
					return;
				}
				next++;
			}
			unsigned n = 0;
			if (vaccel_async_reap(&dbg_, c.data(), 1, 64, 5000, &n) != VACCEL_OK) {
				failures++;
				return;
			}
			for (unsigned i = 0; i < n; i++) {
				if ((c[i].user_data >> 32) != (uint64_t)t || c[i].ret != VACCEL_OK ||
				    seen[c[i].user_data & 0xffffffff]++) {
					failures++;
					return;
				}
			}
			done += n;
		}
	};
	std::vector<std::thread> ts;
	for (int t = 0; t < 4; t++)
		ts.emplace_back(worker, t);
	for (auto &t : ts)
		t.join();
	EXPECT_EQ(failures.load(), 0) << "a completion was lost, duplicated or misrouted";
}

TEST_F(Async, MixesWithSynchronousCalls)
{
	for (int i = 0; i < 10; i++)
		ASSERT_EQ(vaccel_noop_async(&dbg_, i, 0), VACCEL_OK);
	ASSERT_EQ(vaccel_noop(&dbg_), VACCEL_OK) << "a synchronous call while requests are in flight";
	std::vector<vaccel_completion> c(16);
	unsigned n = 0;
	ASSERT_EQ(vaccel_async_reap(&dbg_, c.data(), 10, 16, 5000, &n), VACCEL_OK);
	EXPECT_EQ(n, 10u) << "the completions met by the synchronous wait were kept";
}

TEST_F(Async, LocalPluginsRunAtSubmit)
{
	vaccel_session local;
	ASSERT_EQ(vaccel_session_init(&local, VACCEL_PLUGIN_DEBUG), VACCEL_OK);
	ASSERT_FALSE(local.is_virtio);
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(vaccel_noop_async(&local, 50 + i, 0), VACCEL_OK);
	std::vector<vaccel_completion> c(8);
	unsigned n = 0;
	ASSERT_EQ(vaccel_async_reap(&local, c.data(), 5, 8, 0, &n), VACCEL_OK);
	ASSERT_EQ(n, 5u);
	EXPECT_EQ(c[0].user_data, 50u);
	vaccel_session_release(&local);
}

TEST_F(Async, AThreadWithoutItsOwnQueueIsTold)
{
	std::unique_ptr<e2e::Agent> one(StartAgent({"--qps", "1"}));
	ASSERT_TRUE(one->ok()) << one->Log();
	vaccel_session_release(&dbg_);
	Boot(one->socket());
	ASSERT_EQ(vaccel_session_init(&dbg_, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG), VACCEL_OK);
	EXPECT_EQ(vaccel_noop(&dbg_), VACCEL_OK) << "synchronous calls share the last pair";
	EXPECT_EQ(vaccel_noop_async(&dbg_, 1, 0), VACCEL_EBUSY);
	vaccel_session_release(&dbg_);
	vaccel_cleanup();
	EXPECT_EQ(one->Stop(), 0);
	Boot(agent_->socket());
	ASSERT_EQ(vaccel_session_init(&dbg_, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG), VACCEL_OK);
}

} // namespace
