/* SPDX-License-Identifier: Apache-2.0 */
/* The ML ops a guest sends in the tensor-records layout (transport/tensor.h): serve_ml.c. */
#ifndef AGENT_SERVE_ML_H
#define AGENT_SERVE_ML_H

#include <stdint.h>

#include "runtime/agent/agent.h"
#include "transport/validate.h"

/* 1 if op travels in the tensor-records layout (serve_ml serves it, not genop). */
int serve_ml_handles(int64_t op);
/* 1 if op's first argument is a model's resource handle (every one but torch sgemm). */
int serve_ml_uses_model(int64_t op);
/*
 * Serves one validated request of such an op on the guest's session s: copies and checks the
 * tensor records once, runs the op, packs the outputs into the guest's output area. model is
 * the resource its handle names, bound by the caller on the poller (NULL: none or not this
 * session's). Runs on a worker: reads no guest table. The completion's res: 0 or -errno
 * (-EINVAL malformed, -ENOSPC outputs larger than the area).
 */
int32_t serve_ml(struct guest *g, struct vaccel_session *s, const struct vtr_req *rq,
		 struct vaccel_resource *model);

#endif
