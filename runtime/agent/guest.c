/* SPDX-License-Identifier: Apache-2.0 */
/* A guest's region, queue pairs and doorbells: built on connect, torn down on EOF. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "runtime/agent/agent.h"
#include "shm/barrier.h"
#include "vmm-glue/ivshmem_proto.h"

static int _build_region(const struct agent_opts *o, struct guest *g, int numa_cpu,
			 const char *plain_path)
{
	struct vshm_layout l;
	struct vshm_err err;
	struct vshm_opts ro = {
		.backing = o->huge ? VSHM_BACK_HUGE_MEMFD : VSHM_BACK_MEMFD,
		.huge_fallback = 1,
		.name = "vaccel-guest",
		.numa_cpu = numa_cpu,
		.pow2 = 1, /* an ivshmem BAR is a power of two */
	};
	char path[512];
	int ret;

	vshm_layout_init(&l);
	for (uint32_t q = 0; q < g->nr_qps; q++) {
		ret = vshm_layout_add(&l, VSHM_AREA_QP, q, vtr_qp_bytes(o->sq_entries, o->cq_entries),
				      o->sq_entries, o->cq_entries);
		if (ret)
			return ret;
	}
	ret = vshm_pool_layout_add(&l, o->pool_spec, &err);
	if (ret) {
		agent_log("bad --pool '%s': %s\n", o->pool_spec, err.msg);
		return ret;
	}
	if (plain_path) {
		/* QEMU maps this file (memory-backend-file); an agent restarted on the same
		 * file rewrites it in place with a new epoch, which the VM's guest notices. */
		ro.backing = VSHM_BACK_FILE;
		ro.path = plain_path;
		ro.reuse = 1;
	} else if (o->region_dir) {
		snprintf(path, sizeof(path), "%s/vaccel-region-%d-%u", o->region_dir, (int)getpid(), g->id);
		ro.backing = VSHM_BACK_FILE;
		ro.path = path;
	}
	ret = vshm_region_create(&ro, &l, &g->reg, &err);
	if (ret) {
		agent_log("guest %u: cannot create its region: %s\n", g->id, err.msg);
		return ret;
	}
	if (vshm_region_note(g->reg)[0])
		agent_log("guest %u: %s\n", g->id, vshm_region_note(g->reg));
	g->base = vshm_region_base(g->reg);
	/* From here on only the private layout copy is used. */
	g->layout = vshm_region_layout(g->reg);
	return vshm_pool_ranges_init(&g->ranges, g->layout);
}

/* Guests that exist, from creation until destruction: what --max-guests limits. */
static uint32_t live_guests;

uint32_t guest_live_count(void)
{
	return __atomic_load_n(&live_guests, __ATOMIC_ACQUIRE);
}

/* Formats queue pair q and attaches the host's side (at creation and at a guest's reset). */
static int _qp_setup(struct guest *g, uint32_t q)
{
	const struct vshm_area *a = vshm_layout_find(g->layout, VSHM_AREA_QP, q);
	/* No doorbell in the transport's hands: the poller rings the guest itself, in a way
	 * that cannot block on the guest's eventfd (poller.c: _ring_guest). */
	struct vtr_doorbell to_guest = {.fd = -1};
	void *mem;
	int ret;

	if (!a)
		return -EINVAL;
	mem = (char *)g->base + a->offset;
	ret = vtr_qp_format(mem, a->size, a->param0, a->param1);
	return ret ? ret
		   : vtr_qp_attach(&g->qps[q], mem, a->size, a->param0, a->param1, VTR_QP_HOST, -1,
				   &to_guest);
}

int guest_create(const struct agent_opts *o, uint16_t id, int sock, const char *plain_path,
		 struct guest **out)
{
	struct guest *g = calloc(1, sizeof(*g));
	struct vivs_peer host = {.id = 0};
	int ret = -ENOMEM;

	*out = NULL;
	if (!g)
		return -ENOMEM;
	g->id = id;
	g->sock = sock;
	g->bell = -1;
	g->nr_qps = o->qps;
	for (uint32_t q = 0; q < AGENT_MAX_QPS; q++)
		g->guest_fds[q] = -1;
	g->max_sess = o->max_sessions;
	g->max_res = o->max_resources;
	g->sess = calloc(o->max_sessions, sizeof(*g->sess));
	g->res = calloc(o->max_resources, sizeof(*g->res));
	if (!g->sess || !g->res)
		goto err;
	g->plain = plain_path != NULL;
	ret = _build_region(o, g, o->cpus[0], plain_path);
	if (ret)
		goto err;
	if (!g->plain) {
		/* Its own: a guest that reads it, or makes it blocking, only affects itself. */
		g->bell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (g->bell < 0) {
			ret = -errno;
			goto err;
		}
	}
	for (uint32_t q = 0; q < g->nr_qps; q++) {
		/* A plain-mode guest has no doorbells either way: both sides poll. */
		if (!g->plain) {
			g->guest_fds[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (g->guest_fds[q] < 0) {
				ret = -errno;
				goto err;
			}
		}
		ret = _qp_setup(g, q);
		if (ret)
			goto err;
		host.fds[q] = g->bell;
	}
	g->guest_epoch_word = &vshm_region_header(g->reg)->guest_epoch;
	g->guest_epoch = vshm_region_guest_epoch(g->reg);
	if (!g->plain) {
		ret = vivs_server_greet(sock, id, vshm_region_fd(g->reg), &host, 1, g->guest_fds,
					g->nr_qps);
		if (ret)
			goto err; /* the caller says so, rate-limited */
	}
	g->counted = 1;
	__atomic_fetch_add(&live_guests, 1, __ATOMIC_ACQ_REL);
	*out = g;
	return 0;
err:
	g->sock = -1; /* the caller owns the socket on failure */
	guest_destroy(g);
	return ret;
}

int guest_reset(struct guest *g, uint64_t epoch)
{
	int ret = 0;

	if (g->inflight)
		return -EBUSY; /* its ops still run on workers: reset after their results */
	agent_dbg("guest %u: a new guest process started (epoch %016llx)\n", g->id,
		  (unsigned long long)epoch);
	guest_release_host_state(g);
	for (uint32_t q = 0; q < g->nr_qps && !ret; q++)
		ret = _qp_setup(g, q);
	if (ret) {
		agent_glog(g, "cannot reset its queue pairs: %s\n", strerror(-ret));
		g->broken = 1;
		return ret;
	}
	g->broken = 0;
	g->guest_epoch = epoch;
	/* Release: a guest that sees the answer also sees the freshly formatted queue pairs. */
	vshm_store_release(&((struct vshm_header *)g->base)->host_reset_ack, epoch);
	return 0;
}

void guest_destroy(struct guest *g)
{
	if (!g)
		return;
	if (g->counted)
		__atomic_fetch_sub(&live_guests, 1, __ATOMIC_ACQ_REL);
	for (uint32_t q = 0; q < AGENT_MAX_QPS; q++)
		if (g->guest_fds[q] >= 0)
			close(g->guest_fds[q]);
	if (g->sock >= 0)
		close(g->sock);
	if (g->bell >= 0)
		close(g->bell);
	vshm_region_close(g->reg);
	free(g->sess);
	free(g->res);
	free(g);
}
