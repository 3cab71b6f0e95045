// Issue 16: an agent with two pollers (--cpus 0,1) starts, and serves ivshmem-plain regions
// and socket guests on both.
#include <gtest/gtest.h>

#include <unistd.h>

#include <vector>

#include "agent_probe.h"
#include "agent_util.h"
#include "hostile_client.h"

namespace {

using e2e::Hostile;

// A guest of a plain region: maps the file, polls queue pair 0 (no doorbells).
int32_t PlainCall(const std::string &path)
{
	vshm_region *reg = nullptr;
	vshm_err err;
	if (vshm_region_attach_path(path.c_str(), &reg, &err))
		return 1000;
	const vshm_area *a;
	void *mem = vshm_region_area(reg, VSHM_AREA_QP, 0, &a);
	vtr_doorbell none{-1, nullptr, 0};
	vtr_qp qp{};
	int32_t res = 1001;
	if (vtr_qp_attach(&qp, mem, a->size, a->param0, a->param1, VTR_QP_GUEST, -1, &none) == 0) {
		vtr_sqe s = e2e::UnknownOpSqe();
		s.user_data = 1;
		vtr_cqe c{};
		res = vtr_qp_submit(&qp, &s, 1) == 1 && vtr_qp_wait(&qp, &c, 1, 10000) == 1 ? c.res : 1002;
	}
	vshm_region_close(reg);
	return res;
}

TEST(TwoPollers, PlainRegionsAndSocketGuestsOnBoth)
{
	std::string p0 = e2e::TmpPath("plain0.region"), p1 = e2e::TmpPath("plain1.region");
	unlink(p0.c_str());
	unlink(p1.c_str());
	e2e::Agent agent({"--plugins", e2e::Abs(e2e::Runfile("PLUGIN_NOOP")), "--pool", "4k:64", "--cpus",
			  "0,1", "--plain-region", p0, "--plain-region", p1});
	ASSERT_TRUE(agent.ok()) << "the agent did not start\n" << agent.Log();
	EXPECT_EQ(PlainCall(p0), -ENOSYS) << agent.Log();
	EXPECT_EQ(PlainCall(p1), -ENOSYS) << agent.Log();
	std::vector<Hostile *> gs;
	for (int i = 0; i < 4; i++) {
		gs.push_back(new Hostile);
		ASSERT_TRUE(gs.back()->Connect(agent.socket())) << agent.Log();
		EXPECT_EQ(gs.back()->Call(e2e::UnknownOpSqe()), -ENOSYS) << agent.Log();
	}
	// Both pollers have guests: one plain region each, and the socket guests balanced.
	std::string out;
	ASSERT_EQ(e2e::Run({e2e::Runfile("AGENT"), "stat", "--socket", agent.socket()}, {}, 20, &out), 0) << out;
	EXPECT_NE(out.find("poller 0: cpu 0 guests 3"), std::string::npos) << out;
	EXPECT_NE(out.find("poller 1: cpu 1 guests 3"), std::string::npos) << out;
	for (auto *g : gs)
		delete g;
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
}

} // namespace
