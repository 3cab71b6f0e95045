// SPDX-License-Identifier: Apache-2.0
// FPGA demo ops (upstream deprecates them). len_* count elements.
#pragma once

#include "vaccel/session.h"
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VACCEL_FPGA_DEPRECATED \
	__attribute__((deprecated( \
		"The function will be removed in a future release")))

/* out_a = a */
VACCEL_FPGA_DEPRECATED int vaccel_fpga_arraycopy(struct vaccel_session *sess,
						 int a[], int out_a[],
						 size_t len_a);
/* c = a x b */
VACCEL_FPGA_DEPRECATED int vaccel_fpga_mmult(struct vaccel_session *sess,
					     float a[], float b[], float c[],
					     size_t len_a);
/* add_output = a + b, mult_output = a * b */
VACCEL_FPGA_DEPRECATED int
vaccel_fpga_parallel(struct vaccel_session *sess, float a[], float b[],
		     float add_output[], float mult_output[], size_t len_a);
/* c = a + b */
VACCEL_FPGA_DEPRECATED int vaccel_fpga_vadd(struct vaccel_session *sess,
					    float a[], float b[], float c[],
					    size_t len_a, size_t len_b);

#ifdef __cplusplus
}
#endif
