// SPDX-License-Identifier: Apache-2.0
// vaccel_sgemm on the blas plugin against a naive double-precision loop.
#include <cmath>
#include <cstdlib>
#include <vector>

#include <gtest/gtest.h>

#include "tests/runtime/test_util.h"

using rt_test::Boot;
using rt_test::Path;

namespace {

struct Shape {
	long long m, n, k;
};

void Fill(std::vector<float> &v, unsigned seed)
{
	for (auto &x : v) {
		seed = seed * 1103515245u + 12345u;
		x = (float)((seed >> 16) % 2001) / 1000.0f - 1.0f;
	}
}

// C = alpha*A*B + beta*C, row-major, in double.
std::vector<double> Reference(const Shape &s, float alpha,
			      const std::vector<float> &a, long long lda,
			      const std::vector<float> &b, long long ldb,
			      float beta, const std::vector<float> &c,
			      long long ldc)
{
	std::vector<double> r(c.begin(), c.end());
	for (long long i = 0; i < s.m; i++)
		for (long long j = 0; j < s.n; j++) {
			double acc = 0;
			for (long long p = 0; p < s.k; p++)
				acc += (double)a[i * lda + p] *
				       (double)b[p * ldb + j];
			r[i * ldc + j] = alpha * acc + beta * (double)c[i * ldc + j];
		}
	return r;
}

class Sgemm : public ::testing::TestWithParam<Shape> {
    protected:
	void SetUp() override
	{
		ASSERT_EQ(Boot(Path("PLUGIN_BLAS")), VACCEL_OK);
		ASSERT_EQ(vaccel_session_init(&s, VACCEL_PLUGIN_CPU), VACCEL_OK);
	}
	void TearDown() override
	{
		vaccel_session_release(&s);
	}
	struct vaccel_session s;
};

TEST_P(Sgemm, MatchesNaiveReference)
{
	Shape sh = GetParam();
	// Padded leading dimensions exercise lda/ldb/ldc.
	long long lda = sh.k + 3, ldb = sh.n + 1, ldc = sh.n + 2;
	std::vector<float> a(sh.m * lda), b(sh.k * ldb), c(sh.m * ldc);
	Fill(a, 1);
	Fill(b, 2);
	Fill(c, 3);
	float alpha = 1.5f, beta = -0.5f;
	auto ref = Reference(sh, alpha, a, lda, b, ldb, beta, c, ldc);
	ASSERT_EQ(vaccel_sgemm(&s, sh.m, sh.n, sh.k, alpha, a.data(), lda,
			       b.data(), ldb, beta, c.data(), ldc),
		  VACCEL_OK);
	double tol = 1e-4 * (double)sh.k + 1e-5;
	size_t bad = 0;
	for (long long i = 0; i < sh.m; i++)
		for (long long j = 0; j < sh.n; j++) {
			double got = c[i * ldc + j], want = ref[i * ldc + j];
			if (std::fabs(got - want) > tol && bad++ < 5)
				ADD_FAILURE() << "C[" << i << "][" << j
					      << "] = " << got << ", want "
					      << want;
		}
	EXPECT_EQ(bad, 0u) << "elements off by more than " << tol;
}

INSTANTIATE_TEST_SUITE_P(OddSizes, Sgemm,
			 ::testing::Values(Shape{ 1, 1, 1 }, Shape{ 17, 33, 5 },
					   Shape{ 512, 512, 512 }));

TEST(SgemmApi, BadShapesAreRejected)
{
	ASSERT_EQ(Boot(Path("PLUGIN_BLAS")), VACCEL_OK);
	struct vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, 0), VACCEL_OK);
	float a[4] = { 0 }, b[4] = { 0 }, c[4] = { 0 };
	EXPECT_EQ(vaccel_sgemm(&s, -1, 2, 2, 1, a, 2, b, 2, 0, c, 2),
		  VACCEL_EINVAL);
	EXPECT_EQ(vaccel_sgemm(&s, 2, 2, 2, 1, a, 1, b, 2, 0, c, 2),
		  VACCEL_EINVAL)
		<< "lda smaller than k";
	EXPECT_EQ(vaccel_sgemm(&s, 2, 2, 2, 1, nullptr, 2, b, 2, 0, c, 2),
		  VACCEL_EINVAL);
	EXPECT_EQ(vaccel_sgemm(&s, 0, 2, 2, 1, a, 2, b, 2, 0, c, 2), VACCEL_OK)
		<< "empty product is fine";
	vaccel_session_release(&s);
}

TEST(SgemmApi, GenopUpstreamArgumentOrder)
{
	ASSERT_EQ(Boot(Path("PLUGIN_BLAS")), VACCEL_OK);
	struct vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, 0), VACCEL_OK);
	const long long M = 3, N = 4, K = 5;
	std::vector<float> a(M * K), b(K * N), c(M * N);
	Fill(a, 4);
	Fill(b, 5);
	Fill(c, 6);
	auto ref = Reference({ M, N, K }, 2.0f, a, K, b, N, 1.0f, c, N);
	long long m = M, n = N, k = K, lda = K, ldb = N, ldc = N;
	float alpha = 2.0f, beta = 1.0f;
	vaccel_op_type_t op = VACCEL_OP_BLAS_SGEMM;
	struct vaccel_arg read[11] = {
		{ &op, sizeof(op), VACCEL_ARG_RAW, 0, false },
		{ &m, sizeof(m), VACCEL_ARG_INT64, 0, false },
		{ &n, sizeof(n), VACCEL_ARG_INT64, 0, false },
		{ &k, sizeof(k), VACCEL_ARG_INT64, 0, false },
		{ &alpha, sizeof(alpha), VACCEL_ARG_FLOAT32, 0, false },
		{ a.data(), a.size() * sizeof(float), VACCEL_ARG_RAW, 0, false },
		{ &lda, sizeof(lda), VACCEL_ARG_INT64, 0, false },
		{ b.data(), b.size() * sizeof(float), VACCEL_ARG_RAW, 0, false },
		{ &ldb, sizeof(ldb), VACCEL_ARG_INT64, 0, false },
		{ &beta, sizeof(beta), VACCEL_ARG_FLOAT32, 0, false },
		{ &ldc, sizeof(ldc), VACCEL_ARG_INT64, 0, false },
	};
	struct vaccel_arg write[1] = {
		{ c.data(), c.size() * sizeof(float), VACCEL_ARG_RAW, 0, false },
	};
	ASSERT_EQ(vaccel_genop(&s, read, 11, write, 1), VACCEL_OK);
	for (size_t i = 0; i < c.size(); i++)
		EXPECT_NEAR(c[i], ref[i], 1e-4) << "element " << i;

	// A buffer shorter than its claimed shape is refused, not read.
	read[5].size = sizeof(float) * (M * K - 1);
	EXPECT_EQ(vaccel_genop(&s, read, 11, write, 1), VACCEL_EINVAL);
	read[5].size = a.size() * sizeof(float);
	write[0].size = 4;
	EXPECT_EQ(vaccel_genop(&s, read, 11, write, 1), VACCEL_EINVAL);
	EXPECT_EQ(vaccel_genop(&s, read, 9, write, 1), VACCEL_EINVAL);
	vaccel_session_release(&s);
}

} // namespace
