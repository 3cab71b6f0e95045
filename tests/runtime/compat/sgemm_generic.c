// SPDX-License-Identifier: Apache-2.0
// Upstream-style program: sgemm through vaccel_genop with v0.7's argument
// order (m, n, k, alpha, a, lda, b, ldb, beta, ldc; write: c), checked.
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <vaccel.h>

enum { M = 32, N = 24, K = 16 };

int main(void)
{
	int ret;
	const float alpha = 1.0F;
	const float beta = 0.0F;
	float a[M * K];
	float b[K * N];
	float c[M * N];
	long long int m = M;
	long long int n = N;
	long long int k = K;

	for (int i = 0; i < M * K; i++)
		a[i] = (float)(i % 7);
	for (int i = 0; i < K * N; i++)
		b[i] = (float)(i % 5);

	struct vaccel_session sess;
	ret = vaccel_session_init(&sess, 0);
	if (ret) {
		fprintf(stderr, "Could not initialize vAccel session\n");
		return 1;
	}

	vaccel_op_type_t op_type = VACCEL_OP_BLAS_SGEMM;
	struct vaccel_arg read[] = {
		{ .size = sizeof(vaccel_op_type_t), .buf = &op_type },
		{ .size = sizeof(m), .buf = &m },
		{ .size = sizeof(n), .buf = &n },
		{ .size = sizeof(k), .buf = &k },
		{ .size = sizeof(alpha), .buf = (void *)&alpha },
		{ .size = sizeof(a), .buf = a },
		{ .size = sizeof(k), .buf = &k },
		{ .size = sizeof(b), .buf = b },
		{ .size = sizeof(n), .buf = &n },
		{ .size = sizeof(beta), .buf = (void *)&beta },
		{ .size = sizeof(n), .buf = &n },
	};
	struct vaccel_arg write[] = {
		{ .size = sizeof(c), .buf = c },
	};

	ret = vaccel_genop(&sess, read, sizeof(read) / sizeof(read[0]), write,
			   sizeof(write) / sizeof(write[0]));
	if (ret) {
		fprintf(stderr, "Could not run sgemm: %d\n", ret);
		goto out;
	}
	for (int i = 0; i < M; i++)
		for (int j = 0; j < N; j++) {
			float want = 0;
			for (int p = 0; p < K; p++)
				want += a[i * K + p] * b[p * N + j];
			if (fabsf(c[i * N + j] - want) > 1e-3f) {
				fprintf(stderr, "C[%d][%d] = %f, want %f\n", i,
					j, c[i * N + j], want);
				ret = 1;
				goto out;
			}
		}
	printf("sgemm_generic: OK\n");
out:
	vaccel_session_release(&sess);
	return ret;
}
