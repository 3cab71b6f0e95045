// A raw guest for tests that misbehave on purpose: connects with the ivshmem protocol,
// maps its region and drives queue pair 0 directly, bypassing the transport plugin.
#pragma once

#include <string>

#include "shm/pool.h"
#include "shm/region.h"
#include "transport/qp.h"
#include "transport/wait.h"
#include "vmm-glue/ivshmem_proto.h"

namespace e2e {

// Deadlines (ms): generous, so a busy machine or a slow handshake never fails a test; a
// refused client is closed by the agent and fails at once.
constexpr int kConnectMs = 20000, kCallMs = 20000;

struct Hostile {
	vivs_client cli{};
	vshm_region *reg = nullptr;
	vtr_qp qp{};
	uint64_t pool_off = 0, pool_size = 0;
	// The host's doorbell as this guest got it (the host peer's vector 0), or -1.
	int HostBell() const
	{
		const vivs_peer *host = vivs_client_peer(&cli, 0);
		return host ? host->fds[0] : -1;
	}
	// Attaches queue pair 0 again (after the host formatted it afresh: a reset).
	bool Reattach()
	{
		const vshm_area *a;
		void *mem = vshm_region_area(reg, VSHM_AREA_QP, 0, &a);
		vtr_doorbell db{HostBell(), nullptr, 0};
		return vtr_qp_attach(&qp, mem, a->size, a->param0, a->param1, VTR_QP_GUEST,
				     cli.own_fds[0], &db) == 0;
	}
	bool Connect(const std::string &sock)
	{
		if (vivs_client_open(sock.c_str(), &cli, kConnectMs))
			return false;
		vshm_err err;
		if (vshm_region_attach_fd(cli.shm_fd, &reg, &err))
			return false;
		const vshm_layout *l = vshm_region_layout(reg);
		uint32_t nqp = 0;
		while (vshm_layout_find(l, VSHM_AREA_QP, nqp))
			nqp++;
		if (vivs_client_read_peers(&cli, nqp, kConnectMs))
			return false;
		const vivs_peer *host = vivs_client_peer(&cli, 0);
		const vshm_area *a;
		void *mem = vshm_region_area(reg, VSHM_AREA_QP, 0, &a);
		vtr_doorbell db{host ? host->fds[0] : -1, nullptr, 0};
		const vshm_area *p = vshm_layout_find(l, VSHM_AREA_POOL, 0);
		pool_off = p->offset;
		pool_size = p->size;
		return vtr_qp_attach(&qp, mem, a->size, a->param0, a->param1, VTR_QP_GUEST,
				     cli.own_fds[0], &db) == 0;
	}
	~Hostile()
	{
		vshm_region_close(reg);
		vivs_client_close(&cli);
	}
	// Sends one SQE and returns its completion's res (or 1000+errno on a transport error).
	int32_t Call(vtr_sqe s)
	{
		s.user_data = ++ud;
		if (vtr_qp_submit(&qp, &s, 1) != 1)
			return 1000 + EAGAIN;
		vtr_cqe c;
		int n = vtr_qp_wait(&qp, &c, 1, kCallMs);
		if (n != 1)
			return 1000 - n;
		if (c.user_data != s.user_data)
			return 2000;
		return c.res;
	}
	char *At(uint64_t off) { return (char *)vshm_region_base(reg) + off; }
	uint64_t ud = 0;
};

// A request the agent refuses with -ENOSYS on its poller (an opcode past the last
// one): a round trip through the agent that involves no plugin.
inline vtr_sqe UnknownOpSqe()
{
	vtr_sqe s{};
	s.opcode = VTR_OP_MAX + 7;
	return s;
}

} // namespace e2e
