// Ring edge cases: empty, full, wrap-around, bursts that straddle the end, bad geometry,
// and corrupt indices written by a hostile peer.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "ring_test_util.h"

namespace {

struct Pair {
	RingMem m;
	vtr_ring prod{}, cons{};
	Pair(uint32_t slots, uint32_t esize) : m(slots, esize)
	{
		EXPECT_EQ(vtr_ring_format(m.mem, m.bytes, slots, esize), 0);
		EXPECT_EQ(vtr_ring_attach(&prod, m.mem, m.bytes, slots, esize, VTR_RING_PRODUCER), 0);
		EXPECT_EQ(vtr_ring_attach(&cons, m.mem, m.bytes, slots, esize, VTR_RING_CONSUMER), 0);
	}
};

TEST(RingEdge, EmptyPopReturnsZero)
{
	Pair p(8, 8);
	uint64_t v = 7;
	EXPECT_EQ(vtr_ring_pop(&p.cons, &v), 0);
	EXPECT_EQ(v, 7u) << "an empty pop must not touch the output";
	uint64_t many[4];
	EXPECT_EQ(vtr_ring_pop_burst(&p.cons, many, 4), 0);
}

TEST(RingEdge, FullPushReturnsZeroAndKeepsItems)
{
	Pair p(8, 8);
	for (uint64_t i = 0; i < 8; i++)
		ASSERT_EQ(vtr_ring_push(&p.prod, &i), 1) << "slot " << i;
	uint64_t extra = 99;
	EXPECT_EQ(vtr_ring_push(&p.prod, &extra), 0) << "a full ring must refuse";
	EXPECT_EQ(vtr_ring_push_burst(&p.prod, &extra, 1), 0);
	for (uint64_t i = 0; i < 8; i++) {
		uint64_t v = 0;
		ASSERT_EQ(vtr_ring_pop(&p.cons, &v), 1);
		EXPECT_EQ(v, i) << "FIFO order";
	}
	uint64_t v;
	EXPECT_EQ(vtr_ring_pop(&p.cons, &v), 0);
}

TEST(RingEdge, WrapAroundManyTimes)
{
	Pair p(4, 16);
	uint64_t next_in = 0, next_out = 0;
	// Indices run past 2^32 / slot counts many times; content must stay in order.
	for (int round = 0; round < 1000; round++) {
		for (int k = 0; k < 3; k++) {
			uint64_t e[2] = {next_in, ~next_in};
			ASSERT_EQ(vtr_ring_push(&p.prod, e), 1);
			next_in++;
		}
		for (int k = 0; k < 3; k++) {
			uint64_t e[2];
			ASSERT_EQ(vtr_ring_pop(&p.cons, e), 1);
			ASSERT_EQ(e[0], next_out);
			ASSERT_EQ(e[1], ~next_out);
			next_out++;
		}
	}
}

TEST(RingEdge, IndicesSurviveUint32Overflow)
{
	Pair p(8, 8);
	// Start both sides just below 2^32 so the free-running indices overflow mid-test.
	p.m.mem = p.m.mem;
	auto *sh = static_cast<vtr_ring_shared *>(p.m.mem);
	sh->prod = sh->cons = 0xfffffffcu;
	ASSERT_EQ(vtr_ring_attach(&p.prod, p.m.mem, p.m.bytes, 8, 8, VTR_RING_PRODUCER), 0);
	ASSERT_EQ(vtr_ring_attach(&p.cons, p.m.mem, p.m.bytes, 8, 8, VTR_RING_CONSUMER), 0);
	uint64_t in[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[8] = {};
	ASSERT_EQ(vtr_ring_push_burst(&p.prod, in, 8), 8);
	EXPECT_EQ(vtr_ring_push(&p.prod, in), 0);
	ASSERT_EQ(vtr_ring_pop_burst(&p.cons, out, 8), 8);
	for (int i = 0; i < 8; i++)
		EXPECT_EQ(out[i], in[i]);
	EXPECT_EQ(sh->prod, 4u);
}

TEST(RingEdge, BurstsStraddleTheEnd)
{
	const uint32_t slots = 16;
	Pair p(slots, 64);
	uint64_t seq_in = 0, seq_out = 0;
	// Burst sizes that are co-prime with the ring size land on every offset of the end.
	for (uint32_t burst : {3u, 5u, 7u, 11u, 13u, 16u, 1u}) {
		for (int round = 0; round < 40; round++) {
			std::vector<uint64_t> in(burst * 8), out(burst * 8);
			for (uint32_t i = 0; i < burst; i++)
				for (int w = 0; w < 8; w++)
					in[i * 8 + w] = (seq_in + i) * 8 + w;
			ASSERT_EQ(vtr_ring_push_burst(&p.prod, in.data(), burst), (int)burst);
			seq_in += burst;
			ASSERT_EQ(vtr_ring_pop_burst(&p.cons, out.data(), burst), (int)burst);
			for (uint32_t i = 0; i < burst; i++)
				for (int w = 0; w < 8; w++)
					ASSERT_EQ(out[i * 8 + w], (seq_out + i) * 8 + w)
						<< "burst " << burst << " round " << round;
			seq_out += burst;
		}
	}
}

TEST(RingEdge, PartialBurstsWhenNearlyFullOrEmpty)
{
	Pair p(8, 8);
	uint64_t in[8] = {0, 1, 2, 3, 4, 5, 6, 7}, out[8] = {};
	ASSERT_EQ(vtr_ring_push_burst(&p.prod, in, 5), 5);
	EXPECT_EQ(vtr_ring_push_burst(&p.prod, in + 5, 8), 3) << "only 3 slots were free";
	EXPECT_EQ(vtr_ring_pop_burst(&p.cons, out, 3), 3);
	EXPECT_EQ(vtr_ring_pop_burst(&p.cons, out + 3, 32), 5) << "only 5 were ready";
	for (uint64_t i = 0; i < 8; i++)
		EXPECT_EQ(out[i], i);
	EXPECT_EQ(vtr_ring_count(&p.prod), 0u);
}

// Reading in place: peek counts what is ready, at() sees each element where it lies (also
// across the end), and nothing is freed for the producer before consume().
TEST(RingEdge, PeekReadsInPlaceUntilConsumed)
{
	Pair p(8, 8);
	uint64_t in[6] = {10, 11, 12, 13, 14, 15}, out[8];
	ASSERT_EQ(vtr_ring_push_burst(&p.prod, in, 6), 6);
	ASSERT_EQ(vtr_ring_pop_burst(&p.cons, out, 6), 6); // both indices now at 6
	ASSERT_EQ(vtr_ring_push_burst(&p.prod, in, 5), 5); // slots 6, 7, 0, 1, 2
	EXPECT_EQ(vtr_ring_peek(&p.cons), 5);
	for (uint32_t i = 0; i < 5; i++)
		EXPECT_EQ(*(const uint64_t *)vtr_ring_at(&p.cons, i), in[i]) << "element " << i;
	EXPECT_EQ(vtr_ring_push_burst(&p.prod, in, 8), 3) << "peeked elements still occupy their slots";
	vtr_ring_consume(&p.cons, 2);
	EXPECT_EQ(vtr_ring_peek(&p.cons), 3) << "what is left of what the last look saw";
	EXPECT_EQ(*(const uint64_t *)vtr_ring_at(&p.cons, 0), in[2]);
	EXPECT_EQ(vtr_ring_push_burst(&p.prod, in, 8), 2) << "consume gave 2 slots back";
	vtr_ring_consume(&p.cons, 3);
	EXPECT_EQ(vtr_ring_peek(&p.cons), 5) << "a new look finds the later pushes";
	EXPECT_EQ(*(const uint64_t *)vtr_ring_at(&p.cons, 4), in[1]);
	vtr_ring_consume(&p.cons, 5);
	EXPECT_EQ(vtr_ring_peek(&p.cons), 0);
	EXPECT_EQ(vtr_ring_count(&p.prod), 0u);
}

TEST(RingEdge, BadGeometryRefused)
{
	RingMem m(64, 64);
	EXPECT_EQ(vtr_ring_format(m.mem, m.bytes, 0, 8), -EINVAL) << "zero slots";
	EXPECT_EQ(vtr_ring_format(m.mem, m.bytes, 12, 8), -EINVAL) << "not a power of two";
	EXPECT_EQ(vtr_ring_format(m.mem, m.bytes, 8, 12), -EINVAL) << "element not 8-byte multiple";
	EXPECT_EQ(vtr_ring_format(m.mem, m.bytes, 128, 64), -EINVAL) << "area too small";
	EXPECT_EQ(vtr_ring_format(static_cast<char *>(m.mem) + 8, m.bytes - 8, 8, 8), -EINVAL)
		<< "misaligned";
	vtr_ring r;
	ASSERT_EQ(vtr_ring_format(m.mem, m.bytes, 64, 64), 0);
	EXPECT_EQ(vtr_ring_attach(&r, m.mem, m.bytes, 64, 64, (vtr_ring_role)3), -EINVAL);
	EXPECT_EQ(vtr_ring_attach(&r, m.mem, m.bytes - 1, 64, 64, VTR_RING_CONSUMER), -EINVAL);
}

TEST(RingEdge, HostileProducerIndexIsRejected)
{
	Pair p(8, 8);
	uint64_t v = 1;
	ASSERT_EQ(vtr_ring_push(&p.prod, &v), 1);
	auto *sh = static_cast<vtr_ring_shared *>(p.m.mem);
	// A peer claims 1000 items in an 8-slot ring, then jumps backwards.
	for (uint32_t bad : {1000u, 0xffffffffu, 9u}) {
		sh->prod = bad;
		uint64_t out[4];
		EXPECT_EQ(vtr_ring_pop_burst(&p.cons, out, 4), -EPROTO) << "prod=" << bad;
		EXPECT_EQ(vtr_ring_pop(&p.cons, out), -EPROTO) << "prod=" << bad;
		EXPECT_EQ(p.cons.head, 0u) << "state must not move on a bad index";
	}
	sh->prod = 1; // the peer behaves again: the item is still there
	uint64_t out = 0;
	EXPECT_EQ(vtr_ring_pop(&p.cons, &out), 1);
	EXPECT_EQ(out, 1u);
}

TEST(RingEdge, HostileConsumerIndexIsRejected)
{
	Pair p(8, 8);
	uint64_t v[8] = {};
	ASSERT_EQ(vtr_ring_push_burst(&p.prod, v, 8), 8);
	auto *sh = static_cast<vtr_ring_shared *>(p.m.mem);
	sh->cons = 100; // claims to have consumed more than was ever produced
	EXPECT_EQ(vtr_ring_push(&p.prod, v), -EPROTO);
	EXPECT_EQ(vtr_ring_push_burst(&p.prod, v, 2), -EPROTO);
	EXPECT_EQ(p.prod.head, 8u);
	sh->cons = 0x80000000u;
	vtr_ring r2;
	EXPECT_EQ(vtr_ring_attach(&r2, p.m.mem, p.m.bytes, 8, 8, VTR_RING_PRODUCER), -EPROTO)
		<< "attach must check prod - cons <= slots";
}

} // namespace
