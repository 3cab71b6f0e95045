// Double fetch: while the agent processes a guest's requests, another guest thread keeps
// rewriting the argument tables and payload those requests name, flipping offsets and
// lengths between valid and invalid values. The host copied and validated each table once,
// so it may only answer with results or errors: it must never read or write outside the
// region or crash (this test also runs under ASan), and it keeps serving afterwards. The
// same for the tensor records of a torch model run.
#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <thread>

extern "C" {
#include <vaccel.h>

#include "transport/tensor.h"
}

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

// The same for a torch model run (tensor records): while the host copies and checks the
// records, the guest rewrites them (dtype, dim count, dims, sizes) and the argument table.
// Each request gets a result or an error; the outputs never land outside the output area.
TEST(DoubleFetch, TensorRecordsChangingUnderTheHostOnlySpoilResults)
{
	e2e::Agent agent({"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_NOOP")), "--pool", "4k:64,64k:16"});
	ASSERT_TRUE(agent.ok()) << agent.Log();
	Hostile h;
	ASSERT_TRUE(h.Connect(agent.socket()));
	vtr_sqe si{};
	si.opcode = VTR_OP_SESS_INIT;
	si.op = VACCEL_PLUGIN_DEBUG; // the noop plugin: run copies inputs to outputs
	int32_t sess = h.Call(si);
	ASSERT_GT(sess, 0);

	// A model resource: (name, bytes), then the run's arguments, all in the pool.
	const uint64_t base = h.pool_off, names = base + 512, rec = base + 1024, data = base + 2048,
		       orec = base + 4096, area = base + 8192, guard = area + 1024;
	strcpy(h.At(names), "m.pt");
	memcpy(h.At(names + 64), "model bytes", 11);
	auto *table = reinterpret_cast<vtr_arg *>(h.At(base));
	table[0] = {names, 5, VACCEL_ARG_STRING, VTR_ARG_IN};
	table[1] = {names + 64, 11, VACCEL_ARG_RAW, VTR_ARG_IN};
	vtr_sqe sr{};
	sr.opcode = VTR_OP_RES_REGISTER;
	sr.sess_id = (uint32_t)sess;
	sr.op = VACCEL_RESOURCE_MODEL;
	sr.args_off = base;
	sr.nr_args = 2;
	int32_t handle = h.Call(sr);
	ASSERT_GT(handle, 0) << agent.Log();
	*reinterpret_cast<uint64_t *>(h.At(names + 128)) = (uint64_t)handle;

	vtr_tensor good_rec{};
	good_rec.dtype = VACCEL_TORCH_FLOAT;
	good_rec.nr_dims = 2;
	good_rec.size = 64;
	good_rec.dims[0] = 4;
	good_rec.dims[1] = 4;
	for (int i = 0; i < 16; i++)
		reinterpret_cast<float *>(h.At(data))[i] = (float)i;
	memset(h.At(guard), 0x5a, 1024);
	const vtr_arg good[6] = {
		{names + 128, 8, VACCEL_ARG_UINT64, VTR_ARG_IN}, {names, 0, VACCEL_ARG_RAW, VTR_ARG_IN},
		{rec, sizeof(vtr_tensor), VACCEL_ARG_RAW, VTR_ARG_IN}, {data, 64, VACCEL_ARG_RAW, VTR_ARG_IN},
		{orec, sizeof(vtr_tensor), VACCEL_ARG_RAW, VTR_ARG_OUT}, {area, 1024, VACCEL_ARG_RAW, VTR_ARG_OUT},
	};
	memcpy(table, good, sizeof(good));
	auto *r = reinterpret_cast<vtr_tensor *>(h.At(rec));
	*r = good_rec;

	std::atomic<bool> stop{false};
	std::atomic<uint64_t> flips{0};
	std::thread flipper([&] {
		std::mt19937_64 rng(11);
		const int64_t bad_dim[] = {-1, 0, 1ll << 40, INT64_MAX, INT64_MIN, 3};
		while (!stop) {
			volatile vtr_tensor *vr = r;
			volatile vtr_arg *t = table;
			switch (rng() % 7) {
			case 0: vr->dtype = (uint32_t)(rng() % 10); break;
			case 1: vr->nr_dims = (uint32_t)(rng() % 2 ? rng() : rng() % 10); break;
			case 2: vr->dims[rng() % VTR_TENSOR_MAX_DIMS] = bad_dim[rng() % 6]; break;
			case 3: vr->size = rng() % 2 ? rng() : 64 + (rng() % 3) * 4; break;
			case 4: t[2 + rng() % 4].len = rng() % 2 ? 1ull << 40 : rng() % 200; break;
			case 5: t[5].len = rng() % 128; break; // an area too small for the output
			default:
				memcpy(table, good, sizeof(good)); // valid again for a while
				*r = good_rec;
			}
			flips.fetch_add(1, std::memory_order_relaxed);
		}
	});
	while (flips.load() < 1000)
		std::this_thread::yield();
	int ok = 0, refused = 0;
	auto t_end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
	vtr_sqe s{};
	s.opcode = VTR_OP_VACCEL;
	s.op = VACCEL_OP_TORCH_MODEL_RUN;
	s.sess_id = (uint32_t)sess;
	s.args_off = base;
	s.nr_args = 6;
	for (int i = 0; i < 5000 || (refused < 100 && std::chrono::steady_clock::now() < t_end); i++) {
		int32_t res = h.Call(s);
		ASSERT_LT(res, 1000) << "no completion for request " << i << "\n" << agent.Log();
		if (res == 0)
			ok++;
		else
			refused++;
	}
	stop = true;
	flipper.join();
	EXPECT_GT(refused, 0) << "the flips never produced an invalid request: the test proved nothing";
	EXPECT_EQ(kill(agent.pid(), 0), 0) << "agent died";
	for (int i = 0; i < 1024; i++)
		ASSERT_EQ((unsigned char)h.At(guard)[i], 0x5a) << "the host wrote past the output area";

	// Still serving: with the records left alone, the output is the input (noop).
	memcpy(table, good, sizeof(good));
	*r = good_rec;
	ASSERT_EQ(h.Call(s), 0) << agent.Log();
	const vtr_tensor *o = reinterpret_cast<const vtr_tensor *>(h.At(orec));
	EXPECT_EQ(o->size, 64u);
	EXPECT_EQ(o->nr_dims, 2u);
	ASSERT_LE(o->off + o->size, 1024u);
	EXPECT_EQ(memcmp(h.At(area + o->off), h.At(data), 64), 0);
	printf("%d torch runs served, %d refused while their records changed\n", ok, refused);
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
}

} // namespace
