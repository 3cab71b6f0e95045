// Four threads allocate and free concurrently; each stamps its buffers with its id and checks
// the stamp is intact before freeing, so a buffer handed out twice shows up as a torn stamp
// (and under TSan as a data race).
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "tests/pool/pool_test_util.h"

namespace {

TEST(PoolStress, FourThreadsNeverShareABuffer)
{
	// Few buffers so threads contend and exhaust classes (-ENOMEM is expected and retried).
	PoolFixture f("64:8,4k:6,64k:2");
	ASSERT_TRUE(f.ok());
	constexpr int kThreads = 4, kIters = 4000, kHold = 3;
	std::atomic<int> torn{ 0 }, errors{ 0 }, enomem{ 0 };

	auto worker = [&](int id) {
		unsigned seed = 12345u + (unsigned)id;
		std::vector<vshm_buf> held;
		for (int i = 0; i < kIters; i++) {
			seed = seed * 1103515245u + 12345u;
			uint64_t size = (seed >> 8) % 3 == 0 ? 64 : (seed >> 8) % 3 == 1 ? 4096 : 60000;
			vshm_buf b{};
			int ret = vshm_pool_alloc(f.p, size, 0, &b);
			if (ret == -ENOMEM) {
				enomem++;
			} else if (ret) {
				errors++;
			} else {
				uint64_t stamp = ((uint64_t)id << 32) | (uint32_t)i;
				memcpy(b.ptr, &stamp, sizeof(stamp));
				memcpy(static_cast<char *>(b.ptr) + b.cap - sizeof(stamp), &stamp,
				       sizeof(stamp));
				uint64_t off = 0;
				if (vshm_pool_find(f.p, b.ptr, b.cap, &off) || off != b.off)
					errors++;
				held.push_back(b);
			}
			if (held.size() > kHold || (ret == -ENOMEM && !held.empty())) {
				vshm_buf &o = held.front();
				uint64_t head, tail;
				memcpy(&head, o.ptr, sizeof(head));
				memcpy(&tail, static_cast<char *>(o.ptr) + o.cap - sizeof(tail),
				       sizeof(tail));
				if (head >> 32 != (uint64_t)id || head != tail)
					torn++;
				if (vshm_pool_free(f.p, o.ptr))
					errors++;
				held.erase(held.begin());
			}
		}
		for (vshm_buf &o : held)
			if (vshm_pool_free(f.p, o.ptr))
				errors++;
	};

	std::vector<std::thread> threads;
	for (int t = 0; t < kThreads; t++)
		threads.emplace_back(worker, t);
	for (auto &t : threads)
		t.join();

	EXPECT_EQ(torn.load(), 0) << "a buffer was handed to two threads at once";
	EXPECT_EQ(errors.load(), 0) << "unexpected alloc/free/find errors";
	for (uint32_t c = 0; c < vshm_pool_nr_classes(f.p); c++) {
		uint32_t count = 0, nr_free = 0;
		ASSERT_EQ(vshm_pool_class_info(f.p, c, nullptr, &count, &nr_free), 0);
		EXPECT_EQ(nr_free, count) << "class " << c << " lost or duplicated buffers";
	}
	RecordProperty("enomem", enomem.load());
}

} // namespace
