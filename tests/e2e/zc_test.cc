// Zero copy: buffers from vaccel_buffer_alloc live in the shared pool, so a call carries their
// offsets and the host works on them in place. Checked against a real agent: sgemm results
// equal the local blas plugin's; the host's writes to a pool input are visible here (a copy
// would hide them) and a pool buffer named twice is one memory on the host; a call with all
// tensors in the pool needs no spare pool buffer; misuse is refused with a log line and
// changes nothing; local plugins get working buffers too.
#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include <vaccel.h>
}

#include "agent_util.h"

namespace {

std::string LogPath()
{
	return e2e::TmpPath("zc-vaccel.log");
}

// Everything the runtime and the plugins logged since the last Boot.
std::string LogText()
{
	std::ifstream f(LogPath());
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

int Boot(const std::string &socket)
{
	vaccel_cleanup();
	std::string plugins = e2e::Abs(e2e::Runfile("PLUGIN_SHM")) + ":" + e2e::Abs(e2e::Runfile("PLUGIN_BLAS")) +
			      ":" + e2e::Abs(e2e::Runfile("PLUGIN_EXEC"));
	setenv("VACCEL_PLUGINS", plugins.c_str(), 1);
	setenv("VACCEL_SHM_SOCKET", socket.c_str(), 1);
	unlink(LogPath().c_str());
	setenv("VACCEL_LOG_FILE", LogPath().c_str(), 1);
	return vaccel_bootstrap();
}

std::vector<std::string> AgentArgs(const std::string &pool)
{
	return {"--plugins",
		e2e::Abs(e2e::Runfile("PLUGIN_BLAS")) + ":" + e2e::Abs(e2e::Runfile("PLUGIN_EXEC")),
		"--pool",
		pool,
		"--exec-allow",
		e2e::Abs(e2e::Runfile("ZC_TESTLIB"))};
}

void Fill(float *v, size_t n, unsigned seed)
{
	std::mt19937 rng(seed);
	std::uniform_real_distribution<float> u(-1, 1);
	for (size_t i = 0; i < n; i++)
		v[i] = u(rng);
}

class Zc : public testing::Test {
      protected:
	static void SetUpTestSuite()
	{
		setenv("OPENBLAS_NUM_THREADS", "1", 1);
		agent_ = new e2e::Agent(AgentArgs("4k:64,64k:16,1m:16,4m:4"), "zc");
	}
	static void TearDownTestSuite()
	{
		vaccel_cleanup();
		unsetenv("VACCEL_LOG_FILE");
		EXPECT_EQ(agent_->Stop(), 0) << "agent must exit 0 on SIGTERM\n" << agent_->Log();
		delete agent_;
	}
	void SetUp() override
	{
		ASSERT_TRUE(agent_->ok()) << agent_->Log();
		ASSERT_EQ(Boot(agent_->socket()), VACCEL_OK);
		Open();
	}
	void TearDown() override { Close(); }
	void Open()
	{
		ASSERT_EQ(vaccel_session_init(&remote_, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_CPU), VACCEL_OK)
			<< agent_->Log();
		ASSERT_EQ(vaccel_session_init(&local_, VACCEL_PLUGIN_CPU), VACCEL_OK);
		ASSERT_EQ(vaccel_session_init(&rexec_, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_GENERIC), VACCEL_OK);
		ASSERT_EQ(vaccel_session_init(&lexec_, VACCEL_PLUGIN_GENERIC), VACCEL_OK);
		ASSERT_TRUE(remote_.is_virtio);
		ASSERT_FALSE(local_.is_virtio);
	}
	void Close()
	{
		for (auto *s : {&remote_, &local_, &rexec_, &lexec_})
			if (s->plugin)
				vaccel_session_release(s);
		remote_ = local_ = rexec_ = lexec_ = vaccel_session{};
	}
	// zc_mark on buf: what the host read, and buf's first and last bytes afterwards.
	int Mark(vaccel_session *s, unsigned char *buf, size_t len, uint64_t *seen)
	{
		vaccel_arg rd[1] = {{buf, len, VACCEL_ARG_RAW, 0, false}};
		vaccel_arg wr[1] = {{seen, sizeof(*seen), VACCEL_ARG_RAW, 0, false}};
		return vaccel_exec(s, lib_.c_str(), "zc_mark", rd, 1, wr, 1);
	}
	static e2e::Agent *agent_;
	vaccel_session remote_{}, local_{}, rexec_{}, lexec_{};
	std::string lib_ = e2e::Abs(e2e::Runfile("ZC_TESTLIB"));
};
e2e::Agent *Zc::agent_;

struct Dims {
	int m, n, k, pad;
};

class ZcSgemm : public Zc, public testing::WithParamInterface<Dims> {};

TEST_P(ZcSgemm, PoolTensorsMatchLocalElementWise)
{
	Dims d = GetParam();
	int lda = d.k + d.pad, ldb = d.n + d.pad, ldc = d.n + d.pad;
	size_t na = (size_t)d.m * lda, nb = (size_t)d.k * ldb, nc = (size_t)d.m * ldc;
	float *a, *b, *c, *la, *lb, *lc;
	ASSERT_EQ(vaccel_buffer_alloc(&remote_, na * 4, (void **)&a), VACCEL_OK) << LogText();
	ASSERT_EQ(vaccel_buffer_alloc(&remote_, nb * 4, (void **)&b), VACCEL_OK) << LogText();
	ASSERT_EQ(vaccel_buffer_alloc(&remote_, nc * 4, (void **)&c), VACCEL_OK) << LogText();
	// The local side uses the runtime's buffers: a program written for zero copy runs
	// unchanged on a local plugin.
	ASSERT_EQ(vaccel_buffer_alloc(&local_, na * 4, (void **)&la), VACCEL_OK);
	ASSERT_EQ(vaccel_buffer_alloc(&local_, nb * 4, (void **)&lb), VACCEL_OK);
	ASSERT_EQ(vaccel_buffer_alloc(&local_, nc * 4, (void **)&lc), VACCEL_OK);
	Fill(a, na, 1 + d.m);
	Fill(b, nb, 2 + d.n);
	Fill(c, nc, 3 + d.k);
	memcpy(la, a, na * 4);
	memcpy(lb, b, nb * 4);
	memcpy(lc, c, nc * 4);
	ASSERT_EQ(vaccel_sgemm(&remote_, d.m, d.n, d.k, 1.5f, a, lda, b, ldb, 0.25f, c, ldc), VACCEL_OK);
	ASSERT_EQ(vaccel_sgemm(&local_, d.m, d.n, d.k, 1.5f, la, lda, lb, ldb, 0.25f, lc, ldc), VACCEL_OK);
	size_t diff = 0;
	for (size_t i = 0; i < nc; i++)
		diff += memcmp(&c[i], &lc[i], 4) != 0;
	EXPECT_EQ(diff, 0u) << "same OpenBLAS, same thread count: results must be identical";
	EXPECT_EQ(memcmp(a, la, na * 4), 0) << "inputs are not written";
	for (void *p : {(void *)a, (void *)b, (void *)c})
		EXPECT_EQ(vaccel_buffer_free(&remote_, p), VACCEL_OK);
	for (void *p : {(void *)la, (void *)lb, (void *)lc})
		EXPECT_EQ(vaccel_buffer_free(&local_, p), VACCEL_OK);
}

INSTANTIATE_TEST_SUITE_P(Sizes, ZcSgemm,
			 testing::Values(Dims{1, 1, 1, 0}, Dims{17, 33, 5, 0}, Dims{17, 33, 5, 3},
					 Dims{100, 3, 250, 1}, Dims{511, 257, 129, 0},
					 Dims{512, 512, 512, 0}));

// Some tensors in the pool, some in ordinary memory (copied once): same results.
TEST_F(Zc, MixedArgumentsMatchLocal)
{
	const int n = 96;
	const size_t bytes = (size_t)n * n * 4;
	std::vector<float> ma(n * n), mb(n * n), mc(n * n), ref(n * n);
	float *pa, *pb, *pc;
	ASSERT_EQ(vaccel_buffer_alloc(&remote_, bytes, (void **)&pa), VACCEL_OK);
	ASSERT_EQ(vaccel_buffer_alloc(&remote_, bytes, (void **)&pb), VACCEL_OK);
	ASSERT_EQ(vaccel_buffer_alloc(&remote_, bytes, (void **)&pc), VACCEL_OK);
	Fill(ma.data(), ma.size(), 7);
	Fill(mb.data(), mb.size(), 8);
	memcpy(pa, ma.data(), bytes);
	memcpy(pb, mb.data(), bytes);
	ASSERT_EQ(vaccel_sgemm(&local_, n, n, n, 1, ma.data(), n, mb.data(), n, 0, ref.data(), n),
		  VACCEL_OK);
	struct Case {
		const char *what;
		float *a, *b, *c;
	} cases[] = {
		{"A pool, B ordinary, C pool", pa, mb.data(), pc},
		{"A ordinary, B pool, C ordinary", ma.data(), pb, mc.data()},
		{"A pool, B pool, C ordinary", pa, pb, mc.data()},
		{"A ordinary, B ordinary, C pool", ma.data(), mb.data(), pc},
	};
	for (const Case &k : cases) {
		memset(k.c, 0xff, bytes);
		ASSERT_EQ(vaccel_sgemm(&remote_, n, n, n, 1, k.a, n, k.b, n, 0, k.c, n), VACCEL_OK) << k.what;
		EXPECT_EQ(memcmp(k.c, ref.data(), bytes), 0) << k.what;
	}
	for (void *p : {(void *)pa, (void *)pb, (void *)pc})
		EXPECT_EQ(vaccel_buffer_free(&remote_, p), VACCEL_OK);
}

// The proof of zero copy for inputs: zc_mark increments its input's first and last bytes on
// the host. A pool input shows the change here; ordinary memory was copied and does not.
TEST_F(Zc, HostReadsAndWritesPoolInputsInPlace)
{
	const size_t len = 4096; // more than the agent's 64-byte scalar copies and the table's 256
	unsigned char *p;
	ASSERT_EQ(vaccel_buffer_alloc(&rexec_, len, (void **)&p), VACCEL_OK);
	std::vector<unsigned char> q(len);
	for (unsigned char *buf : {p, q.data()}) {
		memset(buf, 0, len);
		buf[0] = 10;
		buf[len - 1] = 20;
	}
	uint64_t seen = 0;
	ASSERT_EQ(Mark(&rexec_, p, len, &seen), VACCEL_OK) << agent_->Log();
	EXPECT_EQ(seen, 10u + 256u * 20u) << "the host read the bytes written here";
	EXPECT_EQ(p[0], 11) << "the host's write must land in this very buffer: no copy";
	EXPECT_EQ(p[len - 1], 21);
	ASSERT_EQ(Mark(&rexec_, p, len, &seen), VACCEL_OK);
	EXPECT_EQ(seen, 11u + 256u * 21u);
	EXPECT_EQ(p[0], 12);

	ASSERT_EQ(Mark(&rexec_, q.data(), len, &seen), VACCEL_OK);
	EXPECT_EQ(seen, 10u + 256u * 20u);
	EXPECT_EQ(q[0], 10) << "ordinary memory is copied into the pool: the host's write stays there";
	EXPECT_EQ(q[len - 1], 20);

	// A part of a pool buffer travels as an offset too.
	ASSERT_EQ(Mark(&rexec_, p + 1000, 2000, &seen), VACCEL_OK);
	EXPECT_EQ(p[1000], 1);
	EXPECT_EQ(p[2999], 1);
	EXPECT_EQ(vaccel_buffer_free(&rexec_, p), VACCEL_OK);
}

// Outputs: the host writes a pool output in place; naming the same pool buffer as an input
// too, the host sees one memory (a copy would give it two).
TEST_F(Zc, HostWritesPoolOutputsInPlace)
{
	const size_t len = 1 << 20;
	uint32_t *p, seed = 7;
	ASSERT_EQ(vaccel_buffer_alloc(&rexec_, len, (void **)&p), VACCEL_OK);
	std::vector<uint32_t> q(len / 4);
	for (uint32_t *out : {p, q.data()}) {
		uint64_t same = 99;
		memset(out, 0, len);
		vaccel_arg rd[2] = {{&seed, sizeof(seed), VACCEL_ARG_RAW, 0, false},
				    {out, len, VACCEL_ARG_RAW, 0, false}};
		vaccel_arg wr[2] = {{out, len, VACCEL_ARG_RAW, 0, false},
				    {&same, sizeof(same), VACCEL_ARG_RAW, 0, false}};
		ASSERT_EQ(vaccel_exec(&rexec_, lib_.c_str(), "zc_fill", rd, 2, wr, 2), VACCEL_OK);
		EXPECT_EQ(same, out == p ? 1u : 0u)
			<< (out == p ? "a pool buffer must reach the host as itself"
				     : "ordinary memory is copied, once per argument");
		size_t bad = 0;
		for (size_t i = 0; i < len / 4; i++)
			bad += out[i] != (uint32_t)i * seed;
		EXPECT_EQ(bad, 0u) << (out == p ? "pool" : "ordinary") << " output";
		seed += 2;
	}
	EXPECT_EQ(vaccel_buffer_free(&rexec_, p), VACCEL_OK);
}

// A call whose tensors are all in the pool needs no pool buffer besides its small argument
// table: with every buffer of 1 MiB and up held by A, B and C, sgemm 512 still runs. Had
// any tensor been copied, the call would wait for a free 1 MiB buffer for ever (the alarm
// below turns that into a failure).
TEST(ZcProof, CallWithEveryTensorInThePoolNeedsNoSpareBuffer)
{
	setenv("OPENBLAS_NUM_THREADS", "1", 1);
	e2e::Agent agent(AgentArgs("4k:16,1m:3"), "zc-tight");
	ASSERT_TRUE(agent.ok()) << agent.Log();
	ASSERT_EQ(Boot(agent.socket()), VACCEL_OK);
	vaccel_session r{}, l{};
	ASSERT_EQ(vaccel_session_init(&r, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_CPU), VACCEL_OK);
	ASSERT_EQ(vaccel_session_init(&l, VACCEL_PLUGIN_CPU), VACCEL_OK);
	const int n = 512;
	const size_t bytes = (size_t)n * n * 4; // exactly one 1 MiB buffer each
	float *a, *b, *c, *spare;
	ASSERT_EQ(vaccel_buffer_alloc(&r, bytes, (void **)&a), VACCEL_OK);
	ASSERT_EQ(vaccel_buffer_alloc(&r, bytes, (void **)&b), VACCEL_OK);
	ASSERT_EQ(vaccel_buffer_alloc(&r, bytes, (void **)&c), VACCEL_OK);
	EXPECT_EQ(vaccel_buffer_alloc(&r, bytes, (void **)&spare), VACCEL_ENOMEM)
		<< "the pool must have no 1 MiB buffer left for this proof";
	std::vector<float> ref(n * n);
	Fill(a, (size_t)n * n, 11);
	Fill(b, (size_t)n * n, 12);
	ASSERT_EQ(vaccel_sgemm(&l, n, n, n, 1, a, n, b, n, 0, ref.data(), n), VACCEL_OK);
	fprintf(stderr, "zc: if this test dies of SIGALRM, a pool tensor was copied\n");
	alarm(120);
	ASSERT_EQ(vaccel_sgemm(&r, n, n, n, 1, a, n, b, n, 0, c, n), VACCEL_OK);
	alarm(0);
	EXPECT_EQ(memcmp(c, ref.data(), bytes), 0);
	for (void *p : {(void *)a, (void *)b, (void *)c})
		EXPECT_EQ(vaccel_buffer_free(&r, p), VACCEL_OK);
	vaccel_session_release(&r);
	vaccel_session_release(&l);
	vaccel_cleanup();
	EXPECT_EQ(agent.Stop(), 0) << agent.Log();
}

TEST_F(Zc, FreeAndReuse)
{
	void *first, *p;
	ASSERT_EQ(vaccel_buffer_alloc(&remote_, 5000, &first), VACCEL_OK);
	ASSERT_EQ(vaccel_buffer_free(&remote_, first), VACCEL_OK);
	ASSERT_EQ(vaccel_buffer_alloc(&remote_, 5000, &p), VACCEL_OK);
	EXPECT_EQ(p, first) << "a freed buffer is handed out again";
	EXPECT_EQ((uintptr_t)p % 64, 0u) << "cache-line aligned";
	ASSERT_EQ(vaccel_buffer_free(&remote_, p), VACCEL_OK);
	// Far more rounds than the pool has buffers: nothing leaks.
	for (int i = 0; i < 2000; i++) {
		size_t size = 1 + (size_t)(i * 7919) % (4 << 20);
		ASSERT_EQ(vaccel_buffer_alloc(&remote_, size, &p), VACCEL_OK) << "round " << i;
		memset(p, i, size);
		ASSERT_EQ(vaccel_buffer_free(&remote_, p), VACCEL_OK);
	}
	// A buffer may be freed through any session of the same plugin.
	ASSERT_EQ(vaccel_buffer_alloc(&remote_, 64, &p), VACCEL_OK);
	EXPECT_EQ(vaccel_buffer_free(&rexec_, p), VACCEL_OK);
}

TEST_F(Zc, ExhaustionAndTooLarge)
{
	std::vector<void *> held;
	void *p;
	int ret;
	while ((ret = vaccel_buffer_alloc(&remote_, 1 << 20, &p)) == VACCEL_OK && held.size() < 100)
		held.push_back(p);
	EXPECT_EQ(ret, VACCEL_ENOMEM);
	EXPECT_EQ(held.size(), 16u + 4u) << "every 1 MiB and 4 MiB buffer, then ENOMEM";
	EXPECT_NE(LogText().find("no free pool buffer"), std::string::npos) << LogText();
	// Small buffers too, until only the transport's reserve is left: calls still work.
	size_t small = 0;
	while (vaccel_buffer_alloc(&rexec_, 100, &p) == VACCEL_OK && small < 200) {
		held.push_back(p);
		small++;
	}
	EXPECT_GE(small, 64u - 4u);
	EXPECT_LT(small, 64u + 16u) << "the smallest class keeps a reserve for the transport";
	unsigned char *big = (unsigned char *)held[0];
	big[0] = 1;
	uint64_t seen;
	ASSERT_EQ(Mark(&rexec_, big, 1 << 20, &seen), VACCEL_OK) << "calls go on with the pool full";
	EXPECT_EQ(big[0], 2);
	for (void *h : held)
		ASSERT_EQ(vaccel_buffer_free(&remote_, h), VACCEL_OK);
	ASSERT_EQ(vaccel_buffer_alloc(&remote_, 4 << 20, &p), VACCEL_OK) << "freed buffers come back";
	EXPECT_EQ(vaccel_buffer_free(&remote_, p), VACCEL_OK);

	EXPECT_EQ(vaccel_buffer_alloc(&remote_, (4 << 20) + 1, &p), VACCEL_ENOMEM);
	std::string log = LogText();
	EXPECT_NE(log.find("larger than the largest pool buffer (4194304 bytes)"), std::string::npos) << log;
	EXPECT_NE(log.find("--pool"), std::string::npos) << "the line says how to fix it: " << log;
}

// Misuse gets VACCEL_EINVAL and a log line, and leaves the pool as it was.
TEST_F(Zc, MisuseIsRefused)
{
	void *p, *q;
	ASSERT_EQ(vaccel_buffer_alloc(&remote_, 100000, &p), VACCEL_OK);
	*(volatile char *)p = 1;

	EXPECT_EQ(vaccel_buffer_alloc(&remote_, 0, &q), VACCEL_EINVAL) << "size 0";
	EXPECT_EQ(vaccel_buffer_alloc(&remote_, 64, nullptr), VACCEL_EINVAL);
	EXPECT_EQ(vaccel_buffer_alloc(nullptr, 64, &q), VACCEL_EINVAL);
	vaccel_session none{};
	EXPECT_EQ(vaccel_buffer_alloc(&none, 64, &q), VACCEL_EINVAL) << "uninitialized session";
	EXPECT_EQ(vaccel_buffer_free(&none, p), VACCEL_EINVAL);
	EXPECT_EQ(vaccel_buffer_free(&remote_, nullptr), VACCEL_EINVAL);

	void *heap = malloc(4096);
	EXPECT_EQ(vaccel_buffer_free(&remote_, heap), VACCEL_EINVAL) << "malloc'd memory";
	free(heap);
	EXPECT_EQ(vaccel_buffer_free(&remote_, (char *)p + 64), VACCEL_EINVAL) << "middle of a buffer";
	EXPECT_EQ(vaccel_buffer_free(&remote_, (char *)p + 1), VACCEL_EINVAL);
	// The start of a pool buffer the application was not given (p is a 1 MiB-class buffer;
	// the next one may be free or hold a copy for a call) is not the application's to free.
	EXPECT_EQ(vaccel_buffer_free(&remote_, (char *)p + (1 << 20)), VACCEL_EINVAL);
	void *lbuf;
	ASSERT_EQ(vaccel_buffer_alloc(&local_, 64, &lbuf), VACCEL_OK);
	EXPECT_EQ(vaccel_buffer_free(&remote_, lbuf), VACCEL_EINVAL) << "a local buffer is foreign here";
	EXPECT_EQ(vaccel_buffer_free(&local_, p), VACCEL_EINVAL) << "a pool buffer is foreign there";
	EXPECT_EQ(vaccel_buffer_free(&local_, (char *)lbuf + 8), VACCEL_EINVAL);

	ASSERT_EQ(vaccel_buffer_free(&remote_, p), VACCEL_OK);
	EXPECT_EQ(vaccel_buffer_free(&remote_, p), VACCEL_EINVAL) << "double free";
	ASSERT_EQ(vaccel_buffer_free(&local_, lbuf), VACCEL_OK);
	EXPECT_EQ(vaccel_buffer_free(&local_, lbuf), VACCEL_EINVAL) << "double free, local";

	std::string log = LogText();
	EXPECT_NE(log.find("size 0"), std::string::npos) << log;
	EXPECT_NE(log.find("not a live buffer of vaccel_buffer_alloc"), std::string::npos) << log;
	EXPECT_NE(log.find("[shm] vaccel_buffer_free"), std::string::npos) << log;

	// Nothing was corrupted: the freed buffer comes back, and a zero-copy call works.
	ASSERT_EQ(vaccel_buffer_alloc(&remote_, 100000, &q), VACCEL_OK);
	EXPECT_EQ(q, p);
	uint64_t seen;
	memset(q, 3, 100000);
	ASSERT_EQ(Mark(&rexec_, (unsigned char *)q, 100000, &seen), VACCEL_OK);
	EXPECT_EQ(((unsigned char *)q)[0], 4);
	EXPECT_EQ(vaccel_buffer_free(&remote_, q), VACCEL_OK);
}

// A buffer of an earlier connection: its region is unmapped; freeing it is refused without
// touching it, and the new connection's pool is unaffected.
TEST_F(Zc, BufferFromAnEarlierConnectionIsRefused)
{
	void *old, *p;
	ASSERT_EQ(vaccel_buffer_alloc(&remote_, 3000, &old), VACCEL_OK);
	vaccel_session gone = remote_; // only its plugin pointer is used below
	Close();
	vaccel_cleanup(); // closes the connection and unmaps its region
	// With the plugin unloaded, the runtime does not know the pointer either.
	EXPECT_EQ(vaccel_buffer_free(&gone, old), VACCEL_EINVAL);

	ASSERT_EQ(Boot(agent_->socket()), VACCEL_OK);
	Open();
	EXPECT_EQ(vaccel_buffer_free(&remote_, old), VACCEL_EINVAL);
	std::string log = LogText();
	EXPECT_NE(log.find("closed or was replaced"), std::string::npos) << log;
	EXPECT_EQ(vaccel_buffer_free(&remote_, old), VACCEL_EINVAL) << "and it stays refused";
	ASSERT_EQ(vaccel_buffer_alloc(&remote_, 3000, &p), VACCEL_OK);
	uint64_t seen;
	memset(p, 5, 3000);
	ASSERT_EQ(Mark(&rexec_, (unsigned char *)p, 3000, &seen), VACCEL_OK);
	EXPECT_EQ(seen, 5u + 256u * 5u);
	EXPECT_EQ(vaccel_buffer_free(&remote_, p), VACCEL_OK);
}

// An agent that goes away: allocation fails with VACCEL_ESESS (instead of reconnecting under
// the feet of other threads), buffers of the lost connection can still be freed until a new
// session reconnects, and are foreign afterwards.
TEST(ZcLifecycle, AgentGoneAndBack)
{
	setenv("OPENBLAS_NUM_THREADS", "1", 1);
	auto first = std::make_unique<e2e::Agent>(AgentArgs("4k:16,1m:2"), "zc-first");
	ASSERT_TRUE(first->ok()) << first->Log();
	ASSERT_EQ(Boot(first->socket()), VACCEL_OK);
	vaccel_session s{};
	ASSERT_EQ(vaccel_session_init(&s, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_GENERIC), VACCEL_OK);
	void *kept, *freed_early, *p;
	ASSERT_EQ(vaccel_buffer_alloc(&s, 1000, &kept), VACCEL_OK);
	ASSERT_EQ(vaccel_buffer_alloc(&s, 1000, &freed_early), VACCEL_OK);
	ASSERT_EQ(first->Stop(), 0) << first->Log();
	// The next call notices (within the plugin's 1 s liveness check).
	int x = 1, out = 0;
	vaccel_arg rd[1] = {{&x, sizeof(x), VACCEL_ARG_RAW, 0, false}};
	vaccel_arg wr[1] = {{&out, sizeof(out), VACCEL_ARG_RAW, 0, false}};
	EXPECT_EQ(vaccel_exec(&s, e2e::Abs(e2e::Runfile("ZC_TESTLIB")).c_str(), "zc_mark", rd, 1, wr, 1),
		  VACCEL_ESESS);
	EXPECT_EQ(vaccel_buffer_alloc(&s, 1000, &p), VACCEL_ESESS);
	EXPECT_NE(LogText().find("no live connection"), std::string::npos) << LogText();
	EXPECT_EQ(vaccel_buffer_free(&s, freed_early), VACCEL_OK) << "its region is still mapped";
	vaccel_session_release(&s);

	e2e::Agent second(AgentArgs("4k:16,1m:2"), "zc-second");
	ASSERT_TRUE(second.ok()) << second.Log();
	setenv("VACCEL_SHM_SOCKET", second.socket().c_str(), 1);
	ASSERT_EQ(vaccel_session_init(&s, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_GENERIC), VACCEL_OK)
		<< "a new session reconnects";
	EXPECT_EQ(vaccel_buffer_free(&s, kept), VACCEL_EINVAL) << "a buffer of the lost region";
	ASSERT_EQ(vaccel_buffer_alloc(&s, 1000, &p), VACCEL_OK);
	EXPECT_EQ(vaccel_buffer_free(&s, p), VACCEL_OK);
	vaccel_session_release(&s);
	vaccel_cleanup();
	EXPECT_EQ(second.Stop(), 0) << second.Log();
}

// Local plugins have no hooks: the runtime's own buffers, with the same checks.
TEST_F(Zc, LocalSessionsGetWorkingBuffers)
{
	unsigned char *p;
	ASSERT_EQ(vaccel_buffer_alloc(&lexec_, 4096, (void **)&p), VACCEL_OK);
	EXPECT_EQ((uintptr_t)p % 64, 0u);
	memset(p, 0, 4096);
	p[0] = 30;
	uint64_t seen = 0;
	ASSERT_EQ(Mark(&lexec_, p, 4096, &seen), VACCEL_OK);
	EXPECT_EQ(seen, 30u);
	EXPECT_EQ(p[0], 31) << "a local plugin works on the caller's memory";
	EXPECT_EQ(vaccel_buffer_free(&lexec_, p + 64), VACCEL_EINVAL);
	EXPECT_EQ(vaccel_buffer_free(&lexec_, p), VACCEL_OK);
	EXPECT_EQ(vaccel_buffer_free(&lexec_, p), VACCEL_EINVAL);
}

void Fail(std::atomic<int> &failures, const char *what, int t, int i, int ret)
{
	if (failures++ < 5)
		fprintf(stderr, "thread %d round %d: %s failed (%d)\n", t, i, what, ret);
}

// Many threads allocating, calling and freeing on shared sessions (for TSan and ASan).
TEST_F(Zc, ThreadsShareSessions)
{
	std::atomic<int> failures{0};
	std::vector<std::thread> ts;
	for (int t = 0; t < 4; t++) {
		ts.emplace_back([&, t] {
			for (int i = 0; i < 50; i++) {
				vaccel_session *s = (i + t) % 2 ? &rexec_ : &lexec_;
				size_t len = 512 + (size_t)(t * 4096 + i * 100);
				unsigned char *p;
				int ret = vaccel_buffer_alloc(s, len, (void **)&p);
				if (ret != VACCEL_OK) {
					Fail(failures, "alloc", t, i, ret);
					continue;
				}
				memset(p, t, len);
				uint64_t seen = 0;
				ret = Mark(s, p, len, &seen);
				if (ret != VACCEL_OK || seen != (uint64_t)t + 256u * (uint64_t)t || p[0] != t + 1)
					Fail(failures, s == &rexec_ ? "remote call" : "local call", t, i, ret);
				// Not a double free here: another thread may already have the address again.
				if ((ret = vaccel_buffer_free(s, p + 64)) != VACCEL_EINVAL)
					Fail(failures, "free of the middle", t, i, ret);
				if ((ret = vaccel_buffer_free(s, p)) != VACCEL_OK)
					Fail(failures, "free", t, i, ret);
			}
		});
	}
	for (auto &t : ts)
		t.join();
	EXPECT_EQ(failures.load(), 0);
}

} // namespace
