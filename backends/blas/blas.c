// SPDX-License-Identifier: Apache-2.0
// The blas plugin: vaccel_sgemm on OpenBLAS, the CPU backend.
// VACCEL_BLAS_THREADS=N sets OpenBLAS's thread count at init (OpenBLAS may
// already be loaded, so its own OPENBLAS_NUM_THREADS can come too late).
#include <cblas.h>
#include <inttypes.h>
#include <stdlib.h>
#include <vaccel.h>

static int blas_sgemm(struct vaccel_session *sess, long long int m,
		      long long int n, long long int k, float alpha, float *a,
		      long long int lda, float *b, long long int ldb,
		      float beta, float *c, long long int ldc)
{
	/* Row-major: A is m x k, B is k x n, C is m x n. */
	if (m < 0 || n < 0 || k < 0 || lda < (k > 1 ? k : 1) ||
	    ldb < (n > 1 ? n : 1) || ldc < (n > 1 ? n : 1) ||
	    m > INT32_MAX || n > INT32_MAX || k > INT32_MAX ||
	    lda > INT32_MAX || ldb > INT32_MAX || ldc > INT32_MAX) {
		vaccel_error("[blas] session:%" PRId64 " bad sgemm shape m %lld "
			     "n %lld k %lld lda %lld ldb %lld ldc %lld",
			     sess->id, m, n, k, lda, ldb, ldc);
		return VACCEL_EINVAL;
	}
	if (m == 0 || n == 0)
		return VACCEL_OK;
	if (!c || (k > 0 && (!a || !b))) {
		vaccel_error("[blas] session:%" PRId64 " sgemm: NULL matrix",
			     sess->id);
		return VACCEL_EINVAL;
	}
	vaccel_debug("[blas] session:%" PRId64 " sgemm %lldx%lldx%lld",
		     sess->id, m, n, k);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n,
		    (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
	return VACCEL_OK;
}

static struct vaccel_op blas_ops[] = {
	VACCEL_OP_INIT(blas_ops[0], VACCEL_OP_BLAS_SGEMM, blas_sgemm),
};

static int blas_init(void)
{
	const char *t = getenv("VACCEL_BLAS_THREADS");
	if (t && *t) {
		int n = atoi(t);
		if (n > 0)
			openblas_set_num_threads(n);
	}
	vaccel_debug("[blas] OpenBLAS with %d thread(s)",
		     openblas_get_num_threads());
	return vaccel_plugin_register_ops(blas_ops,
					  sizeof(blas_ops) / sizeof(blas_ops[0]));
}

static int blas_fini(void)
{
	return VACCEL_OK;
}

VACCEL_PLUGIN(.name = "blas", .version = "0.1", .vaccel_version = VACCEL_VERSION,
	      .type = VACCEL_PLUGIN_CPU, .init = blas_init, .fini = blas_fini)
