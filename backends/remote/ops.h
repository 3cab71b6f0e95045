/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin's ops, one file per op family: how each op's arguments cross the transport.
 *   ops_exec.c   exec, exec_with_resource (genop layout: strings, a resource handle, args)
 *   ops_blas.c   sgemm (scalars and matrices; matrices already in the pool travel by offset)
 *   ops_async.c  asynchronous genop, flush, reap
 *   ops_tensor.c how a tensor crosses (transport/tensor.h): input records and data (by
 *                offset when in the pool), outputs packed by the host into one pool area
 *   ops_torch.c  torch model load/run and sgemm; ops_tf.c tf and tflite load/run/unload
 *   ops_image.c  the five image ops: image bytes in, names and text out (genop layout)
 *   ops_fpga.c   the four FPGA ops, ops_minmax.c minmax, ops_opencv.c opencv (genop layout)
 * Sessions, resources, noop and the ops table are plugin.c. Functions return vAccel's
 * codes (VACCEL_OK or a positive VACCEL_E*).
 */
#ifndef SHM_OPS_H
#define SHM_OPS_H

#include <stdint.h>

#include <vaccel.h>

#include "backends/remote/conn.h"
#include "shm/pool.h"
#include "transport/tensor.h"

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

/* ops_tensor.c: an input record and its data argument; VACCEL_EINVAL for a bad tensor. */
int shm_tensor_record(uint32_t dtype, int64_t nr_dims, const void *dims, int dims32, void *data,
		      size_t size, struct vtr_tensor *r, struct vtr_io *io);

/* One call whose nr_out output tensors come back in records and the output area. */
struct shm_tensor_call {
	uint32_t nr_out;
	struct vtr_tensor rec[VTR_TENSOR_MAX];
	struct vshm_pool *pool;
	struct vshm_buf area;
};
/* Sends in[] with the output records, the area and status (if not NULL) as outputs. On
 * VACCEL_OK the caller reads the outputs with shm_tensor_out, then calls shm_tensor_done. */
int shm_tensor_call(struct vaccel_session *sess, vaccel_op_type_t op, const struct vtr_io *in,
		    uint32_t nr_in, struct shm_tensor_call *tc, const struct vtr_io *status);
/* Output i: *r NULL when empty, else its record and its data in the area; VACCEL_EBACKEND
 * when the record points outside the area. */
int shm_tensor_out(const struct shm_tensor_call *tc, uint32_t i, const struct vtr_tensor **r,
		   const void **data);
void shm_tensor_done(struct shm_tensor_call *tc);

/* A tensor family's output array (outs: its struct ..._tensor **): set entry i to NULL,
 * allocate it for record r (*data: where its r->size bytes go), delete it. */
struct shm_tensor_family {
	void (*clear)(void *outs, uint32_t i);
	int (*alloc)(void *outs, uint32_t i, const struct vtr_tensor *r, void **data);
	void (*del)(void *outs, uint32_t i);
};
/* After a successful shm_tensor_call: every output into outs (none left on failure), the
 * area given back. VACCEL_OK, or the first failure. */
int shm_tensor_outputs(struct shm_tensor_call *tc, void *outs, const struct shm_tensor_family *f);

int shm_torch_model_load(struct vaccel_session *sess, struct vaccel_resource *model);
int shm_torch_model_run(struct vaccel_session *sess, struct vaccel_resource *model,
			const struct vaccel_torch_buffer *run_options,
			struct vaccel_torch_tensor *const *inputs, int nr_inputs,
			struct vaccel_torch_tensor **outputs, int nr_outputs);
int shm_torch_sgemm(struct vaccel_session *sess, struct vaccel_torch_tensor **in_A,
		    struct vaccel_torch_tensor **in_B, struct vaccel_torch_tensor **in_C, int M, int N,
		    int K, struct vaccel_torch_tensor **out);

int shm_tf_model_load(struct vaccel_session *sess, struct vaccel_resource *model,
		      struct vaccel_tf_status *status);
int shm_tf_model_unload(struct vaccel_session *sess, struct vaccel_resource *model,
			struct vaccel_tf_status *status);
int shm_tf_model_run(struct vaccel_session *sess, struct vaccel_resource *model,
		     const struct vaccel_tf_buffer *run_options, const struct vaccel_tf_node *in_nodes,
		     struct vaccel_tf_tensor *const *in_tensors, int nr_inputs,
		     const struct vaccel_tf_node *out_nodes, struct vaccel_tf_tensor **out_tensors,
		     int nr_outputs, struct vaccel_tf_status *status);
int shm_tflite_model_load(struct vaccel_session *sess, struct vaccel_resource *model);
int shm_tflite_model_unload(struct vaccel_session *sess, struct vaccel_resource *model);
int shm_tflite_model_run(struct vaccel_session *sess, struct vaccel_resource *model,
			 struct vaccel_tflite_tensor *const *inputs, int nr_inputs,
			 struct vaccel_tflite_tensor **outputs, int nr_outputs, uint8_t *status);

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
