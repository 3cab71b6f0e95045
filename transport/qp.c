/* SPDX-License-Identifier: Apache-2.0 */
/* Queue pair: format, attach, claiming and doorbells (the wait ladder is wait.c). */
#include "transport/qp.h"
#include "transport/wait.h"

#include <errno.h>
#include <unistd.h>

#define QP_HDR 64u

static uint64_t _align64(uint64_t v)
{
	return (v + 63) & ~63ull;
}

uint64_t vtr_qp_bytes(uint32_t sq_entries, uint32_t cq_entries)
{
	return QP_HDR + _align64(vtr_ring_bytes(sq_entries, sizeof(struct vtr_sqe))) +
	       vtr_ring_bytes(cq_entries, sizeof(struct vtr_cqe));
}

static uint64_t _cq_off(uint32_t sq_entries)
{
	return QP_HDR + _align64(vtr_ring_bytes(sq_entries, sizeof(struct vtr_sqe)));
}

int vtr_qp_format(void *mem, uint64_t bytes, uint32_t sq_entries, uint32_t cq_entries)
{
	struct vtr_qp_shared *sh = mem;
	int ret;

	if (!mem || bytes < vtr_qp_bytes(sq_entries, cq_entries))
		return -EINVAL;
	ret = vtr_ring_format((char *)mem + QP_HDR, bytes - QP_HDR, sq_entries, sizeof(struct vtr_sqe));
	if (ret)
		return ret;
	ret = vtr_ring_format((char *)mem + _cq_off(sq_entries), bytes - _cq_off(sq_entries),
			      cq_entries, sizeof(struct vtr_cqe));
	if (ret)
		return ret;
	sh->owner = 0;
	vshm_store_release(&sh->magic, VTR_QP_MAGIC);
	return 0;
}

int vtr_qp_attach(struct vtr_qp *qp, void *mem, uint64_t bytes, uint32_t sq_entries,
		  uint32_t cq_entries, enum vtr_qp_side side, int wait_fd,
		  const struct vtr_doorbell *peer)
{
	int guest = side == VTR_QP_GUEST;
	int ret;

	if (!mem || bytes < vtr_qp_bytes(sq_entries, cq_entries) || (side != VTR_QP_GUEST && side != VTR_QP_HOST))
		return -EINVAL;
	*qp = (struct vtr_qp){0};
	qp->sh = mem;
	ret = vtr_ring_attach(&qp->sq, (char *)mem + QP_HDR, bytes - QP_HDR, sq_entries,
			      sizeof(struct vtr_sqe), guest ? VTR_RING_PRODUCER : VTR_RING_CONSUMER);
	if (ret)
		return ret;
	ret = vtr_ring_attach(&qp->cq, (char *)mem + _cq_off(sq_entries), bytes - _cq_off(sq_entries),
			      cq_entries, sizeof(struct vtr_cqe),
			      guest ? VTR_RING_CONSUMER : VTR_RING_PRODUCER);
	if (ret)
		return ret;
	qp->sq_entries = sq_entries;
	qp->cq_entries = cq_entries;
	/* A guest that re-attaches inherits whatever is still in flight. */
	qp->inflight = guest ? qp->sq.head - vshm_load_acquire(&qp->cq.sh->cons) : 0;
	if (guest && qp->inflight > cq_entries)
		return -EPROTO;
	qp->wait_fd = wait_fd;
	qp->watch_fd = -1;
	qp->peer.fd = -1;
	if (peer)
		qp->peer = *peer;
	vtr_qp_set_spin_ns(qp, 20000);
	return 0;
}

int vtr_qp_claim(struct vtr_qp_shared *sh, uint32_t who)
{
	uint32_t expect = 0;

	if (!who)
		return -EINVAL;
	return vshm_cas(&sh->owner, &expect, who) ? 0 : -EBUSY;
}

void vtr_qp_unclaim(struct vtr_qp_shared *sh, uint32_t who)
{
	uint32_t expect = who;

	vshm_cas(&sh->owner, &expect, 0u);
}

int vtr_doorbell_ring(const struct vtr_doorbell *db)
{
	uint64_t one = 1;

	if (db->reg) {
		*db->reg = db->reg_value;
		return 0;
	}
	if (db->fd < 0)
		return 0;
	/* EAGAIN means the counter is saturated: the sleeper will wake anyway. */
	if (write(db->fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}
