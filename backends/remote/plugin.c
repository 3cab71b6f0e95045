/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest-side transport plugin: a vAccel plugin (is_virtio) that forwards sessions,
 * resources and every op to the host agent over the shared region. Each op travels as the
 * op type (in the request) plus its arguments in the order vaccel_genop takes them, and the
 * host runs it through vaccel_genop on its own session; how each op family's arguments
 * cross is in its own file (ops.h lists them). Sessions, resources and the ops table here.
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

#include "backends/remote/ops.h"

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
		return id ? shm_vret(id) : VACCEL_EBACKEND;
	}
	sess->remote_id = id;
	sess->priv = (void *)(uintptr_t)shm_conn_generation();
	return VACCEL_OK;
}

static int shm_session_release(struct vaccel_session *sess)
{
	if (shm_gone(sess))
		return VACCEL_OK; /* the host released it when the connection went */
	return shm_vret(shm_call(VTR_OP_SESS_RELEASE, shm_rsess(sess), 0, NULL, 0, NULL, 0));
}

static int shm_session_update(struct vaccel_session *sess, uint32_t flags)
{
	if (shm_gone(sess))
		return VACCEL_ESESS;
	return shm_vret(shm_call(VTR_OP_SESS_UPDATE, shm_rsess(sess), flags, NULL, 0, NULL, 0));
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

	if (shm_gone(sess))
		return VACCEL_ESESS;
	ret = _res_bytes(res, &buf, &len, &name, &owned);
	if (ret) {
		if (ret == VACCEL_ENOTSUP)
			vaccel_error("[shm] only one-file resources can be shipped to the host");
		return ret;
	}
	/* Shipped once; later calls name it by the id the host returns. */
	struct vtr_io in[2] = {
		{.buf = (void *)name, .len = strlen(name) + 1, .type = VACCEL_ARG_STRING},
		{.buf = buf, .len = len, .type = VACCEL_ARG_RAW},
	};
	int64_t id = shm_call(VTR_OP_RES_REGISTER, shm_rsess(sess), res->type, in, 2, NULL, 0);
	if (owned)
		free(buf);
	if (id <= 0)
		return id ? shm_vret(id) : VACCEL_EBACKEND;
	res->remote_id = id;
	return VACCEL_OK;
}

static int shm_resource_unregister(struct vaccel_resource *res, struct vaccel_session *sess)
{
	if (shm_gone(sess))
		return VACCEL_OK;
	return shm_vret(shm_call(VTR_OP_RES_UNREGISTER, shm_rsess(sess), (uint32_t)res->remote_id, NULL, 0,
			      NULL, 0));
}

static int shm_noop(struct vaccel_session *sess)
{
	if (shm_gone(sess))
		return VACCEL_ESESS;
	return shm_vret(shm_call(VTR_OP_VACCEL, shm_rsess(sess), VACCEL_OP_NOOP, NULL, 0, NULL, 0));
}

/* Designated slots per op type; the loop in shm_init skips the empty ones. */
static struct vaccel_op shm_ops[VACCEL_OP_MAX] = {
#define SHM_OP(TYPE, FN) [TYPE] = VACCEL_OP_INIT(shm_ops[TYPE], TYPE, FN)
	SHM_OP(VACCEL_OP_NOOP, shm_noop),
	SHM_OP(VACCEL_OP_EXEC, shm_exec),
	SHM_OP(VACCEL_OP_EXEC_WITH_RESOURCE, shm_exec_with_resource),
	SHM_OP(VACCEL_OP_IMAGE_CLASSIFY, shm_image_classification),
	SHM_OP(VACCEL_OP_IMAGE_DETECT, shm_image_detection),
	SHM_OP(VACCEL_OP_IMAGE_SEGMENT, shm_image_segmentation),
	SHM_OP(VACCEL_OP_IMAGE_POSE, shm_image_pose),
	SHM_OP(VACCEL_OP_IMAGE_DEPTH, shm_image_depth),
	SHM_OP(VACCEL_OP_TF_MODEL_LOAD, shm_tf_model_load),
	SHM_OP(VACCEL_OP_TF_MODEL_UNLOAD, shm_tf_model_unload),
	SHM_OP(VACCEL_OP_TF_MODEL_RUN, shm_tf_model_run),
	SHM_OP(VACCEL_OP_TFLITE_MODEL_LOAD, shm_tflite_model_load),
	SHM_OP(VACCEL_OP_TFLITE_MODEL_UNLOAD, shm_tflite_model_unload),
	SHM_OP(VACCEL_OP_TFLITE_MODEL_RUN, shm_tflite_model_run),
	SHM_OP(VACCEL_OP_TORCH_MODEL_LOAD, shm_torch_model_load),
	SHM_OP(VACCEL_OP_TORCH_MODEL_RUN, shm_torch_model_run),
	SHM_OP(VACCEL_OP_TORCH_SGEMM, shm_torch_sgemm),
	SHM_OP(VACCEL_OP_BLAS_SGEMM, shm_sgemm),
	SHM_OP(VACCEL_OP_FPGA_ARRAYCOPY, shm_fpga_arraycopy),
	SHM_OP(VACCEL_OP_FPGA_MMULT, shm_fpga_mmult),
	SHM_OP(VACCEL_OP_FPGA_PARALLEL, shm_fpga_parallel),
	SHM_OP(VACCEL_OP_FPGA_VECTORADD, shm_fpga_vadd),
	SHM_OP(VACCEL_OP_MINMAX, shm_minmax),
	SHM_OP(VACCEL_OP_OPENCV, shm_opencv),
#undef SHM_OP
};

static int shm_init(void)
{
	for (size_t i = 0; i < VACCEL_OP_MAX; i++) {
		int ret = shm_ops[i].func ? vaccel_plugin_register_ops(&shm_ops[i], 1) : VACCEL_OK;
		if (ret)
			return ret;
	}
	return VACCEL_OK;
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
