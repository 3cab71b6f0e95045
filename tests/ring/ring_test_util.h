// Helpers shared by the ring tests: a private 64-byte aligned buffer holding one ring.
#ifndef TESTS_RING_UTIL_H
#define TESTS_RING_UTIL_H

#include <cstdlib>
#include <cstring>

#include "transport/ring.h"

struct RingMem {
	void *mem;
	uint64_t bytes;
	RingMem(uint32_t slots, uint32_t esize) : bytes(vtr_ring_bytes(slots, esize))
	{
		mem = aligned_alloc(64, (bytes + 63) / 64 * 64);
		memset(mem, 0xa5, bytes);
	}
	~RingMem() { free(mem); }
	RingMem(const RingMem &) = delete;
	RingMem &operator=(const RingMem &) = delete;
};

#endif
