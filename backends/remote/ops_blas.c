/* SPDX-License-Identifier: Apache-2.0 */
/* sgemm across the transport: scalars in the table's buffer, matrices by offset when they
 * live in the pool (vaccel_buffer_alloc), else copied once. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <vaccel.h>

#include "backends/remote/ops.h"

/* Bytes a row-major rows x cols float matrix with leading dimension ld spans. */
static size_t _mat_bytes(long long rows, long long cols, long long ld)
{
	if (rows <= 0 || cols <= 0)
		return 0;
	return ((size_t)(rows - 1) * (size_t)ld + (size_t)cols) * sizeof(float);
}

int shm_sgemm(struct vaccel_session *sess, long long int m, long long int n, long long int k,
		     float alpha, float *a, long long int lda, float *b, long long int ldb, float beta,
		     float *c, long long int ldc)
{
	int64_t mm = m, nn = n, kk = k, llda = lda, lldb = ldb, lldc = ldc;

	if (shm_gone(sess))
		return VACCEL_ESESS;
	if (m < 0 || n < 0 || k < 0 || lda < (k > 1 ? k : 1) || ldb < (n > 1 ? n : 1) ||
	    ldc < (n > 1 ? n : 1))
		return VACCEL_EINVAL;
	struct vtr_io in[10] = {
		{&mm, 8, VACCEL_ARG_INT64},  {&nn, 8, VACCEL_ARG_INT64},
		{&kk, 8, VACCEL_ARG_INT64},  {&alpha, 4, VACCEL_ARG_FLOAT32},
		{a, _mat_bytes(m, k, lda), VACCEL_ARG_FLOAT32_ARRAY},
		{&llda, 8, VACCEL_ARG_INT64},
		{b, _mat_bytes(k, n, ldb), VACCEL_ARG_FLOAT32_ARRAY},
		{&lldb, 8, VACCEL_ARG_INT64}, {&beta, 4, VACCEL_ARG_FLOAT32},
		{&lldc, 8, VACCEL_ARG_INT64},
	};
	struct vtr_io out[1] = {{c, _mat_bytes(m, n, ldc), VACCEL_ARG_FLOAT32_ARRAY}};
	return shm_vret(shm_call(VTR_OP_VACCEL, shm_rsess(sess), VACCEL_OP_BLAS_SGEMM, in, 10, out, 1));
}
