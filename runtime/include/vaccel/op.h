// SPDX-License-Identifier: Apache-2.0
// Operation types (same order and values as upstream) and struct vaccel_op.
#pragma once

#include "list.h"
#include "utils/enum.h"
#include "utils/str.h"
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define _ENUM_PREFIX VACCEL_OP
#define VACCEL_OP_TYPE_ENUM_LIST(VACCEL_ENUM_ITEM) \
	VACCEL_ENUM_ITEM(NOOP, 0, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(EXEC, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(EXEC_WITH_RESOURCE, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(IMAGE_CLASSIFY, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(IMAGE_DETECT, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(IMAGE_SEGMENT, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(IMAGE_POSE, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(IMAGE_DEPTH, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(TF_MODEL_LOAD, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(TF_MODEL_UNLOAD, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(TF_MODEL_RUN, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(TFLITE_MODEL_LOAD, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(TFLITE_MODEL_UNLOAD, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(TFLITE_MODEL_RUN, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(TORCH_MODEL_LOAD, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(TORCH_MODEL_RUN, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(TORCH_SGEMM, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(BLAS_SGEMM, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(FPGA_ARRAYCOPY, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(FPGA_MMULT, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(FPGA_PARALLEL, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(FPGA_VECTORADD, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(MINMAX, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(OPENCV, _ENUM_PREFIX)

VACCEL_ENUM_DEF_WITH_STR_FUNCS(vaccel_op_type, _ENUM_PREFIX,
			       VACCEL_OP_TYPE_ENUM_LIST)
#undef _ENUM_PREFIX

/* Older spellings kept for programs written against earlier releases. */
#define VACCEL_NO_OP VACCEL_OP_NOOP
#define VACCEL_EXEC VACCEL_OP_EXEC
#define VACCEL_EXEC_WITH_RESOURCE VACCEL_OP_EXEC_WITH_RESOURCE
#define VACCEL_BLAS_SGEMM VACCEL_OP_BLAS_SGEMM

/* "noop", "image_classify" ... into lower (size bytes); returns lower. */
static inline char *vaccel_op_type_to_lower(vaccel_op_type_t op_type,
					    char *lower, size_t size)
{
	vaccel_str_to_lower(vaccel_op_type_to_base_str(op_type), lower, size,
			    NULL);
	return lower;
}

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
