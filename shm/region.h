/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shared region: one mapping that the host agent creates and a guest (a process on
 * this host, or a VM through an ivshmem BAR) attaches to.
 *
 * Offset 0 holds a versioned header with a table of areas (rings, queue pairs, the buffer
 * pool). Nothing in the region is a pointer: every reference is an offset from the
 * region's base, because each side maps the region at its own address.
 *
 * Who writes what:
 *   host (creator): everything in the header, once, before any guest attaches; later only
 *                   host_epoch and host_heartbeat.
 *   guest:          guest_epoch (vshm_region_guest_epoch_set; the guest reads the host's
 *                   words only through the vshm_region_* accessors below).
 * An attacher copies the header once into private memory (struct vshm_layout) and
 * validates the copy; it never trusts the shared header again.
 *
 * Functions return 0 or -errno. Errors that need words (bad header, no huge pages, ...)
 * are also written to an optional struct vshm_err.
 */
#ifndef VSHM_REGION_H
#define VSHM_REGION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VSHM_MAGIC 0x314d485343434156ull /* "VACCSHM1" little-endian */
#define VSHM_VERSION 1u
#define VSHM_HEADER_SIZE 4096u
#define VSHM_MAX_AREAS 64u
#define VSHM_AREA_ALIGN 64u /* every area starts on its own cache line */
#define VSHM_CACHELINE 64u

/* Feature bits of the header; an attacher refuses bits it does not know. */
#define VSHM_FEAT_HUGEPAGES (1ull << 0) /* informational: backed by huge pages */
#define VSHM_FEAT_KNOWN (VSHM_FEAT_HUGEPAGES)

/* Area kinds. params mean different things per kind (see each layer's header). */
enum vshm_area_kind {
	VSHM_AREA_RING = 1, /* a bare SPSC ring: param0 = slots, param1 = element size */
	VSHM_AREA_QP = 2,   /* a queue pair (transport) */
	VSHM_AREA_POOL = 3, /* the buffer pool */
	VSHM_AREA_RAW = 4,  /* opaque bytes (benchmarks, baselines) */
	VSHM_AREA_KIND_MAX = 4,
};

struct vshm_area {
	uint16_t kind;
	uint16_t flags;
	uint32_t index; /* kind-local index, e.g. queue pair number */
	uint64_t offset;
	uint64_t size;
	uint32_t param0;
	uint32_t param1;
};

/* The header as it sits at offset 0 of the region. */
struct vshm_header {
	/* line 0: written once by the creator; magic last (release), see vshm_region_create */
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint64_t region_size;
	uint64_t features;
	uint32_t nr_areas;
	uint32_t reserved0;
	uint8_t pad0[24];
	/* line 1: host liveness (host writes) */
	uint64_t host_epoch;
	uint64_t host_heartbeat;
	uint64_t host_reset_ack; /* the guest_epoch the host last reset the region's state for */
	uint8_t pad1[40];
	/* line 2: guest liveness (guest writes). A VM's guest process that starts afresh writes
	 * a new guest_epoch; the host releases what the previous one left (sessions, resources,
	 * queue pairs) and answers with host_reset_ack = guest_epoch. */
	uint64_t guest_epoch;
	uint8_t pad2[56];
	uint8_t reserved1[64];
	/* offset 256 */
	struct vshm_area areas[VSHM_MAX_AREAS];
	uint8_t tail[VSHM_HEADER_SIZE - 256 - VSHM_MAX_AREAS * sizeof(struct vshm_area)];
};

/* A private, validated copy of the layout. */
struct vshm_layout {
	uint64_t region_size;
	uint64_t features;
	uint32_t nr_areas;
	struct vshm_area areas[VSHM_MAX_AREAS];
};

/* Outcome of validating a header; each failure has its own wording (vshm_check_str). */
enum vshm_check {
	VSHM_OK = 0,
	VSHM_E_TRUNCATED,     /* mapping smaller than a header */
	VSHM_E_MAGIC,         /* not a vAccel region (or not initialised yet) */
	VSHM_E_VERSION,       /* layout version this build does not speak */
	VSHM_E_HEADER_SIZE,   /* header_size field disagrees with this version */
	VSHM_E_REGION_SIZE,   /* header claims more bytes than are mapped */
	VSHM_E_FEATURES,      /* unknown feature bits */
	VSHM_E_AREA_COUNT,    /* more areas than the table holds */
	VSHM_E_AREA_KIND,     /* unknown area kind */
	VSHM_E_AREA_ALIGN,    /* area offset not cache-line aligned */
	VSHM_E_AREA_BOUNDS,   /* area overflows, overlaps the header or leaves the region */
	VSHM_E_AREA_OVERLAP,  /* two areas overlap */
	VSHM_E_AREA_DUP,      /* two areas with the same kind and index */
	VSHM_CHECK_MAX,
};

struct vshm_err {
	char msg[256];
};

/* Where the region's memory comes from. */
enum vshm_backing {
	VSHM_BACK_MEMFD = 0,    /* anonymous memfd, shared by passing the fd */
	VSHM_BACK_FILE,         /* a file at opts.path (e.g. /dev/shm/x) for QEMU's memory-backend-file */
	VSHM_BACK_HUGE_MEMFD,   /* memfd on huge pages (needs reserved huge pages) */
};

struct vshm_opts {
	uint64_t size;            /* region bytes; rounded up to a page (and to a power of two if pow2) */
	enum vshm_backing backing;
	const char *path;         /* VSHM_BACK_FILE: the file to create (O_EXCL unless reuse) */
	int reuse;                /* VSHM_BACK_FILE: open the file if it exists (it must be empty or
				     exactly the region's size), rewrite it in place, never unlink it:
				     a QEMU that maps it keeps seeing the same pages across restarts */
	const char *name;         /* memfd name, for /proc/PID/fd */
	int numa_cpu;             /* >= 0: bind the memory to the NUMA node of this CPU; -1: don't */
	int pow2;                 /* round the size up to a power of two (ivshmem BARs need it) */
	int huge_fallback;        /* VSHM_BACK_HUGE_MEMFD: fall back to normal pages with a note */
};

struct vshm_region;

/* Layout builder: areas are placed one after another behind the header. */
void vshm_layout_init(struct vshm_layout *l);
/* Adds an area of size bytes; returns 0, -ENOSPC (table full) or -EINVAL. */
int vshm_layout_add(struct vshm_layout *l, enum vshm_area_kind kind, uint32_t index,
		    uint64_t size, uint32_t param0, uint32_t param1);
/* Bytes the region needs for this layout (header + areas). */
uint64_t vshm_layout_bytes(const struct vshm_layout *l);
const struct vshm_area *vshm_layout_find(const struct vshm_layout *l, enum vshm_area_kind kind,
					 uint32_t index);

/*
 * Creates and maps a region, writes the header for layout l (its region_size is set from
 * opts). Returns 0, -EINVAL (bad options, layout too large), -ENOMEM (no huge pages),
 * -EEXIST (file exists), -errno of the failing syscall.
 */
int vshm_region_create(const struct vshm_opts *opts, const struct vshm_layout *l,
		       struct vshm_region **out, struct vshm_err *err);

/*
 * Attaches to an existing region: maps it (fd or path) or takes memory already mapped
 * (an ivshmem BAR), copies the header once and validates the copy. Returns 0, -EPROTO
 * (header invalid: err says why), -EINVAL, or -errno of the failing syscall.
 */
int vshm_region_attach_fd(int fd, struct vshm_region **out, struct vshm_err *err);
int vshm_region_attach_path(const char *path, struct vshm_region **out, struct vshm_err *err);
int vshm_region_attach_mem(void *base, uint64_t size, struct vshm_region **out,
			   struct vshm_err *err);

/* Unmaps (unless attached to caller's memory), closes the fd; a creator of a FILE region
 * also unlinks it. NULL is fine. */
void vshm_region_close(struct vshm_region *r);

/*
 * Copies the header at base (mapped_size bytes visible) into out and validates it.
 * Reads shared memory exactly once per field (one memcpy).
 */
enum vshm_check vshm_header_check(const void *base, uint64_t mapped_size, struct vshm_layout *out);
const char *vshm_check_str(enum vshm_check c);

void *vshm_region_base(const struct vshm_region *r);
uint64_t vshm_region_size(const struct vshm_region *r);
int vshm_region_fd(const struct vshm_region *r);
const struct vshm_layout *vshm_region_layout(const struct vshm_region *r);
struct vshm_header *vshm_region_header(const struct vshm_region *r);
/* Returns the mapped address of an area from the private layout, or NULL. */
void *vshm_region_area(const struct vshm_region *r, enum vshm_area_kind kind, uint32_t index,
		       const struct vshm_area **area);
/* 1 if the region is backed by huge pages. */
int vshm_region_hugepages(const struct vshm_region *r);
/* NUMA node the memory was bound to, or -1. */
int vshm_region_numa_node(const struct vshm_region *r);
/* What degraded while creating the region (NUMA unavailable, ...), or "" . */
const char *vshm_region_note(const struct vshm_region *r);

/* Host side: a new epoch (restart) and heartbeat ticks. */
void vshm_region_host_epoch_bump(struct vshm_region *r);
void vshm_region_host_heartbeat(struct vshm_region *r);
/* Host side: the guest_epoch in shared memory (one load), and the answer to a reset. */
uint64_t vshm_region_guest_epoch(const struct vshm_region *r);
void vshm_region_reset_ack(struct vshm_region *r, uint64_t guest_epoch);
/* Guest side: writes a new guest_epoch (asks the host for a reset), reads the host's answer
 * (the guest_epoch it last reset for), its epoch and its heartbeat. One access each. */
void vshm_region_guest_epoch_set(struct vshm_region *r, uint64_t epoch);
uint64_t vshm_region_reset_acked(const struct vshm_region *r);
uint64_t vshm_region_host_epoch(const struct vshm_region *r);
uint64_t vshm_region_heartbeat(const struct vshm_region *r);

#ifdef __cplusplus
}
#endif

#endif /* VSHM_REGION_H */
