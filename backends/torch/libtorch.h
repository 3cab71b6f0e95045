// SPDX-License-Identifier: Apache-2.0
// The C boundary of libtorch.cc, the plugin's only C++ (libtorch's API is
// C++). Every function catches every C++ exception, logs libtorch's message
// and returns 0 or -errno: nothing is thrown across into C.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <vaccel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Intra-op threads of libtorch (process-wide); n >= 1. 0 or -EINVAL. */
int ltorch_set_threads(int n);
int ltorch_threads(void);

/* Make libtorch allocate its CPU tensors through the plugin (process-wide,
 * from the next allocation on): those of 16 KiB or more page-aligned, lowest
 * address first, from an arena of up to arena_bytes on transparent huge
 * pages (past it from malloc, page-aligned), so that a model runs as fast in
 * every process (see libtorch.cc); smaller ones from malloc. Memory another
 * session's model held is zeroed before a model run, load or classify gets
 * it. A later call only changes the limit, unmapping free chunks beyond it. */
void ltorch_steady_allocator(size_t arena_bytes);
/* Bytes the arena has mapped, and of those handed out now. */
void ltorch_steady_stats(size_t *reserved, size_t *used);

/* Load model's TorchScript into the cache of (sess, model), if not yet.
 * -ENOENT: file missing; -EINVAL: not a TorchScript archive; -ENOMEM. */
int ltorch_model_load(struct vaccel_session *sess,
		      struct vaccel_resource *model);

/* 1 when the model's forward() reads its inputs in place (only through
 * operators whose memory accesses do not depend on the values: see
 * _plain_reads in libtorch.cc), 0 when each run copies them first; loads the
 * model into the cache if needed. -errno as ltorch_model_load. */
int ltorch_model_in_place(struct vaccel_session *sess,
			  struct vaccel_resource *model);

/* forward() on the inputs (loading the model first if needed); fills
 * outputs[0..nr_outputs) with tensors allocated with the runtime's helpers
 * (the caller deletes them). On error no output is left allocated.
 * -EINVAL: bad tensor descriptions, a model that rejects the inputs, fewer
 * results than nr_outputs, or a result dtype with no vaccel equivalent. */
int ltorch_model_run(struct vaccel_session *sess,
		     struct vaccel_resource *model,
		     struct vaccel_torch_tensor *const *inputs, int nr_inputs,
		     struct vaccel_torch_tensor **outputs, int nr_outputs);

/* *out = A(m x k) . B(k x n) + C(m x n), float tensors; -EINVAL. */
int ltorch_sgemm(const struct vaccel_torch_tensor *a,
		 const struct vaccel_torch_tensor *b,
		 const struct vaccel_torch_tensor *c, int m, int n, int k,
		 struct vaccel_torch_tensor **out);

/* forward() on one float image of shape 1 x ch x h x w (CHW data); *top1
 * is the index of the largest element of the flattened result. */
int ltorch_top1(struct vaccel_session *sess, struct vaccel_resource *model,
		const float *chw, int64_t ch, int64_t h, int64_t w,
		int64_t *top1);

/* Drop cached models: of (sess_id, res_id), or every model of sess_id when
 * res_id < 0, or everything when sess_id < 0. */
void ltorch_forget(int64_t sess_id, int64_t res_id);

#ifdef __cplusplus
}
#endif
