/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest-side transport plugin: a vAccel plugin (is_virtio) that forwards sessions,
 * resources and every op to the host agent over the shared region. Each op travels as the
 * op type (in the request) plus its arguments in the order vaccel_genop takes them, and the
 * host runs it through vaccel_genop on its own session.
 *
 * Configuration: VACCEL_SHM_SOCKET names the agent's socket (default
 * /tmp/vaccel-agent.sock). The connection is made at the first session.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vaccel.h>

#include "backends/shm/conn.h"

/* Completion res (0, an id, or -errno) to vAccel's positive codes. */
static int _vret(int64_t res)
{
	return shm_vret(res);
}

_Static_assert(SHM_SUBMIT_WAIT == VACCEL_ASYNC_WAIT && SHM_SUBMIT_MORE == VACCEL_ASYNC_MORE,
	       "asynchronous flags pass to shm_submit unchanged");

static uint32_t _rsess(const struct vaccel_session *sess)
{
	return (uint32_t)sess->remote_id;
}

/* The connection number a session was made on. */
static uint64_t _sess_gen(const struct vaccel_session *sess)
{
	return (uint64_t)(uintptr_t)sess->priv;
}

/* A session lives on the connection it was made on; after the agent hung up (or a
 * reconnect) the host no longer has it. */
static int _gone(const struct vaccel_session *sess)
{
	return !shm_conn_alive(_sess_gen(sess));
}

static int shm_session_init(struct vaccel_session *sess, uint32_t flags)
{
	int ret = shm_conn_ensure();

	if (ret == -EBUSY) {
		vaccel_error("[shm] %s was lost and calls on the old connection are "
			     "still in progress; retry when they have failed", shm_conn_where());
		return VACCEL_EBUSY;
	}
	if (ret) {
		vaccel_error("[shm] session init failed: no connection to %s",
			     shm_conn_where());
		return ret == -EACCES ? VACCEL_EACCES : VACCEL_EIO;
	}
	int64_t id = shm_call(VTR_OP_SESS_INIT, 0, flags, NULL, 0, NULL, 0);
	if (id <= 0) {
		vaccel_error("[shm] the agent refused a session: %s", strerror(id ? (int)-id : EPROTO));
		return id ? _vret(id) : VACCEL_EBACKEND;
	}
	sess->remote_id = id;
	sess->priv = (void *)(uintptr_t)shm_conn_generation();
	return VACCEL_OK;
}

static int shm_session_release(struct vaccel_session *sess)
{
	if (_gone(sess))
		return VACCEL_OK; /* the host released it when the connection went */
	return _vret(shm_call(VTR_OP_SESS_RELEASE, _rsess(sess), 0, NULL, 0, NULL, 0));
}

static int shm_session_update(struct vaccel_session *sess, uint32_t flags)
{
	if (_gone(sess))
		return VACCEL_ESESS;
	return _vret(shm_call(VTR_OP_SESS_UPDATE, _rsess(sess), flags, NULL, 0, NULL, 0));
}

/* The bytes of a one-file resource: its blob in memory, or its file read once. */
static int _res_bytes(struct vaccel_resource *res, void **buf, size_t *len, const char **name,
		      int *owned)
{
	*owned = 0;
	if (res->nr_blobs == 1 && res->blobs[0]->data) {
		*buf = res->blobs[0]->data;
		*len = res->blobs[0]->size;
		*name = res->blobs[0]->name;
		return 0;
	}
	if (res->nr_paths != 1)
		return VACCEL_ENOTSUP;
	const char *path = res->paths[0];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		vaccel_error("[shm] cannot read resource file %s: %s", path, strerror(errno));
		return VACCEL_EIO;
	}
	*buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	*len = 0;
	while (*buf && *len < (size_t)st.st_size) {
		ssize_t n = read(fd, (char *)*buf + *len, (size_t)st.st_size - *len);
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	close(fd);
	if (!*buf || *len != (size_t)st.st_size) {
		free(*buf);
		return VACCEL_EIO;
	}
	const char *slash = strrchr(path, '/');
	*name = slash ? slash + 1 : path;
	*owned = 1;
	return 0;
}

static int shm_resource_register(struct vaccel_resource *res, struct vaccel_session *sess)
{
	void *buf;
	size_t len;
	const char *name;
	int owned, ret;

	if (_gone(sess))
		return VACCEL_ESESS;
	ret = _res_bytes(res, &buf, &len, &name, &owned);
	if (ret) {
		if (ret == VACCEL_ENOTSUP)
			vaccel_error("[shm] only one-file resources can be shipped to the host");
		return ret;
	}
	/* Shipped once; later calls name it by the id the host returns. */
	struct shm_io in[2] = {
		{.buf = (void *)name, .len = strlen(name) + 1, .type = VACCEL_ARG_STRING},
		{.buf = buf, .len = len, .type = VACCEL_ARG_RAW},
	};
	int64_t id = shm_call(VTR_OP_RES_REGISTER, _rsess(sess), res->type, in, 2, NULL, 0);
	if (owned)
		free(buf);
	if (id <= 0)
		return id ? _vret(id) : VACCEL_EBACKEND;
	res->remote_id = id;
	return VACCEL_OK;
}

static int shm_resource_unregister(struct vaccel_resource *res, struct vaccel_session *sess)
{
	if (_gone(sess))
		return VACCEL_OK;
	return _vret(shm_call(VTR_OP_RES_UNREGISTER, _rsess(sess), (uint32_t)res->remote_id, NULL, 0,
			      NULL, 0));
}

static int shm_noop(struct vaccel_session *sess)
{
	if (_gone(sess))
		return VACCEL_ESESS;
	return _vret(shm_call(VTR_OP_VACCEL, _rsess(sess), VACCEL_OP_NOOP, NULL, 0, NULL, 0));
}

/* Forwards a genop-shaped call: in[] and out[] are the op's arguments after the op type. */
static int _forward(struct vaccel_session *sess, vaccel_op_type_t op, struct shm_io *in,
		    uint32_t nr_in, struct vaccel_arg *read, size_t nr_read, struct vaccel_arg *write,
		    size_t nr_write)
{
	struct shm_io out[VTR_MAX_ARGS];

	if (_gone(sess))
		return VACCEL_ESESS;
	if (nr_in + nr_read + nr_write > VTR_MAX_ARGS) {
		vaccel_error("[shm] too many arguments (%zu) for one request",
			     (size_t)nr_in + nr_read + nr_write);
		return VACCEL_EINVAL;
	}
	for (size_t i = 0; i < nr_read; i++)
		in[nr_in++] = (struct shm_io){read[i].buf, read[i].size, read[i].type};
	for (size_t i = 0; i < nr_write; i++)
		out[i] = (struct shm_io){write[i].buf, write[i].size, write[i].type};
	return _vret(shm_call(VTR_OP_VACCEL, _rsess(sess), op, in, nr_in, out, (uint32_t)nr_write));
}

static int shm_exec(struct vaccel_session *sess, const char *library, const char *fn_symbol,
		    struct vaccel_arg *read, size_t nr_read, struct vaccel_arg *write, size_t nr_write)
{
	struct shm_io in[VTR_MAX_ARGS] = {
		{(void *)library, strlen(library) + 1, VACCEL_ARG_STRING},
		{(void *)fn_symbol, strlen(fn_symbol) + 1, VACCEL_ARG_STRING},
	};
	return _forward(sess, VACCEL_OP_EXEC, in, 2, read, nr_read, write, nr_write);
}

static int shm_exec_with_resource(struct vaccel_session *sess, struct vaccel_resource *res,
				  const char *fn_symbol, struct vaccel_arg *read, size_t nr_read,
				  struct vaccel_arg *write, size_t nr_write)
{
	uint64_t handle = (uint64_t)res->remote_id;
	struct shm_io in[VTR_MAX_ARGS] = {
		{&handle, sizeof(handle), VACCEL_ARG_UINT64},
		{(void *)fn_symbol, strlen(fn_symbol) + 1, VACCEL_ARG_STRING},
	};
	if (!res->remote_id) {
		vaccel_error("[shm] resource %lld is not registered with the host", (long long)res->id);
		return VACCEL_EINVAL;
	}
	return _forward(sess, VACCEL_OP_EXEC_WITH_RESOURCE, in, 2, read, nr_read, write, nr_write);
}

/* Bytes a row-major rows x cols float matrix with leading dimension ld spans. */
static size_t _mat_bytes(long long rows, long long cols, long long ld)
{
	if (rows <= 0 || cols <= 0)
		return 0;
	return ((size_t)(rows - 1) * (size_t)ld + (size_t)cols) * sizeof(float);
}

static int shm_sgemm(struct vaccel_session *sess, long long int m, long long int n, long long int k,
		     float alpha, float *a, long long int lda, float *b, long long int ldb, float beta,
		     float *c, long long int ldc)
{
	int64_t mm = m, nn = n, kk = k, llda = lda, lldb = ldb, lldc = ldc;

	if (_gone(sess))
		return VACCEL_ESESS;
	if (m < 0 || n < 0 || k < 0 || lda < (k > 1 ? k : 1) || ldb < (n > 1 ? n : 1) ||
	    ldc < (n > 1 ? n : 1))
		return VACCEL_EINVAL;
	struct shm_io in[10] = {
		{&mm, 8, VACCEL_ARG_INT64},  {&nn, 8, VACCEL_ARG_INT64},
		{&kk, 8, VACCEL_ARG_INT64},  {&alpha, 4, VACCEL_ARG_FLOAT32},
		{a, _mat_bytes(m, k, lda), VACCEL_ARG_FLOAT32_ARRAY},
		{&llda, 8, VACCEL_ARG_INT64},
		{b, _mat_bytes(k, n, ldb), VACCEL_ARG_FLOAT32_ARRAY},
		{&lldb, 8, VACCEL_ARG_INT64}, {&beta, 4, VACCEL_ARG_FLOAT32},
		{&lldc, 8, VACCEL_ARG_INT64},
	};
	struct shm_io out[1] = {{c, _mat_bytes(m, n, ldc), VACCEL_ARG_FLOAT32_ARRAY}};
	return _vret(shm_call(VTR_OP_VACCEL, _rsess(sess), VACCEL_OP_BLAS_SGEMM, in, 10, out, 1));
}

/*
 * An integer argument of 1, 2, 4 or 8 bytes. Loads of the argument's own width: a wider
 * load over a narrower store cannot be forwarded and would wait for the store buffer, which
 * on this path holds request stores still waiting for their ring lines.
 */
static inline int _int_arg(const struct vaccel_arg *a, int64_t *v)
{
	switch (a->size) {
	case 1: { int8_t x; memcpy(&x, a->buf, 1); *v = x; return 0; }
	case 2: { int16_t x; memcpy(&x, a->buf, 2); *v = x; return 0; }
	case 4: { int32_t x; memcpy(&x, a->buf, 4); *v = x; return 0; }
	case 8: { int64_t x; memcpy(&x, a->buf, 8); *v = x; return 0; }
	}
	return -EINVAL;
}

static int _async_ret(int ret)
{
	return ret == -EAGAIN ? VACCEL_EAGAIN : _vret(ret);
}

/* The general case of shm_genop_async: arguments beyond the op type (out of line, so
 * that its argument arrays stay off the noop path). */
__attribute__((noinline)) static int _genop_async_args(struct vaccel_session *sess, int64_t op,
						       struct vaccel_arg *read, int nr_read,
						       struct vaccel_arg *write, int nr_write,
						       uint64_t user_data, unsigned flags)
{
	struct shm_io in[VTR_MAX_ARGS], out[VTR_MAX_ARGS];
	uint32_t nr_in = 0;
	uint64_t handle;
	int first = 1;

	if (_gone(sess))
		return VACCEL_ESESS; /* before looking up its resources */
	if (op == VACCEL_OP_EXEC_WITH_RESOURCE && nr_read >= 2) {
		/* The guest names its own resource; the host knows it by the handle it returned. */
		struct vaccel_resource *res;
		int64_t id = 0;
		if (!read[1].buf || _int_arg(&read[1], &id))
			return VACCEL_EINVAL;
		if (vaccel_resource_get_by_id(&res, id) || !res->remote_id)
			return VACCEL_EINVAL;
		handle = (uint64_t)res->remote_id;
		in[nr_in++] = (struct shm_io){&handle, sizeof(handle), VACCEL_ARG_UINT64};
		first = 2;
	}
	if ((size_t)nr_read - (size_t)first + nr_in + (size_t)nr_write > VTR_MAX_ARGS)
		return VACCEL_EINVAL;
	for (int i = first; i < nr_read; i++)
		in[nr_in++] = (struct shm_io){read[i].buf, read[i].size, read[i].type};
	for (int i = 0; i < nr_write; i++)
		out[i] = (struct shm_io){write[i].buf, write[i].size, write[i].type};
	return _async_ret(shm_submit(_sess_gen(sess), VTR_OP_VACCEL, _rsess(sess), (uint32_t)op, in,
				     nr_in, out, (uint32_t)nr_write, user_data, flags));
}

/*
 * Asynchronous genop: the same arguments as the synchronous path, tagged with user_data.
 * An op without arguments beyond its type (a noop) goes straight to shm_submit. A session
 * of a lost connection is refused there (VACCEL_ESESS).
 */
static int shm_genop_async(struct vaccel_session *sess, struct vaccel_arg *read, int nr_read,
			   struct vaccel_arg *write, int nr_write, uint64_t user_data, unsigned flags)
{
	int64_t op = 0;

	if (!read[0].buf || _int_arg(&read[0], &op) || op < 0 || op >= VACCEL_OP_MAX)
		return VACCEL_EINVAL;
	flags &= SHM_SUBMIT_WAIT | SHM_SUBMIT_MORE;
	if (__builtin_expect(nr_read == 1 && nr_write == 0, 1))
		return _async_ret(shm_submit0(_sess_gen(sess), VTR_OP_VACCEL, _rsess(sess), (uint32_t)op,
					      user_data, flags));
	return _genop_async_args(sess, op, read, nr_read, write, nr_write, user_data, flags);
}

/* vaccel_noop_async's own entry (VACCEL_PLUGIN_ASYNC_NOOP_SYMBOL): genop's noop case. */
__attribute__((visibility("default"))) int vaccel_plugin_async_noop(struct vaccel_session *sess,
								    uint64_t user_data,
								    unsigned int flags)
{
	return _async_ret(shm_submit0(_sess_gen(sess), VTR_OP_VACCEL, _rsess(sess), VACCEL_OP_NOOP,
				      user_data, flags));
}

static int shm_async_flush(struct vaccel_session *sess)
{
	(void)sess;
	int ret = shm_flush();
	return ret == -EAGAIN ? VACCEL_OK : _vret(ret); /* the rest goes out with the next reap */
}

static int shm_async_reap(struct vaccel_session *sess, struct vaccel_completion *out,
			  unsigned min_nr, unsigned max_nr, int timeout_ms, unsigned *nr)
{
	(void)sess;
	int ret = shm_reap(out, min_nr, max_nr, min_nr ? timeout_ms : 0, nr);

	if (ret == -ETIMEDOUT)
		return *nr >= min_nr ? VACCEL_OK : VACCEL_ETIMEDOUT;
	return _vret(ret);
}

static unsigned shm_async_inflight(struct vaccel_session *sess)
{
	(void)sess;
	return shm_inflight();
}

__attribute__((visibility("default"))) const struct vaccel_plugin_async_ops vaccel_plugin_async_ops = {
	.genop = shm_genop_async,
	.flush = shm_async_flush,
	.reap = shm_async_reap,
	.inflight = shm_async_inflight,
};

static struct vaccel_op shm_ops[] = {
	VACCEL_OP_INIT(shm_ops[0], VACCEL_OP_NOOP, shm_noop),
	VACCEL_OP_INIT(shm_ops[1], VACCEL_OP_EXEC, shm_exec),
	VACCEL_OP_INIT(shm_ops[2], VACCEL_OP_EXEC_WITH_RESOURCE, shm_exec_with_resource),
	VACCEL_OP_INIT(shm_ops[3], VACCEL_OP_BLAS_SGEMM, shm_sgemm),
};

static int shm_init(void)
{
	return vaccel_plugin_register_ops(shm_ops, sizeof(shm_ops) / sizeof(shm_ops[0]));
}

static int shm_fini(void)
{
	shm_conn_close();
	return VACCEL_OK;
}

VACCEL_PLUGIN(.name = "shm", .version = "0.1", .vaccel_version = VACCEL_VERSION,
	      .type = VACCEL_PLUGIN_REMOTE, .is_virtio = true, .init = shm_init, .fini = shm_fini,
	      .session_init = shm_session_init, .session_release = shm_session_release,
	      .session_update = shm_session_update, .resource_register = shm_resource_register,
	      .resource_unregister = shm_resource_unregister)
