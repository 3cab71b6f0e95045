// Helpers shared by the queue-pair tests: a pair in private memory with both sides
// attached (optionally with eventfd doorbells), and the host side of the wait ladder.
#ifndef TESTS_QP_UTIL_H
#define TESTS_QP_UTIL_H

#include <gtest/gtest.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdlib>

#include "transport/qp.h"
#include "transport/wait.h"

struct Pair {
	void *mem;
	uint64_t bytes;
	vtr_qp guest{}, host{};
	int guest_fd = -1, host_fd = -1;
	Pair(uint32_t sq, uint32_t cq, bool doorbells = false)
	{
		bytes = vtr_qp_bytes(sq, cq);
		mem = aligned_alloc(64, (bytes + 63) / 64 * 64);
		EXPECT_EQ(vtr_qp_format(mem, bytes, sq, cq), 0);
		vtr_doorbell to_host{-1, nullptr, 0}, to_guest{-1, nullptr, 0};
		if (doorbells) {
			guest_fd = eventfd(0, EFD_CLOEXEC);
			host_fd = eventfd(0, EFD_CLOEXEC);
			to_host.fd = host_fd;
			to_guest.fd = guest_fd;
		}
		EXPECT_EQ(vtr_qp_attach(&guest, mem, bytes, sq, cq, VTR_QP_GUEST, guest_fd, &to_host), 0);
		EXPECT_EQ(vtr_qp_attach(&host, mem, bytes, sq, cq, VTR_QP_HOST, host_fd, &to_guest), 0);
	}
	~Pair()
	{
		free(mem);
		if (guest_fd >= 0)
			close(guest_fd);
		if (host_fd >= 0)
			close(host_fd);
	}
};

inline vtr_sqe Sqe(uint64_t ud)
{
	vtr_sqe s{};
	s.opcode = VTR_OP_NOP;
	s.user_data = ud;
	return s;
}

// The host side of the handshake in a test: wait for one SQE with the same ladder.
inline int HostWaitOne(vtr_qp *h, vtr_sqe *out, uint64_t spin_polls)
{
	for (;;) {
		for (uint64_t i = 0; i < spin_polls; i++) {
			int n = vtr_qp_host_take(h, out, 1);
			if (n)
				return n;
		}
		int ready = vtr_qp_announce_sleep(&h->sq);
		if (ready < 0)
			return ready;
		if (ready == 0) {
			int ret = vtr_qp_sleep(h, 5000);
			vtr_qp_wake_done(&h->sq);
			if (ret)
				return ret; // -ETIMEDOUT here means a lost wake-up
		}
	}
}

#endif
