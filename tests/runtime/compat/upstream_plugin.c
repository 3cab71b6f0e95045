// SPDX-License-Identifier: Apache-2.0
// A plugin written the way upstream's plugins are: VACCEL_PLUGIN(),
// VACCEL_OP_INIT(), static init/fini registering an ops table.
#include "vaccel.h"
#include <inttypes.h>
#include <stdio.h>

#define up_debug(fmt, ...) vaccel_debug("[upstream-style] " fmt, ##__VA_ARGS__)

static int up_noop(struct vaccel_session *sess)
{
	up_debug("noop session:%" PRId64, sess->id);
	return VACCEL_OK;
}

/* Naive row-major sgemm, enough to tell this plugin served the call. */
static int up_sgemm(struct vaccel_session *sess, long long int m,
		    long long int n, long long int k, float alpha, float *a,
		    long long int lda, float *b, long long int ldb, float beta,
		    float *c, long long int ldc)
{
	up_debug("sgemm session:%" PRId64, sess->id);
	for (long long i = 0; i < m; i++)
		for (long long j = 0; j < n; j++) {
			float acc = 0;
			for (long long p = 0; p < k; p++)
				acc += a[i * lda + p] * b[p * ldb + j];
			c[i * ldc + j] = alpha * acc + beta * c[i * ldc + j];
		}
	return VACCEL_OK;
}

/* Uses the TF status type and the enum-name helpers, as upstream's noop
 * plugin does. */
static int up_tf_model_load(struct vaccel_session *sess,
			    struct vaccel_resource *model,
			    struct vaccel_tf_status *status)
{
	char op[VACCEL_ENUM_STR_MAX];
	vaccel_op_type_name(VACCEL_OP_TF_MODEL_LOAD, op, VACCEL_ENUM_STR_MAX);
	up_debug("%s session:%" PRId64 " model:%" PRId64, op, sess->id,
		 model->id);
	return status ? vaccel_tf_status_init(status, 0, op) : VACCEL_OK;
}

struct vaccel_op ops[] = {
	VACCEL_OP_INIT(ops[0], VACCEL_OP_NOOP, up_noop),
	VACCEL_OP_INIT(ops[1], VACCEL_OP_BLAS_SGEMM, up_sgemm),
	VACCEL_OP_INIT(ops[2], VACCEL_OP_TF_MODEL_LOAD, up_tf_model_load),
};

static int init(void)
{
	return vaccel_plugin_register_ops(ops, sizeof(ops) / sizeof(ops[0]));
}

static int fini(void)
{
	return VACCEL_OK;
}

VACCEL_PLUGIN(.name = "upstream-style", .version = VACCEL_VERSION,
	      .vaccel_version = VACCEL_VERSION, .type = VACCEL_PLUGIN_DEBUG,
	      .init = init, .fini = fini)
