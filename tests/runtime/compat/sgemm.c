// SPDX-License-Identifier: Apache-2.0
// Upstream-style program: vaccel_sgemm on stack matrices, then a check
// against a naive loop (upstream only writes the result out).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <vaccel.h>

enum { M = 64, N = 48, K = 32 };

#define ELEM_2D(array, i, j, ld) (*((array) + (i) * (ld) + (j)))

static void init(int m, int n, int k, float *A, float *B, float *C)
{
	for (int i = 0; i < m; ++i)
		for (int j = 0; j < k; ++j)
			ELEM_2D(A, i, j, k) = ((float)i * (float)j) / (float)m;
	for (int i = 0; i < k; ++i)
		for (int j = 0; j < n; ++j)
			ELEM_2D(B, i, j, n) = ((float)i * (float)j) / (float)m;
	for (int i = 0; i < m; ++i)
		for (int j = 0; j < n; ++j)
			ELEM_2D(C, i, j, n) = ((float)i * (float)j) / (float)m;
}

int main(void)
{
	float alpha = 32.0F;
	float beta = 2.0F;
	static float A[M * K];
	static float B[K * N];
	static float C[M * N];
	static float R[M * N];

	init(M, N, K, A, B, C);
	init(M, N, K, A, B, R);

	struct vaccel_session session;
	int ret = vaccel_session_init(&session, 0);
	if (ret)
		return ret;

	ret = vaccel_sgemm(&session, M, N, K, alpha, (float *)A, K, (float *)B,
			   N, beta, (float *)C, N);
	if (ret) {
		fprintf(stderr, "Could not run sgemm\n");
		goto out;
	}

	for (int i = 0; i < M; i++)
		for (int j = 0; j < N; j++) {
			double acc = 0;
			for (int p = 0; p < K; p++)
				acc += (double)ELEM_2D(A, i, p, K) *
				       ELEM_2D(B, p, j, N);
			double want = alpha * acc + beta * ELEM_2D(R, i, j, N);
			double got = ELEM_2D(C, i, j, N);
			if (fabs(got - want) > 1e-4 * fabs(want) + 1e-3) {
				fprintf(stderr, "C[%d][%d] = %f, want %f\n", i,
					j, got, want);
				ret = 1;
				goto out;
			}
		}
	printf("sgemm %dx%dx%d: OK\n", M, N, K);

out:
	vaccel_session_release(&session);
	return ret;
}
