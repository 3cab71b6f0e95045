// SPDX-License-Identifier: Apache-2.0
// vaccel_genop: unpack read[0] (the op type) and the op's arguments in
// upstream's order, then call the typed op. Argument buffers are checked
// against the sizes they claim before use, since a host agent will pass
// guest-supplied arrays here.
#include "../rt.h"
#include <stdlib.h>
#include <string.h>

/* Integers arrive as 1, 2, 4 or 8 bytes (examples use int or int64). */
static int _arg_ll(const struct vaccel_arg *a, long long *out)
{
	if (!a->buf)
		return -EINVAL;
	switch (a->size) {
	case 1: { int8_t v; memcpy(&v, a->buf, 1); *out = v; return 0; }
	case 2: { int16_t v; memcpy(&v, a->buf, 2); *out = v; return 0; }
	case 4: { int32_t v; memcpy(&v, a->buf, 4); *out = v; return 0; }
	case 8: { int64_t v; memcpy(&v, a->buf, 8); *out = v; return 0; }
	default:
		return -EINVAL;
	}
}

static int _arg_float(const struct vaccel_arg *a, float *out)
{
	if (!a->buf || a->size != sizeof(float))
		return -EINVAL;
	memcpy(out, a->buf, sizeof(float));
	return 0;
}

/* A NUL-terminated copy: some callers size strings without the NUL. */
static char *_arg_str(const struct vaccel_arg *a)
{
	if (!a->buf || !a->size)
		return NULL;
	return strndup((const char *)a->buf, a->size);
}

static int _genop_noop(struct vaccel_session *sess, struct vaccel_arg *read,
		       int nr_read, struct vaccel_arg *write, int nr_write)
{
	(void)read;
	(void)nr_read;
	(void)write;
	(void)nr_write;
	return vaccel_noop(sess);
}

static int _genop_exec(struct vaccel_session *sess, struct vaccel_arg *read,
		       int nr_read, struct vaccel_arg *write, int nr_write)
{
	if (nr_read < 2) {
		vaccel_error("genop exec: need library and symbol, got %d "
			     "read args",
			     nr_read);
		return VACCEL_EINVAL;
	}
	char *lib = _arg_str(&read[0]);
	char *sym = _arg_str(&read[1]);
	int ret = VACCEL_EINVAL;
	if (lib && sym)
		ret = vaccel_exec(sess, lib, sym, nr_read > 2 ? &read[2] : NULL,
				  (size_t)(nr_read - 2), write,
				  (size_t)nr_write);
	else
		vaccel_error("genop exec: bad library or symbol argument");
	free(lib);
	free(sym);
	return ret;
}

static int _genop_exec_res(struct vaccel_session *sess,
			   struct vaccel_arg *read, int nr_read,
			   struct vaccel_arg *write, int nr_write)
{
	long long id;
	struct vaccel_resource *res;

	if (nr_read < 2 || _arg_ll(&read[0], &id)) {
		vaccel_error("genop exec_with_resource: need resource id and "
			     "symbol");
		return VACCEL_EINVAL;
	}
	int ret = vaccel_resource_get_by_id(&res, (vaccel_id_t)id);
	if (ret) {
		vaccel_error("genop exec_with_resource: no resource %lld", id);
		return ret;
	}
	char *sym = _arg_str(&read[1]);
	if (!sym)
		return VACCEL_EINVAL;
	ret = vaccel_exec_with_resource(sess, res, sym,
					nr_read > 2 ? &read[2] : NULL,
					(size_t)(nr_read - 2), write,
					(size_t)nr_write);
	free(sym);
	return ret;
}

/* Bytes a row-major rows x cols matrix with leading dimension ld spans. */
static bool _mat_fits(const struct vaccel_arg *a, long long rows,
		      long long cols, long long ld)
{
	if (rows < 0 || cols < 0 || ld < (cols > 1 ? cols : 1))
		return false;
	if (rows == 0 || cols == 0)
		return true;
	unsigned long long need;
	if (__builtin_mul_overflow((unsigned long long)(rows - 1),
				   (unsigned long long)ld, &need) ||
	    __builtin_add_overflow(need, (unsigned long long)cols, &need) ||
	    __builtin_mul_overflow(need, sizeof(float), &need))
		return false;
	return a->buf && a->size >= need;
}

static int _genop_sgemm(struct vaccel_session *sess, struct vaccel_arg *read,
			int nr_read, struct vaccel_arg *write, int nr_write)
{
	long long m, n, k, lda, ldb, ldc;
	float alpha, beta;
	struct vaccel_arg *a, *b;

	if (nr_write != 1) {
		vaccel_error("genop sgemm: need 1 write arg (C), got %d",
			     nr_write);
		return VACCEL_EINVAL;
	}
	if (nr_read == 10) {
		/* m, n, k, alpha, A, lda, B, ldb, beta, ldc */
		if (_arg_ll(&read[0], &m) || _arg_ll(&read[1], &n) ||
		    _arg_ll(&read[2], &k) || _arg_float(&read[3], &alpha) ||
		    _arg_ll(&read[5], &lda) || _arg_ll(&read[7], &ldb) ||
		    _arg_float(&read[8], &beta) || _arg_ll(&read[9], &ldc))
			goto bad;
		a = &read[4];
		b = &read[6];
	} else if (nr_read == 7) {
		/* older form: m, n, k, alpha, A, B, beta (dense matrices) */
		if (_arg_ll(&read[0], &m) || _arg_ll(&read[1], &n) ||
		    _arg_ll(&read[2], &k) || _arg_float(&read[3], &alpha) ||
		    _arg_float(&read[6], &beta))
			goto bad;
		a = &read[4];
		b = &read[5];
		lda = k;
		ldb = n;
		ldc = n;
	} else {
		vaccel_error("genop sgemm: need 10 read args, got %d", nr_read);
		return VACCEL_EINVAL;
	}
	if (!_mat_fits(a, m, k, lda) || !_mat_fits(b, k, n, ldb) ||
	    !_mat_fits(&write[0], m, n, ldc)) {
		vaccel_error("genop sgemm: a matrix buffer is smaller than "
			     "its dimensions (m=%lld n=%lld k=%lld)",
			     m, n, k);
		return VACCEL_EINVAL;
	}
	return vaccel_sgemm(sess, m, n, k, alpha, (float *)a->buf, lda,
			    (float *)b->buf, ldb, beta,
			    (float *)write[0].buf, ldc);
bad:
	vaccel_error("genop sgemm: malformed scalar argument");
	return VACCEL_EINVAL;
}

typedef int (*rt_unpack_fn)(struct vaccel_session *sess,
			    struct vaccel_arg *read, int nr_read,
			    struct vaccel_arg *write, int nr_write);

/* One per op type, for the table below. */
#define RT_GENOP_BY_TYPE(fn, TYPE)                                        \
	static int fn##_##TYPE(struct vaccel_session *sess,               \
			       struct vaccel_arg *read, int nr_read,      \
			       struct vaccel_arg *write, int nr_write)    \
	{                                                                 \
		return fn(VACCEL_OP_##TYPE, sess, read, nr_read, write,   \
			  nr_write);                                      \
	}
RT_GENOP_BY_TYPE(rt_image_unpack, IMAGE_CLASSIFY)
RT_GENOP_BY_TYPE(rt_image_unpack, IMAGE_DETECT)
RT_GENOP_BY_TYPE(rt_image_unpack, IMAGE_SEGMENT)
RT_GENOP_BY_TYPE(rt_image_unpack, IMAGE_POSE)
RT_GENOP_BY_TYPE(rt_image_unpack, IMAGE_DEPTH)
RT_GENOP_BY_TYPE(rt_fpga_unpack, FPGA_ARRAYCOPY)
RT_GENOP_BY_TYPE(rt_fpga_unpack, FPGA_MMULT)
RT_GENOP_BY_TYPE(rt_fpga_unpack, FPGA_PARALLEL)
RT_GENOP_BY_TYPE(rt_fpga_unpack, FPGA_VECTORADD)

/* Upstream's genop table: torch, tf and tflite have no genop form. */
static const rt_unpack_fn rt_unpack[VACCEL_OP_MAX] = {
	[VACCEL_OP_NOOP] = _genop_noop,
	[VACCEL_OP_EXEC] = _genop_exec,
	[VACCEL_OP_EXEC_WITH_RESOURCE] = _genop_exec_res,
	[VACCEL_OP_IMAGE_CLASSIFY] = rt_image_unpack_IMAGE_CLASSIFY,
	[VACCEL_OP_IMAGE_DETECT] = rt_image_unpack_IMAGE_DETECT,
	[VACCEL_OP_IMAGE_SEGMENT] = rt_image_unpack_IMAGE_SEGMENT,
	[VACCEL_OP_IMAGE_POSE] = rt_image_unpack_IMAGE_POSE,
	[VACCEL_OP_IMAGE_DEPTH] = rt_image_unpack_IMAGE_DEPTH,
	[VACCEL_OP_BLAS_SGEMM] = _genop_sgemm,
	[VACCEL_OP_FPGA_ARRAYCOPY] = rt_fpga_unpack_FPGA_ARRAYCOPY,
	[VACCEL_OP_FPGA_MMULT] = rt_fpga_unpack_FPGA_MMULT,
	[VACCEL_OP_FPGA_PARALLEL] = rt_fpga_unpack_FPGA_PARALLEL,
	[VACCEL_OP_FPGA_VECTORADD] = rt_fpga_unpack_FPGA_VECTORADD,
	[VACCEL_OP_MINMAX] = rt_minmax_unpack,
	[VACCEL_OP_OPENCV] = vaccel_opencv_unpack,
};

int vaccel_genop(struct vaccel_session *sess, struct vaccel_arg *read,
		 int nr_read, struct vaccel_arg *write, int nr_write)
{
	long long op;

	if (!sess || !read || nr_read < 1 || nr_write < 0 ||
	    (nr_write > 0 && !write)) {
		vaccel_error("genop: needs a session and the op type in read[0]");
		return VACCEL_EINVAL;
	}
	if (_arg_ll(&read[0], &op) || op < 0 || op >= VACCEL_OP_MAX) {
		vaccel_error("genop: invalid op type argument");
		return VACCEL_EINVAL;
	}
	rt_unpack_fn fn = rt_unpack[op];
	if (!fn) {
		vaccel_error("genop: %s has no genop form",
			     vaccel_op_type_to_str((vaccel_op_type_t)op));
		return VACCEL_ENOTSUP;
	}
	return fn(sess, &read[1], nr_read - 1, write, nr_write);
}
