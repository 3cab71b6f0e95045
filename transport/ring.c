/* SPDX-License-Identifier: Apache-2.0 */
/* Cold paths of the SPSC ring: formatting and attaching. The fast paths are in ring.h. */
#include "transport/ring.h"

static int _geometry_ok(uint64_t bytes, uint32_t nr_slots, uint32_t esize)
{
	if (nr_slots == 0 || nr_slots > VTR_RING_MAX_SLOTS || (nr_slots & (nr_slots - 1)))
		return 0;
	if (esize == 0 || esize % 8 || esize > VTR_RING_MAX_ESIZE)
		return 0;
	return bytes >= vtr_ring_bytes(nr_slots, esize);
}

int vtr_ring_format(void *mem, uint64_t bytes, uint32_t nr_slots, uint32_t esize)
{
	struct vtr_ring_shared *sh = mem;

	if (!mem || ((uintptr_t)mem % 64) || !_geometry_ok(bytes, nr_slots, esize))
		return -EINVAL;
	memset(sh, 0, sizeof(*sh));
	sh->nr_slots = nr_slots;
	sh->esize = esize;
	/* Release: whoever sees the magic sees zeroed indices. */
	vshm_store_release(&sh->magic, VTR_RING_MAGIC);
	return 0;
}

int vtr_ring_attach(struct vtr_ring *r, void *mem, uint64_t bytes, uint32_t nr_slots,
		    uint32_t esize, enum vtr_ring_role role)
{
	struct vtr_ring_shared *sh = mem;
	uint32_t prod, cons;

	if (!mem || ((uintptr_t)mem % 64) || !_geometry_ok(bytes, nr_slots, esize))
		return -EINVAL;
	if (role != VTR_RING_PRODUCER && role != VTR_RING_CONSUMER)
		return -EINVAL;
	prod = vshm_load_acquire(&sh->prod);
	cons = vshm_load_acquire(&sh->cons);
	if (prod - cons > nr_slots)
		return -EPROTO;
	r->sh = sh;
	r->slots = (uint8_t *)mem + VTR_RING_HDR_BYTES;
	r->size = nr_slots;
	r->mask = nr_slots - 1;
	r->esize = esize;
	r->role = role;
	r->head = role == VTR_RING_PRODUCER ? prod : cons;
	r->cached = role == VTR_RING_PRODUCER ? cons : prod;
	return 0;
}
