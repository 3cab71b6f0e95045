/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which queue pair a thread uses: one of its own, claimed with a CAS on the pair's owner
 * word and kept until the thread exits, while any is free; threads beyond that share the
 * last pair under its lock. Asynchronous calls need a pair of their own.
 */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vaccel.h>

#include "backends/remote/conn_state.h"

void shm_qp_thread_exit(void *arg)
{
	struct gqp *q = arg;

	/* A pair with requests still in flight stays claimed: another thread taking it over
	 * would reap completions that are not its own. */
	if (q && q->owner && vtr_client_pending(&q->c) == 0) {
		uint32_t who = q->owner;
		q->owner = 0;
		vtr_qp_unclaim(q->c.qp.sh, who);
	}
}

struct gqp *shm_qp_get(int *shared)
{
	if (!t_qp || t_gen != g_conn.gen) {
		uint32_t tid = (uint32_t)syscall(SYS_gettid);

		t_gen = g_conn.gen;
		t_qp = &g_conn.qps[g_conn.nr_qps - 1];
		for (uint32_t q = 0; q + 1 < g_conn.nr_qps; q++) {
			if (vtr_qp_claim(g_conn.qps[q].c.qp.sh, tid) == 0) {
				g_conn.qps[q].owner = tid;
				t_qp = &g_conn.qps[q];
				pthread_setspecific(g_conn.key, t_qp);
				break;
			}
		}
	}
	*shared = !t_qp->owner;
	if (*shared)
		pthread_mutex_lock(&t_qp->lock);
	return t_qp;
}

void shm_qp_put(struct gqp *q, int shared)
{
	if (shared)
		pthread_mutex_unlock(&q->lock);
}

__attribute__((noinline)) int shm_qp_async(uint64_t gen, struct gqp **qo)
{
	int shared, ret;

	if ((ret = shm_enter()))
		return ret;
	if (gen != g_conn.gen)
		return -ECONNRESET; /* the session belongs to a lost connection */
	struct gqp *q = shm_qp_get(&shared);
	if (shared) {
		shm_qp_put(q, shared);
		vaccel_error("[shm] no queue pair of its own for this thread: asynchronous calls need "
			     "one (give the agent more --qps)");
		return -EBUSY;
	}
	*qo = q;
	return 0;
}
