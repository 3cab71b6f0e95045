// SPDX-License-Identifier: Apache-2.0
// vaccel_sgemm.
#include "../rt.h"
#include <inttypes.h>

typedef int (*rt_sgemm_fn)(struct vaccel_session *sess, long long int m,
			   long long int n, long long int k, float alpha,
			   float *a, long long int lda, float *b,
			   long long int ldb, float beta, float *c,
			   long long int ldc);

/* int64_t in the API (upstream's); plugins declare long long (same ABI). */
int vaccel_sgemm(struct vaccel_session *sess, int64_t m, int64_t n, int64_t k,
		 float alpha, float *a, int64_t lda, float *b, int64_t ldb,
		 float beta, float *c, int64_t ldc)
{
	if (!sess || !sess->plugin)
		return VACCEL_EINVAL;

	rt_sgemm_fn fn = (rt_sgemm_fn)rt_op_func(sess, VACCEL_OP_BLAS_SGEMM);
	if (!fn) {
		vaccel_debug("session:%" PRId64 " plugin %s has no BLAS_SGEMM",
			     sess->id, rt_plugin_name(sess->plugin));
		return VACCEL_ENOTSUP;
	}
	vaccel_prof_region_start(&rt_op_prof[VACCEL_OP_BLAS_SGEMM]);
	int ret = fn(sess, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
	vaccel_prof_region_stop(&rt_op_prof[VACCEL_OP_BLAS_SGEMM]);
	return ret;
}
