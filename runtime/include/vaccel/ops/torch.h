// SPDX-License-Identifier: Apache-2.0
// PyTorch ops: TorchScript model load/run, torch sgemm, and the tensor and
// buffer helpers (same names, layouts and ownership rules as upstream).
#pragma once

#include "vaccel/resource.h"
#include "vaccel/session.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element types: libtorch's ScalarType value plus one. */
enum vaccel_torch_data_type {
	VACCEL_TORCH_BYTE = 1, /* uint8 */
	VACCEL_TORCH_CHAR = 2, /* int8 */
	VACCEL_TORCH_SHORT = 3, /* int16 */
	VACCEL_TORCH_INT = 4, /* int32 */
	VACCEL_TORCH_LONG = 5, /* int64 */
	VACCEL_TORCH_HALF = 6, /* IEEE binary16 */
	VACCEL_TORCH_FLOAT = 7 /* float32 */
};

/* Opaque bytes (run options). Init/new take ownership of data: release and
 * delete free() it unless take_data reclaimed it first. */
struct vaccel_torch_buffer {
	char *data;
	size_t size;
};

/* All return VACCEL_OK, or VACCEL_EINVAL for a NULL argument (VACCEL_ENOMEM
 * when new cannot allocate). */
int vaccel_torch_buffer_init(struct vaccel_torch_buffer *buffer, char *data,
			     size_t size);
int vaccel_torch_buffer_release(struct vaccel_torch_buffer *buffer);
int vaccel_torch_buffer_new(struct vaccel_torch_buffer **buffer, char *data,
			    size_t size);
int vaccel_torch_buffer_delete(struct vaccel_torch_buffer *buffer);
/* Hand data and size to the caller and empty the buffer. */
int vaccel_torch_buffer_take_data(struct vaccel_torch_buffer *buffer,
				  void **data, size_t *size);

/* A dense row-major tensor. dims is always owned by the tensor; data only
 * when owned is true (allocate, or a plugin's output). */
struct vaccel_torch_tensor {
	void *data;
	size_t size; /* bytes of data */
	bool owned;
	int64_t nr_dims;
	int64_t *dims;
	enum vaccel_torch_data_type data_type;
};

/* Copy nr_dims dims (zeros when dims is NULL); no data yet.
 * VACCEL_EINVAL: NULL tensor or nr_dims < 1; VACCEL_ENOMEM. */
int vaccel_torch_tensor_init(struct vaccel_torch_tensor *tensor,
			     int64_t nr_dims, const int64_t *dims,
			     enum vaccel_torch_data_type type);
/* Free dims, and data when owned; leave the tensor empty. */
int vaccel_torch_tensor_release(struct vaccel_torch_tensor *tensor);
/* Heap-allocated tensor, as init. */
int vaccel_torch_tensor_new(struct vaccel_torch_tensor **tensor,
			    int64_t nr_dims, const int64_t *dims,
			    enum vaccel_torch_data_type type);
/* As new, plus total_size zeroed bytes of owned data (none when 0). */
int vaccel_torch_tensor_allocate(struct vaccel_torch_tensor **tensor,
				 int64_t nr_dims, const int64_t *dims,
				 enum vaccel_torch_data_type type,
				 size_t total_size);
/* Release, then free the tensor itself (for new/allocate/plugin outputs). */
int vaccel_torch_tensor_delete(struct vaccel_torch_tensor *tensor);
/* Point at caller-owned data (owned becomes false; a previously owned
 * buffer is not freed, a warning is logged). */
int vaccel_torch_tensor_set_data(struct vaccel_torch_tensor *tensor, void *data,
				 size_t size);
/* Hand data and size to the caller, who now owns them. */
int vaccel_torch_tensor_take_data(struct vaccel_torch_tensor *tensor,
				  void **data, size_t *size);

/* Load the TorchScript model of a MODEL resource registered with sess.
 * VACCEL_EINVAL: NULL argument or not a MODEL; VACCEL_EPERM: not
 * registered with sess; VACCEL_ENOTSUP: the plugin has no such op. */
int vaccel_torch_model_load(struct vaccel_session *sess,
			    struct vaccel_resource *model);

/* Run the model's forward on nr_inputs tensors; the plugin allocates the
 * nr_outputs output tensors, which the caller frees with
 * vaccel_torch_tensor_delete. run_options may be NULL. Same checks as load;
 * a shape or dtype the model rejects is VACCEL_EINVAL. */
int vaccel_torch_model_run(struct vaccel_session *sess,
			   struct vaccel_resource *model,
			   const struct vaccel_torch_buffer *run_options,
			   struct vaccel_torch_tensor *const *inputs,
			   int nr_inputs, struct vaccel_torch_tensor **outputs,
			   int nr_outputs);

/* out[0] = A(MxK) * B(KxN) + C(MxN), float tensors; upstream deprecates it. */
__attribute__((deprecated("The function will be removed in a future release")))
int vaccel_torch_sgemm(struct vaccel_session *sess,
		       struct vaccel_torch_tensor **in_A,
		       struct vaccel_torch_tensor **in_B,
		       struct vaccel_torch_tensor **in_C, int M, int N, int K,
		       struct vaccel_torch_tensor **out);

#ifdef __cplusplus
}
#endif
