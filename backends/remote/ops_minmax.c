/* SPDX-License-Identifier: Apache-2.0 */
/* minmax across the transport, in upstream's genop layout: read [indata, ndata, low, high],
 * write [outdata, min, max]. */
#include <vaccel.h>

#include "backends/remote/ops.h"

int shm_minmax(struct vaccel_session *sess, const double *indata, int ndata, int low_threshold,
	       int high_threshold, double *outdata, double *min, double *max)
{
	if (ndata < 0)
		return VACCEL_EINVAL;
	size_t bytes = (size_t)ndata * sizeof(double);
	struct vtr_io in[4] = {
		{(void *)indata, bytes, VACCEL_ARG_FLOAT64_ARRAY},
		{&ndata, sizeof(ndata), VACCEL_ARG_INT32},
		{&low_threshold, sizeof(low_threshold), VACCEL_ARG_INT32},
		{&high_threshold, sizeof(high_threshold), VACCEL_ARG_INT32},
	};
	struct vtr_io out[3] = {
		{outdata, bytes, VACCEL_ARG_FLOAT64_ARRAY},
		{min, sizeof(*min), VACCEL_ARG_FLOAT64},
		{max, sizeof(*max), VACCEL_ARG_FLOAT64},
	};

	return shm_op_call(sess, VACCEL_OP_MINMAX, in, 4, out, 3);
}
