// Two threads, one ring, at least 10 million items: every sequence number arrives once and
// in order, with single and batch operations mixed on both sides.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "ring_test_util.h"

namespace {

constexpr uint64_t kItems = 10'000'000;

TEST(RingStress, TwoThreadsTenMillionItems)
{
	const uint32_t slots = 256;
	RingMem m(slots, 16);
	ASSERT_EQ(vtr_ring_format(m.mem, m.bytes, slots, 16), 0);
	vtr_ring prod, cons;
	ASSERT_EQ(vtr_ring_attach(&prod, m.mem, m.bytes, slots, 16, VTR_RING_PRODUCER), 0);
	ASSERT_EQ(vtr_ring_attach(&cons, m.mem, m.bytes, slots, 16, VTR_RING_CONSUMER), 0);

	std::atomic<int> producer_error{0};
	std::thread producer([&] {
		uint64_t next = 0, batch[2 * 37];
		while (next < kItems) {
			// Alternate single pushes and bursts of up to 37 (straddling the end).
			uint32_t n = (next / 1000) % 2 ? 37 : 1;
			if (n > kItems - next)
				n = (uint32_t)(kItems - next);
			for (uint32_t i = 0; i < n; i++) {
				batch[2 * i] = next + i;
				batch[2 * i + 1] = (next + i) * 0x9e3779b97f4a7c15ull;
			}
			int got = n == 1 ? vtr_ring_push(&prod, batch) : vtr_ring_push_burst(&prod, batch, n);
			if (got < 0) {
				producer_error = got;
				return;
			}
			if (got == 0)
				vshm_cpu_relax();
			next += (uint64_t)got;
		}
	});

	uint64_t expect = 0, out[2 * 64];
	uint64_t bad = 0;
	while (expect < kItems) {
		uint32_t want = (expect / 777) % 3 == 0 ? 1 : 64;
		int got = vtr_ring_pop_burst(&cons, out, want);
		ASSERT_GE(got, 0) << "consumer saw a corrupt index";
		if (got == 0) {
			vshm_cpu_relax();
			continue;
		}
		for (int i = 0; i < got; i++, expect++) {
			if (out[2 * i] != expect || out[2 * i + 1] != expect * 0x9e3779b97f4a7c15ull)
				bad++;
		}
		ASSERT_EQ(bad, 0u) << "wrong item near sequence " << expect;
	}
	producer.join();
	EXPECT_EQ(producer_error.load(), 0);
	EXPECT_EQ(expect, kItems);
	uint64_t extra[2];
	EXPECT_EQ(vtr_ring_pop(&cons, extra), 0) << "nothing beyond the last item";
}

} // namespace
