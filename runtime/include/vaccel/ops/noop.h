// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vaccel/session.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Round trip to the session's plugin without work. */
int vaccel_noop(struct vaccel_session *sess);

#ifdef __cplusplus
}
#endif
