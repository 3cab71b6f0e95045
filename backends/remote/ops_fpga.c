/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The FPGA ops across the transport, in upstream's genop layout: the input arrays read,
 * the output arrays written back; lengths travel as the arrays' sizes.
 */
#include <vaccel.h>

#include "backends/remote/ops.h"

int shm_fpga_arraycopy(struct vaccel_session *sess, int a[], int out_a[], size_t len_a)
{
	struct vtr_io in[1] = {{a, len_a * sizeof(int), VACCEL_ARG_INT32_ARRAY}};
	struct vtr_io out[1] = {{out_a, len_a * sizeof(int), VACCEL_ARG_INT32_ARRAY}};

	return shm_op_call(sess, VACCEL_OP_FPGA_ARRAYCOPY, in, 1, out, 1);
}

int shm_fpga_mmult(struct vaccel_session *sess, float a[], float b[], float c[], size_t len_a)
{
	struct vtr_io in[2] = {{a, len_a * sizeof(float), VACCEL_ARG_FLOAT32_ARRAY},
			       {b, len_a * sizeof(float), VACCEL_ARG_FLOAT32_ARRAY}};
	struct vtr_io out[1] = {{c, len_a * sizeof(float), VACCEL_ARG_FLOAT32_ARRAY}};

	return shm_op_call(sess, VACCEL_OP_FPGA_MMULT, in, 2, out, 1);
}

int shm_fpga_parallel(struct vaccel_session *sess, float a[], float b[], float add_output[],
		      float mult_output[], size_t len_a)
{
	struct vtr_io in[2] = {{a, len_a * sizeof(float), VACCEL_ARG_FLOAT32_ARRAY},
			       {b, len_a * sizeof(float), VACCEL_ARG_FLOAT32_ARRAY}};
	struct vtr_io out[2] = {{add_output, len_a * sizeof(float), VACCEL_ARG_FLOAT32_ARRAY},
				{mult_output, len_a * sizeof(float), VACCEL_ARG_FLOAT32_ARRAY}};

	return shm_op_call(sess, VACCEL_OP_FPGA_PARALLEL, in, 2, out, 2);
}

int shm_fpga_vadd(struct vaccel_session *sess, float a[], float b[], float c[], size_t len_a,
		  size_t len_b)
{
	struct vtr_io in[2] = {{a, len_a * sizeof(float), VACCEL_ARG_FLOAT32_ARRAY},
			       {b, len_b * sizeof(float), VACCEL_ARG_FLOAT32_ARRAY}};
	struct vtr_io out[1] = {{c, len_a * sizeof(float), VACCEL_ARG_FLOAT32_ARRAY}};

	return shm_op_call(sess, VACCEL_OP_FPGA_VECTORADD, in, 2, out, 1);
}
