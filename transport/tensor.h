/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tensors across the transport (torch; the same records fit tf and tflite): each tensor is
 * a record (dtype, dims, size, and for outputs the data's offset in the output area) in a
 * records argument, its data a pool argument of its own, so the generic validator
 * (validate.h) has already checked that the data lies inside the pool.
 *
 * VTR_OP_VACCEL, op = VACCEL_OP_TORCH_MODEL_RUN:
 *   in  0  model handle (uint64, the id VTR_OP_RES_REGISTER returned)
 *   in  1  run options (bytes; length 0: none)
 *   in  2  input records: n x struct vtr_tensor
 *   in  3 .. 3+n  input data, one argument per record, in order
 *   out 0  output records: m x struct vtr_tensor (the host writes them)
 *   out 1  output area: the host packs the outputs' data here (64-byte aligned offsets)
 * op = VACCEL_OP_TORCH_MODEL_LOAD: in 0 the model handle.
 * op = VACCEL_OP_TORCH_SGEMM: in 0 three records (A, B, C), in 1..3 their data, in 4 M, N,
 *   K (3 x int32); out 0 one record, out 1 the area.
 * op = VACCEL_OP_TF_MODEL_RUN: in 0 handle, 1 run options, 2 input nodes (n x struct
 *   vtr_node), 3 output nodes (m x struct vtr_node), 4 input records, 5 .. 5+n data; out 0
 *   output records, 1 area, 2 status (struct vtr_status).
 * op = VACCEL_OP_TF_MODEL_LOAD / _UNLOAD: in 0 handle; out 0 status.
 * op = VACCEL_OP_TFLITE_MODEL_RUN: in 0 handle, 1 input records, 2 .. 2+n data; out 0 output
 *   records, 1 area, 2 status (1 byte). TFLITE_MODEL_LOAD / _UNLOAD: in 0 handle.
 * An output the host's plugin left empty is an all-zero record.
 *
 * The host copies a records argument once into private memory (vtr_tensors_copy) and checks
 * every record (vtr_tensor_check) before it builds a tensor from it. Pure C, no vAccel types:
 * the caller gives the element size of each dtype of its op family.
 * Functions return 0 or -errno.
 */
#ifndef VTR_TENSOR_H
#define VTR_TENSOR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VTR_TENSOR_MAX_DIMS 8u
#define VTR_TENSOR_MAX 16u       /* tensors per direction and request */
#define VTR_TENSOR_ALIGN 64u     /* outputs start on a cache line of the area */

struct vtr_tensor {
	uint32_t dtype;
	uint32_t nr_dims;
	uint64_t size; /* bytes of data: product of dims x element size */
	uint64_t off;  /* outputs: offset of the data in the output area */
	int64_t dims[VTR_TENSOR_MAX_DIMS];
};

/* A TF graph node: output index and a NUL-terminated name. */
#define VTR_NODE_NAME 124u
struct vtr_node {
	int32_t id;
	char name[VTR_NODE_NAME];
};

/* A TF status: code and a NUL-terminated message (truncated). */
struct vtr_status {
	uint8_t code;
	char message[255];
};

#ifndef __cplusplus
_Static_assert(sizeof(struct vtr_tensor) == 88, "a tensor record is 88 bytes");
_Static_assert(sizeof(struct vtr_node) == 128, "a node record is 128 bytes");
_Static_assert(sizeof(struct vtr_status) == 256, "a status is 256 bytes");
#endif

/*
 * Copies the records of a records argument (len bytes at src, shared memory) into out,
 * which holds max. Reads src exactly once. *nr is the count.
 * -EINVAL: len is not a whole number of records; -E2BIG: more than max.
 */
int vtr_tensors_copy(const void *src, uint64_t len, struct vtr_tensor *out, uint32_t max,
		     uint32_t *nr);

/*
 * Checks one private record: dtype known (elem_size[dtype] != 0, dtype < nr_dtypes),
 * min_dims <= nr_dims <= VTR_TENSOR_MAX_DIMS, every dim >= 0, and the product of the dims
 * times the element size, computed without overflow, equal to t->size.
 * -EINVAL (dtype, dims, count) or -EOVERFLOW (the product overflows) or -EMSGSIZE (size
 * differs from the product).
 */
int vtr_tensor_check(const struct vtr_tensor *t, const uint8_t *elem_size, uint32_t nr_dtypes,
		     uint32_t min_dims);

/*
 * Copies node records (len bytes at src, shared memory) once into out (max of them); each
 * name must end within its record. -EINVAL, -E2BIG.
 */
int vtr_nodes_copy(const void *src, uint64_t len, struct vtr_node *out, uint32_t max,
		   uint32_t *nr);

/*
 * Host, packing outputs: the next offset for size bytes in an area of cap bytes, after
 * *cursor bytes used; advances *cursor. -ENOSPC when it does not fit (no overflow).
 */
int vtr_tensor_place(uint64_t *cursor, uint64_t size, uint64_t cap, uint64_t *off);

#ifdef __cplusplus
}
#endif

#endif /* VTR_TENSOR_H */
