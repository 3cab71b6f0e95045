// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vaccel/arg.h"
#include "vaccel/session.h"

#ifdef __cplusplus
extern "C" {
#endif

/* read[0] holds the op type (1, 2, 4 or 8 bytes; upstream sends a uint8);
 * the rest are that op's arguments in upstream's order. Every op but the
 * torch, TF and TFLite ones has a genop form (VACCEL_ENOTSUP for those);
 * VACCEL_EINVAL for a malformed argument list. */
int vaccel_genop(struct vaccel_session *sess, struct vaccel_arg *read,
		 int nr_read, struct vaccel_arg *write, int nr_write);

#ifdef __cplusplus
}
#endif
