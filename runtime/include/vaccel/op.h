// SPDX-License-Identifier: Apache-2.0
// Operation types (same order and values as upstream) and struct vaccel_op.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vaccel_op_type {
	VACCEL_OP_NOOP = 0,
	VACCEL_OP_EXEC,
	VACCEL_OP_EXEC_WITH_RESOURCE,
	VACCEL_OP_IMAGE_CLASSIFY,
	VACCEL_OP_IMAGE_DETECT,
	VACCEL_OP_IMAGE_SEGMENT,
	VACCEL_OP_IMAGE_POSE,
	VACCEL_OP_IMAGE_DEPTH,
	VACCEL_OP_TF_MODEL_LOAD,
	VACCEL_OP_TF_MODEL_UNLOAD,
	VACCEL_OP_TF_MODEL_RUN,
	VACCEL_OP_TFLITE_MODEL_LOAD,
	VACCEL_OP_TFLITE_MODEL_UNLOAD,
	VACCEL_OP_TFLITE_MODEL_RUN,
	VACCEL_OP_TORCH_MODEL_LOAD,
	VACCEL_OP_TORCH_MODEL_RUN,
	VACCEL_OP_TORCH_SGEMM,
	VACCEL_OP_BLAS_SGEMM,
	VACCEL_OP_FPGA_ARRAYCOPY,
	VACCEL_OP_FPGA_MMULT,
	VACCEL_OP_FPGA_PARALLEL,
	VACCEL_OP_FPGA_VECTORADD,
	VACCEL_OP_MINMAX,
	VACCEL_OP_OPENCV,
	VACCEL_OP_MAX
} vaccel_op_type_t;

/* Older spellings kept for programs written against earlier releases. */
#define VACCEL_NO_OP VACCEL_OP_NOOP
#define VACCEL_EXEC VACCEL_OP_EXEC
#define VACCEL_EXEC_WITH_RESOURCE VACCEL_OP_EXEC_WITH_RESOURCE
#define VACCEL_BLAS_SGEMM VACCEL_OP_BLAS_SGEMM

/* "VACCEL_OP_NOOP" etc.; "VACCEL_OP_MAX" for out-of-range values. */
const char *vaccel_op_type_to_str(vaccel_op_type_t type);
/* "NOOP" etc. */
const char *vaccel_op_type_to_base_str(vaccel_op_type_t type);

struct vaccel_plugin;

struct vaccel_op {
	vaccel_op_type_t type;
	/* the plugin's implementation, cast to the op's signature on call */
	void *func;
	/* plugin the implementation belongs to */
	struct vaccel_plugin *owner;
};

/* Each plugin defines vaccel_this_plugin through VACCEL_PLUGIN(). */
extern struct vaccel_plugin vaccel_this_plugin;
#define VACCEL_OP_INIT(name, type, func) \
	{ (type), (void *)(func), (&vaccel_this_plugin) }

#ifdef __cplusplus
}
#endif
