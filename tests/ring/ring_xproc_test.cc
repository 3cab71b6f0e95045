// The ring between two real processes sharing one memfd region: a forked child using the
// inherited mapping, and an exec'd program that maps the region at a different address.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "shm/region.h"
#include "transport/ring.h"

namespace {

std::string g_peer; // path of ring_peer, from argv

constexpr uint32_t kSlots = 64;
constexpr uint32_t kEsize = 64;

struct Region {
	vshm_region *r = nullptr;
	vtr_ring a_cons{}, b_prod{};
	Region()
	{
		vshm_layout l;
		vshm_layout_init(&l);
		uint64_t rb = vtr_ring_bytes(kSlots, kEsize);
		EXPECT_EQ(vshm_layout_add(&l, VSHM_AREA_RING, 0, rb, kSlots, kEsize), 0);
		EXPECT_EQ(vshm_layout_add(&l, VSHM_AREA_RING, 1, rb, kSlots, kEsize), 0);
		EXPECT_EQ(vshm_layout_add(&l, VSHM_AREA_RAW, 0, 64, 0, 0), 0);
		vshm_opts o{};
		o.numa_cpu = -1;
		vshm_err err;
		EXPECT_EQ(vshm_region_create(&o, &l, &r, &err), 0) << err.msg;
		const vshm_area *a, *b;
		void *ma = vshm_region_area(r, VSHM_AREA_RING, 0, &a);
		void *mb = vshm_region_area(r, VSHM_AREA_RING, 1, &b);
		EXPECT_EQ(vtr_ring_format(ma, a->size, kSlots, kEsize), 0);
		EXPECT_EQ(vtr_ring_format(mb, b->size, kSlots, kEsize), 0);
		EXPECT_EQ(vtr_ring_attach(&a_cons, ma, a->size, kSlots, kEsize, VTR_RING_CONSUMER), 0);
		EXPECT_EQ(vtr_ring_attach(&b_prod, mb, b->size, kSlots, kEsize, VTR_RING_PRODUCER), 0);
	}
	~Region() { vshm_region_close(r); }
};

void ExpectSequence(vtr_ring *cons, uint64_t count)
{
	for (uint64_t i = 0; i < count; i++) {
		uint64_t item[8];
		int n;
		while ((n = vtr_ring_pop(cons, item)) == 0)
			vshm_cpu_relax();
		ASSERT_EQ(n, 1);
		for (int w = 0; w < 8; w++)
			ASSERT_EQ(item[w], i * 8 + (uint64_t)w) << "item " << i << " word " << w;
	}
}

int WaitChild(pid_t pid)
{
	int st = 0;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

TEST(RingXproc, ForkedChildProduces)
{
	Region reg;
	const uint64_t count = 1'000'000;
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		const vshm_area *a;
		void *ma = vshm_region_area(reg.r, VSHM_AREA_RING, 0, &a);
		vtr_ring p;
		if (vtr_ring_attach(&p, ma, a->size, kSlots, kEsize, VTR_RING_PRODUCER))
			_exit(1);
		for (uint64_t i = 0; i < count; i++) {
			uint64_t item[8];
			for (int w = 0; w < 8; w++)
				item[w] = i * 8 + (uint64_t)w;
			while (vtr_ring_push(&p, item) == 0)
				vshm_cpu_relax();
		}
		_exit(0);
	}
	ExpectSequence(&reg.a_cons, count);
	EXPECT_EQ(WaitChild(pid), 0);
}

pid_t SpawnPeer(Region &reg, const char *mode, uint64_t count)
{
	int fd = vshm_region_fd(reg.r);
	pid_t pid = fork();
	if (pid == 0) {
		// The region fd is close-on-exec; hand the peer a plain copy.
		int keep = dup(fd);
		char fds[16], base[32], cnt[32];
		snprintf(fds, sizeof(fds), "%d", keep);
		snprintf(base, sizeof(base), "%lx", (unsigned long)vshm_region_base(reg.r));
		snprintf(cnt, sizeof(cnt), "%lu", (unsigned long)count);
		execl(g_peer.c_str(), g_peer.c_str(), fds, base, mode, cnt, (char *)nullptr);
		_exit(127);
	}
	return pid;
}

TEST(RingXproc, ExecedPeerAtDifferentAddress)
{
	ASSERT_FALSE(g_peer.empty()) << "pass the ring_peer path as the first argument";
	Region reg;
	const uint64_t count = 1'000'000;
	pid_t pid = SpawnPeer(reg, "produce", count);
	ASSERT_GT(pid, 0);
	ExpectSequence(&reg.a_cons, count);
	EXPECT_EQ(WaitChild(pid), 0);
	auto *raw = static_cast<volatile uint64_t *>(vshm_region_area(reg.r, VSHM_AREA_RAW, 0, nullptr));
	EXPECT_NE(raw[0], 0u) << "peer did not report its mapping";
	EXPECT_NE(raw[0], (uint64_t)(uintptr_t)vshm_region_base(reg.r))
		<< "the peer must map the region at another address";
}

TEST(RingXproc, PingPongWithExecedPeer)
{
	ASSERT_FALSE(g_peer.empty());
	Region reg;
	const uint64_t count = 200'000;
	pid_t pid = SpawnPeer(reg, "echo", count);
	ASSERT_GT(pid, 0);
	for (uint64_t i = 0; i < count; i++) {
		uint64_t item[8], back[8];
		for (int w = 0; w < 8; w++)
			item[w] = i ^ ((uint64_t)w << 40);
		while (vtr_ring_push(&reg.b_prod, item) == 0)
			vshm_cpu_relax();
		int n;
		while ((n = vtr_ring_pop(&reg.a_cons, back)) == 0)
			vshm_cpu_relax();
		ASSERT_EQ(n, 1);
		ASSERT_EQ(memcmp(item, back, sizeof(item)), 0) << "echo " << i;
	}
	EXPECT_EQ(WaitChild(pid), 0);
}

} // namespace

int main(int argc, char **argv)
{
	testing::InitGoogleTest(&argc, argv);
	if (argc > 1)
		g_peer = argv[1];
	return RUN_ALL_TESTS();
}
