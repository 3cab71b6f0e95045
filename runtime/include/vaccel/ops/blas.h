// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vaccel/session.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Row-major single precision: C = alpha * A(m x k) * B(k x n) + beta * C. */
int vaccel_sgemm(struct vaccel_session *sess, long long int m, long long int n,
		 long long int k, float alpha, float *a, long long int lda,
		 float *b, long long int ldb, float beta, float *c,
		 long long int ldc);

#ifdef __cplusplus
}
#endif
