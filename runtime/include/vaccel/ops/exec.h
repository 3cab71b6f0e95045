// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vaccel/arg.h"
#include "vaccel/resource.h"
#include "vaccel/session.h"
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Call `int fn_symbol(struct vaccel_arg *in, size_t nr_in,
 *                     struct vaccel_arg *out, size_t nr_out)` from library. */
int vaccel_exec(struct vaccel_session *sess, const char *library,
		const char *fn_symbol, struct vaccel_arg *read, size_t nr_read,
		struct vaccel_arg *write, size_t nr_write);

/* Same, with the library given as a LIB resource registered with sess
 * (VACCEL_EPERM when it is not). */
int vaccel_exec_with_resource(struct vaccel_session *sess,
			      struct vaccel_resource *resource,
			      const char *fn_symbol, struct vaccel_arg *read,
			      size_t nr_read, struct vaccel_arg *write,
			      size_t nr_write);

#ifdef __cplusplus
}
#endif
