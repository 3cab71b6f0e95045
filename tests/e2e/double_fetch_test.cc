// Double fetch: while the agent processes a guest's requests, another guest thread keeps
// rewriting the argument tables and payload those requests name, flipping offsets and
// lengths between valid and invalid values. The host copied and validated each table once,
// so it may only answer with results or errors: it must never read or write outside the
// region or crash (this test also runs under ASan), and it keeps serving afterwards.
#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include "agent_util.h"
#include "hostile_client.h"

namespace {

using e2e::Hostile;

TEST(DoubleFetch, TablesChangingUnderTheHostOnlySpoilResults)
{
	e2e::Agent agent({"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_BLAS")), "--pool", "4k:64,64k:16"});
	ASSERT_TRUE(agent.ok()) << agent.Log();
	Hostile h;
	ASSERT_TRUE(h.Connect(agent.socket()));
	vtr_sqe si{};
	si.opcode = VTR_OP_SESS_INIT;
	si.op = 0x1; // CPU: the blas plugin
	int32_t sess = h.Call(si);
	ASSERT_GT(sess, 0);

	// An sgemm 8x8x8 laid out in the pool: scalars, matrices and the table.
	const uint64_t base = h.pool_off, scal = base + 1024, a = base + 4096, b = a + 256, c = b + 256;
	auto *sc = reinterpret_cast<int64_t *>(h.At(scal));
	sc[0] = 8; // m, n, k, lda, ldb, ldc all 8
	float one = 1.0f, zero = 0.0f;
	memcpy(h.At(scal + 8), &one, 4);
	memcpy(h.At(scal + 16), &zero, 4);
	for (int i = 0; i < 64; i++) {
		reinterpret_cast<float *>(h.At(a))[i] = 1.0f;
		reinterpret_cast<float *>(h.At(b))[i] = 2.0f;
	}
	const vtr_arg good[11] = {
		{scal, 8, 0, VTR_ARG_IN},  {scal, 8, 0, VTR_ARG_IN},      {scal, 8, 0, VTR_ARG_IN},
		{scal + 8, 4, 0, VTR_ARG_IN}, {a, 256, 0, VTR_ARG_IN},    {scal, 8, 0, VTR_ARG_IN},
		{b, 256, 0, VTR_ARG_IN},   {scal, 8, 0, VTR_ARG_IN},      {scal + 16, 4, 0, VTR_ARG_IN},
		{scal, 8, 0, VTR_ARG_IN},  {c, 256, 0, VTR_ARG_OUT},
	};
	auto *table = reinterpret_cast<vtr_arg *>(h.At(base));
	memcpy(table, good, sizeof(good));

	std::atomic<bool> stop{false};
	std::atomic<uint64_t> flips{0};
	std::thread flipper([&] {
		std::mt19937_64 rng(7);
		const uint64_t bad_off[] = {0, 8, vshm_region_size(h.reg) - 8, UINT64_MAX - 100, c + 64};
		const uint64_t bad_len[] = {UINT64_MAX, 1ull << 40, 0, 3, 1 << 20};
		while (!stop) {
			int i = (int)(rng() % 11);
			volatile vtr_arg *t = table;
			switch (rng() % 5) {
			case 0: t[i].off = bad_off[rng() % 5]; break;
			case 1: t[i].len = bad_len[rng() % 5]; break;
			case 2: t[i].flags = (uint32_t)rng(); break;
			case 3: sc[0] = (int64_t)(rng() % 2 ? 1 << 20 : -5); break; // dimensions lie
			default:
				memcpy(table, good, sizeof(good)); // valid again for a while
				sc[0] = 8;
			}
			flips.fetch_add(1, std::memory_order_relaxed);
		}
	});
	// The flipper must be running before the requests start, or they may all finish first.
	while (flips.load() < 1000)
		std::this_thread::yield();
	int ok = 0, refused = 0;
	auto t_end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
	// At least 20000 requests, and on until some were refused (bounded in time).
	for (int i = 0; i < 20000 || (refused < 100 && std::chrono::steady_clock::now() < t_end); i++) {
		vtr_sqe s{};
		s.opcode = VTR_OP_VACCEL;
		s.op = 17; // VACCEL_OP_BLAS_SGEMM
		s.sess_id = (uint32_t)sess;
		s.args_off = base;
		s.nr_args = 11;
		int32_t r = h.Call(s);
		ASSERT_LT(r, 1000) << "no completion for request " << i << "\n" << agent.Log();
		if (r == 0)
			ok++;
		else
			refused++;
	}
	stop = true;
	flipper.join();
	EXPECT_GT(refused, 0) << "the flips never produced an invalid request: the test proved nothing";
	EXPECT_EQ(kill(agent.pid(), 0), 0) << "agent died";

	// Still serving: with the table left alone, the result is right.
	memcpy(table, good, sizeof(good));
	sc[0] = 8;
	vtr_sqe s{};
	s.opcode = VTR_OP_VACCEL;
	s.op = 17;
	s.sess_id = (uint32_t)sess;
	s.args_off = base;
	s.nr_args = 11;
	ASSERT_EQ(h.Call(s), 0);
	for (int i = 0; i < 64; i++)
		ASSERT_EQ(reinterpret_cast<float *>(h.At(c))[i], 16.0f) << "C = A x B with 1s and 2s, k = 8";
	printf("%d requests served, %d refused while their tables changed\n", ok, refused);
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
}

} // namespace
