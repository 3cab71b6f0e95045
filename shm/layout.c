/* SPDX-License-Identifier: Apache-2.0 */
/* The region header: building a layout, writing it, and validating a copy of it. */
#include "shm/region.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "shm/barrier.h"

/* The header is an ABI between builds: pin its shape. */
_Static_assert(sizeof(struct vshm_area) == 32, "area entry is 32 bytes");
_Static_assert(sizeof(struct vshm_header) == VSHM_HEADER_SIZE, "header is one page");
_Static_assert(offsetof(struct vshm_header, magic) == 0, "magic at 0");
_Static_assert(offsetof(struct vshm_header, version) == 8, "version at 8");
_Static_assert(offsetof(struct vshm_header, region_size) == 16, "region_size at 16");
_Static_assert(offsetof(struct vshm_header, features) == 24, "features at 24");
_Static_assert(offsetof(struct vshm_header, nr_areas) == 32, "nr_areas at 32");
_Static_assert(offsetof(struct vshm_header, host_epoch) == 64, "host line at 64");
_Static_assert(offsetof(struct vshm_header, guest_epoch) == 128, "guest line at 128");
_Static_assert(offsetof(struct vshm_header, areas) == 256, "area table at 256");

static const char *const check_str[VSHM_CHECK_MAX] = {
	[VSHM_OK] = "ok",
	[VSHM_E_TRUNCATED] = "mapping is smaller than a region header",
	[VSHM_E_MAGIC] = "bad magic: not a vAccel shared region (or the host has not initialised it)",
	[VSHM_E_VERSION] = "unsupported layout version",
	[VSHM_E_HEADER_SIZE] = "header size field does not match this layout version",
	[VSHM_E_REGION_SIZE] = "header claims a region larger than what is mapped (or smaller than its header)",
	[VSHM_E_FEATURES] = "header requires feature bits this build does not know",
	[VSHM_E_AREA_COUNT] = "area table holds more entries than allowed",
	[VSHM_E_AREA_KIND] = "area of unknown kind",
	[VSHM_E_AREA_ALIGN] = "area offset is not cache-line aligned",
	[VSHM_E_AREA_BOUNDS] = "area lies outside the region or over the header",
	[VSHM_E_AREA_OVERLAP] = "two areas overlap",
	[VSHM_E_AREA_DUP] = "two areas have the same kind and index",
};

const char *vshm_check_str(enum vshm_check c)
{
	if ((unsigned)c >= VSHM_CHECK_MAX)
		return "unknown check result";
	return check_str[c];
}

void vshm_layout_init(struct vshm_layout *l)
{
	memset(l, 0, sizeof(*l));
}

static uint64_t _layout_end(const struct vshm_layout *l)
{
	uint64_t end = VSHM_HEADER_SIZE;

	for (uint32_t i = 0; i < l->nr_areas; i++) {
		uint64_t e = l->areas[i].offset + l->areas[i].size;
		if (e > end)
			end = e;
	}
	return end;
}

uint64_t vshm_layout_bytes(const struct vshm_layout *l)
{
	return _layout_end(l);
}

int vshm_layout_add(struct vshm_layout *l, enum vshm_area_kind kind, uint32_t index,
		    uint64_t size, uint32_t param0, uint32_t param1)
{
	if (l->nr_areas >= VSHM_MAX_AREAS)
		return -ENOSPC;
	if (kind < VSHM_AREA_RING || kind > VSHM_AREA_KIND_MAX || size == 0 ||
	    size > (1ull << 46))
		return -EINVAL;
	if (vshm_layout_find(l, kind, index))
		return -EEXIST;

	/* Big areas start on a page so huge tensors and pool classes stay page aligned. */
	uint64_t align = size >= 4096 ? 4096 : VSHM_AREA_ALIGN;
	uint64_t off = (_layout_end(l) + align - 1) & ~(align - 1);
	struct vshm_area *a = &l->areas[l->nr_areas++];

	a->kind = (uint16_t)kind;
	a->flags = 0;
	a->index = index;
	a->offset = off;
	a->size = (size + VSHM_AREA_ALIGN - 1) & ~(uint64_t)(VSHM_AREA_ALIGN - 1);
	a->param0 = param0;
	a->param1 = param1;
	return 0;
}

const struct vshm_area *vshm_layout_find(const struct vshm_layout *l, enum vshm_area_kind kind,
					 uint32_t index)
{
	for (uint32_t i = 0; i < l->nr_areas; i++)
		if (l->areas[i].kind == kind && l->areas[i].index == index)
			return &l->areas[i];
	return NULL;
}

static int _areas_overlap(const struct vshm_area *a, const struct vshm_area *b)
{
	return a->offset < b->offset + b->size && b->offset < a->offset + a->size;
}

enum vshm_check vshm_header_check(const void *base, uint64_t mapped_size, struct vshm_layout *out)
{
	struct vshm_header h;

	if (mapped_size < sizeof(h))
		return VSHM_E_TRUNCATED;
	/* Acquire pairs with the creator's release of magic: the rest is written before. */
	h.magic = vshm_load_acquire((const uint64_t *)base);
	if (h.magic != VSHM_MAGIC)
		return VSHM_E_MAGIC;
	/* One copy; every check below reads only the private copy. */
	memcpy(&h, base, sizeof(h));
	if (h.magic != VSHM_MAGIC)
		return VSHM_E_MAGIC;
	if (h.version != VSHM_VERSION)
		return VSHM_E_VERSION;
	if (h.header_size != VSHM_HEADER_SIZE)
		return VSHM_E_HEADER_SIZE;
	if (h.region_size > mapped_size || h.region_size < VSHM_HEADER_SIZE)
		return VSHM_E_REGION_SIZE;
	if (h.features & ~VSHM_FEAT_KNOWN)
		return VSHM_E_FEATURES;
	if (h.nr_areas > VSHM_MAX_AREAS)
		return VSHM_E_AREA_COUNT;

	for (uint32_t i = 0; i < h.nr_areas; i++) {
		const struct vshm_area *a = &h.areas[i];

		if (a->kind < VSHM_AREA_RING || a->kind > VSHM_AREA_KIND_MAX)
			return VSHM_E_AREA_KIND;
		if (a->offset % VSHM_AREA_ALIGN)
			return VSHM_E_AREA_ALIGN;
		/* offset + size computed without overflow: both bounded by region_size first. */
		if (a->size == 0 || a->offset < VSHM_HEADER_SIZE || a->offset > h.region_size ||
		    a->size > h.region_size - a->offset)
			return VSHM_E_AREA_BOUNDS;
		for (uint32_t j = 0; j < i; j++) {
			if (_areas_overlap(a, &h.areas[j]))
				return VSHM_E_AREA_OVERLAP;
			if (a->kind == h.areas[j].kind && a->index == h.areas[j].index)
				return VSHM_E_AREA_DUP;
		}
	}

	if (out) {
		memset(out, 0, sizeof(*out));
		out->region_size = h.region_size;
		out->features = h.features;
		out->nr_areas = h.nr_areas;
		memcpy(out->areas, h.areas, h.nr_areas * sizeof(h.areas[0]));
	}
	return VSHM_OK;
}
