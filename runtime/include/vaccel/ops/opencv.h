// SPDX-License-Identifier: Apache-2.0
// OpenCV op: plugin-defined arguments, as with genop.
#pragma once

#include "vaccel/arg.h"
#include "vaccel/session.h"
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* read/write are the plugin's arguments, without genop's op-type head. */
int vaccel_opencv_unpack(struct vaccel_session *sess, struct vaccel_arg *read,
			 int nr_read, struct vaccel_arg *write, int nr_write);

#ifdef __cplusplus
}
#endif
