// A hostile guest attaches to the agent and writes garbage descriptors: unknown opcodes,
// offsets past the region, lengths that overflow, too many arguments, random bytes, and
// finally ring indices that jump. Each request gets an error completion (or, after the
// indices jump, the guest is ignored); a well-behaved guest on another region keeps getting
// right answers all along, and the agent stays up and exits 0.
#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "agent_util.h"
#include "hostile_client.h"

namespace {

using e2e::Hostile;

TEST(E2eHostile, GarbageGetsErrorsAndOthersKeepWorking)
{
	e2e::Agent agent({"--plugins",
			  e2e::Abs(e2e::Runfile("PLUGIN_BLAS")) + ":" + e2e::Abs(e2e::Runfile("PLUGIN_NOOP")),
			  "--pool", "4k:256,64k:16,1m:8", "--max-sessions", "8"});
	ASSERT_TRUE(agent.ok()) << agent.Log();
	// The well-behaved guest runs in its own process, on its own region, the whole time.
	pid_t good = e2e::Spawn({e2e::Abs(e2e::Runfile("GUEST_PROG")), "400", "1"},
				{"VACCEL_PLUGINS=" + e2e::Abs(e2e::Runfile("PLUGIN_SHM")),
				 "VACCEL_SHM_SOCKET=" + agent.socket(), "OPENBLAS_NUM_THREADS=1"},
				e2e::TmpPath("good.log"));

	Hostile h;
	ASSERT_TRUE(h.Connect(agent.socket())) << agent.Log();
	vtr_sqe s{};

	s = {};
	s.opcode = VTR_OP_MAX + 7;
	EXPECT_EQ(h.Call(s), -ENOSYS) << "unknown opcode";
	s = {};
	s.opcode = VTR_OP_VACCEL;
	s.nr_args = 1000;
	s.args_off = h.pool_off;
	EXPECT_EQ(h.Call(s), -E2BIG) << "too many arguments";
	s.nr_args = 2;
	s.args_off = vshm_region_size(h.reg) + 4096;
	EXPECT_EQ(h.Call(s), -EFAULT) << "table past the end of the region";
	s.args_off = 8; // inside the header, not the pool
	EXPECT_EQ(h.Call(s), -EFAULT) << "table outside the pool";
	s.args_off = UINT64_MAX - 8;
	EXPECT_EQ(h.Call(s), -EFAULT) << "table offset that wraps";

	// A table inside the pool whose arguments point outside it, or overflow.
	auto *args = reinterpret_cast<vtr_arg *>(h.At(h.pool_off));
	s.args_off = h.pool_off;
	s.nr_args = 1;
	args[0] = {vshm_region_size(h.reg) - 8, 64, 0, VTR_ARG_IN};
	EXPECT_EQ(h.Call(s), -EFAULT) << "argument running past the region";
	args[0] = {h.pool_off + 64, UINT64_MAX, 0, VTR_ARG_IN};
	EXPECT_EQ(h.Call(s), -EFAULT) << "length that overflows";
	args[0] = {UINT64_MAX - 16, 32, 0, VTR_ARG_IN};
	EXPECT_EQ(h.Call(s), -EFAULT) << "offset + length that wraps";
	args[0] = {h.pool_off + 64, 8, 0, 0x77};
	EXPECT_EQ(h.Call(s), -EINVAL) << "unknown argument flags";
	args[0] = {h.pool_off + 64, 8, 0, VTR_ARG_IN};
	s.sess_id = 12345;
	EXPECT_EQ(h.Call(s), -EINVAL) << "a session this guest does not have";

	// An sgemm whose dimensions claim more than the buffers hold: refused, not overrun.
	s = {};
	s.opcode = VTR_OP_SESS_INIT;
	s.op = 0x1; // CPU
	int32_t sess = h.Call(s);
	ASSERT_GT(sess, 0);
	int64_t *scal = reinterpret_cast<int64_t *>(h.At(h.pool_off + 1024));
	scal[0] = 1 << 20; // m
	scal[1] = 1 << 20; // n
	scal[2] = 1 << 20; // k
	float *fl = reinterpret_cast<float *>(h.At(h.pool_off + 1024 + 64));
	fl[0] = 1.0f;
	uint64_t mat = h.pool_off + 2048;
	vtr_arg sg[11] = {
		{h.pool_off + 1024, 8, 0, VTR_ARG_IN},      {h.pool_off + 1032, 8, 0, VTR_ARG_IN},
		{h.pool_off + 1040, 8, 0, VTR_ARG_IN},      {h.pool_off + 1024 + 64, 4, 0, VTR_ARG_IN},
		{mat, 64, 0, VTR_ARG_IN},                   {h.pool_off + 1032, 8, 0, VTR_ARG_IN},
		{mat, 64, 0, VTR_ARG_IN},                   {h.pool_off + 1032, 8, 0, VTR_ARG_IN},
		{h.pool_off + 1024 + 64, 4, 0, VTR_ARG_IN}, {h.pool_off + 1032, 8, 0, VTR_ARG_IN},
		{mat, 64, 0, VTR_ARG_OUT},
	};
	memcpy(args, sg, sizeof(sg));
	s = {};
	s.opcode = VTR_OP_VACCEL;
	s.op = 17; // VACCEL_OP_BLAS_SGEMM
	s.sess_id = (uint32_t)sess;
	s.args_off = h.pool_off;
	s.nr_args = 11;
	EXPECT_EQ(h.Call(s), -EINVAL) << "dimensions larger than the buffers";

	// Session limit: asking for more than --max-sessions is refused, not granted.
	int refused = 0;
	for (int i = 0; i < 20; i++) {
		vtr_sqe si{};
		si.opcode = VTR_OP_SESS_INIT;
		si.op = 0x100;
		if (h.Call(si) == -EMFILE)
			refused++;
	}
	EXPECT_GE(refused, 12) << "sessions are capped per guest";

	// Random descriptors: every one gets exactly one completion.
	std::mt19937_64 rng(42);
	int answered = 0;
	for (int i = 0; i < 5000; i++) {
		vtr_sqe r;
		uint64_t w[8];
		for (auto &x : w)
			x = rng();
		memcpy(&r, w, sizeof(r));
		if (r.opcode == VTR_OP_RES_REGISTER || r.opcode == VTR_OP_SESS_INIT)
			r.opcode = VTR_OP_NOP; // keep the random run from filling the guest's tables
		int32_t res = h.Call(r);
		if (res < 1000)
			answered++;
		else
			ADD_FAILURE() << "no completion for random descriptor " << i << ": " << res;
		if (res >= 1000)
			break;
	}
	EXPECT_EQ(answered, 5000);

	// Indices that jump: the agent stops serving this guest, and only this guest.
	h.qp.sq.sh->prod = h.qp.sq.head + 100000;
	uint64_t one = 1;
	ASSERT_EQ(write(vivs_client_peer(&h.cli, 0)->fds[0], &one, 8), 8);
	EXPECT_TRUE(agent.WaitLog("corrupt ring indices")) << agent.Log();

	EXPECT_EQ(e2e::Wait(good, 120), 0) << "the well-behaved guest must keep getting right answers\n"
					  << agent.Log();
	EXPECT_EQ(kill(agent.pid(), 0), 0) << "agent still alive";
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
}

} // namespace
