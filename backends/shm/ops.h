/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin's ops, one file per op family: how each op's arguments cross the transport.
 *   ops_exec.c   exec, exec_with_resource (genop layout: strings, a resource handle, args)
 *   ops_blas.c   sgemm (scalars and matrices; matrices already in the pool travel by offset)
 *   ops_async.c  asynchronous genop, flush, reap
 *   ops_torch.c  torch model load/run and sgemm: tensor records (transport/tensor.h), inputs
 *                by offset when in the pool, outputs packed by the host and copied out once
 *   ops_image.c  the five image ops: image bytes in, names and text out (genop layout)
 *   ops_fpga.c   the four FPGA ops, ops_minmax.c minmax, ops_opencv.c opencv (genop layout)
 * Sessions, resources, noop and the ops table are shm_plugin.c. Functions return vAccel's
 * codes (VACCEL_OK or a positive VACCEL_E*).
 */
#ifndef SHM_OPS_H
#define SHM_OPS_H

#include <stdint.h>

#include <vaccel.h>

#include "backends/shm/conn.h"

#pragma GCC visibility push(hidden)

/* The host's id of a session, and the connection number it was made on. */
static inline uint32_t shm_rsess(const struct vaccel_session *sess)
{
	return (uint32_t)sess->remote_id;
}

static inline uint64_t shm_sess_gen(const struct vaccel_session *sess)
{
	return (uint64_t)(uintptr_t)sess->priv;
}

/* A session lives on the connection it was made on; after the agent hung up (or a
 * reconnect) the host no longer has it. */
static inline int shm_gone(const struct vaccel_session *sess)
{
	return !shm_conn_alive(shm_sess_gen(sess));
}

/* Forwards a genop-shaped call: in[] (nr_in filled, room for VTR_MAX_ARGS) are the op's
 * own first arguments, read[] and write[] the caller's. */
int shm_forward(struct vaccel_session *sess, vaccel_op_type_t op, struct vtr_io *in, uint32_t nr_in,
		struct vaccel_arg *read, size_t nr_read, struct vaccel_arg *write, size_t nr_write);

/* One op in genop's layout, after the op type: in[] read, out[] written back. */
static inline int shm_op_call(struct vaccel_session *sess, vaccel_op_type_t op,
			      const struct vtr_io *in, uint32_t nr_in, const struct vtr_io *out,
			      uint32_t nr_out)
{
	if (shm_gone(sess))
		return VACCEL_ESESS;
	return shm_vret(shm_call(VTR_OP_VACCEL, shm_rsess(sess), op, in, nr_in, out, nr_out));
}

int shm_exec(struct vaccel_session *sess, const char *library, const char *fn_symbol,
	     struct vaccel_arg *read, size_t nr_read, struct vaccel_arg *write, size_t nr_write);
int shm_exec_with_resource(struct vaccel_session *sess, struct vaccel_resource *res,
			   const char *fn_symbol, struct vaccel_arg *read, size_t nr_read,
			   struct vaccel_arg *write, size_t nr_write);
int shm_sgemm(struct vaccel_session *sess, long long int m, long long int n, long long int k,
	      float alpha, float *a, long long int lda, float *b, long long int ldb, float beta,
	      float *c, long long int ldc);

int shm_torch_model_load(struct vaccel_session *sess, struct vaccel_resource *model);
int shm_torch_model_run(struct vaccel_session *sess, struct vaccel_resource *model,
			const struct vaccel_torch_buffer *run_options,
			struct vaccel_torch_tensor *const *inputs, int nr_inputs,
			struct vaccel_torch_tensor **outputs, int nr_outputs);
int shm_torch_sgemm(struct vaccel_session *sess, struct vaccel_torch_tensor **in_A,
		    struct vaccel_torch_tensor **in_B, struct vaccel_torch_tensor **in_C, int M, int N,
		    int K, struct vaccel_torch_tensor **out);

int shm_image_classification(struct vaccel_session *sess, const void *img, unsigned char *out_text,
			     unsigned char *out_imgname, size_t len_img, size_t len_out_text,
			     size_t len_out_imgname);
int shm_image_detection(struct vaccel_session *sess, const void *img, unsigned char *out_imgname,
			size_t len_img, size_t len_out_imgname);
int shm_image_segmentation(struct vaccel_session *sess, const void *img,
			   unsigned char *out_imgname, size_t len_img, size_t len_out_imgname);
int shm_image_pose(struct vaccel_session *sess, const void *img, unsigned char *out_imgname,
		   size_t len_img, size_t len_out_imgname);
int shm_image_depth(struct vaccel_session *sess, const void *img, unsigned char *out_imgname,
		    size_t len_img, size_t len_out_imgname);

int shm_fpga_arraycopy(struct vaccel_session *sess, int a[], int out_a[], size_t len_a);
int shm_fpga_mmult(struct vaccel_session *sess, float a[], float b[], float c[], size_t len_a);
int shm_fpga_parallel(struct vaccel_session *sess, float a[], float b[], float add_output[],
		      float mult_output[], size_t len_a);
int shm_fpga_vadd(struct vaccel_session *sess, float a[], float b[], float c[], size_t len_a,
		  size_t len_b);

int shm_minmax(struct vaccel_session *sess, const double *indata, int ndata, int low_threshold,
	       int high_threshold, double *outdata, double *min, double *max);
int shm_opencv(struct vaccel_session *sess, struct vaccel_arg *read, size_t nr_read,
	       struct vaccel_arg *write, size_t nr_write);

#pragma GCC visibility pop

#endif
