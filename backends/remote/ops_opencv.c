/* SPDX-License-Identifier: Apache-2.0 */
/* opencv across the transport: its arguments are already a genop layout (read, write). */
#include <vaccel.h>

#include "backends/remote/ops.h"

int shm_opencv(struct vaccel_session *sess, struct vaccel_arg *read, size_t nr_read,
	       struct vaccel_arg *write, size_t nr_write)
{
	struct vtr_io in[VTR_MAX_ARGS];

	return shm_forward(sess, VACCEL_OP_OPENCV, in, 0, read, nr_read, write, nr_write);
}
