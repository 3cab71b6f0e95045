// SPDX-License-Identifier: Apache-2.0
// The noop plugin: answers every op it knows without doing the work, and
// logs each call at debug level. Useful to test the path to a plugin.
#include <inttypes.h>
#include <vaccel.h>

#define noop_debug(fmt, ...) \
	vaccel_debug("[noop] session:%" PRId64 " " fmt, sess->id, ##__VA_ARGS__)

static int noop_noop(struct vaccel_session *sess)
{
	noop_debug("noop");
	return VACCEL_OK;
}

static int noop_exec(struct vaccel_session *sess, const char *library,
		     const char *fn_symbol, struct vaccel_arg *read,
		     size_t nr_read, struct vaccel_arg *write, size_t nr_write)
{
	(void)read;
	(void)write;
	noop_debug("exec %s:%s read %zu write %zu", library, fn_symbol,
		   nr_read, nr_write);
	return VACCEL_OK;
}

static int noop_exec_with_resource(struct vaccel_session *sess,
				   struct vaccel_resource *res,
				   const char *fn_symbol,
				   struct vaccel_arg *read, size_t nr_read,
				   struct vaccel_arg *write, size_t nr_write)
{
	(void)read;
	(void)write;
	noop_debug("exec_with_resource res %" PRId64 " %s read %zu write %zu",
		   res->id, fn_symbol, nr_read, nr_write);
	return VACCEL_OK;
}

static int noop_sgemm(struct vaccel_session *sess, long long int m,
		      long long int n, long long int k, float alpha, float *a,
		      long long int lda, float *b, long long int ldb,
		      float beta, float *c, long long int ldc)
{
	(void)a;
	(void)b;
	(void)c;
	noop_debug("sgemm m %lld n %lld k %lld alpha %f lda %lld ldb %lld "
		   "beta %f ldc %lld",
		   m, n, k, (double)alpha, lda, ldb, (double)beta, ldc);
	return VACCEL_OK;
}

static struct vaccel_op noop_ops[] = {
	VACCEL_OP_INIT(noop_ops[0], VACCEL_OP_NOOP, noop_noop),
	VACCEL_OP_INIT(noop_ops[1], VACCEL_OP_EXEC, noop_exec),
	VACCEL_OP_INIT(noop_ops[2], VACCEL_OP_EXEC_WITH_RESOURCE,
		       noop_exec_with_resource),
	VACCEL_OP_INIT(noop_ops[3], VACCEL_OP_BLAS_SGEMM, noop_sgemm),
};

static int noop_init(void)
{
	return vaccel_plugin_register_ops(noop_ops,
					  sizeof(noop_ops) / sizeof(noop_ops[0]));
}

static int noop_fini(void)
{
	return VACCEL_OK;
}

VACCEL_PLUGIN(.name = "noop", .version = "0.1", .vaccel_version = VACCEL_VERSION,
	      .type = VACCEL_PLUGIN_DEBUG, .init = noop_init,
	      .fini = noop_fini)
