/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest side of the ivshmem transport: finds QEMU's ivshmem PCI device (1af4:1110) through
 * sysfs, maps its BARs from user space and attaches the shared region in BAR2 with the same
 * validation a host-side attacher gets (vshm_region_attach_mem).
 *
 *   BAR0 (resource0, 256 bytes): registers. Offset 8 IVPosition (our own peer ID, doorbell
 *        mode; -1 or 0 with ivshmem-plain), offset 12 Doorbell: writing (peer << 16) | vector
 *        rings that peer's eventfd for that vector on the host.
 *   BAR2 (resource2, a power of two): the region, header at offset 0.
 * No kernel module is needed to reach the device: the PCI core exports every BAR as a
 * mappable sysfs file. The device's PCI address depends on the machine options, hence the
 * scan by vendor/device.
 *
 * Which BAR2 mapping (vivg_opts.bar2_file NULL, the default):
 *   1. the vaccel_ivshmem guest driver's node, when the driver is bound to the device: its
 *      misc device shows up in the device's sysfs folder as misc/vaccel-ivshmemN, and the
 *      node is /dev/vaccel-ivshmemN (vmm-glue/guest-driver). That mapping is write-back
 *      (the driver's cache_mode attribute says what it really got);
 *   2. otherwise sysfs resource2, which the PCI core maps UNCACHED. Under TCG that costs
 *      nothing, but on KVM hosts that honour the guest's memory type (AMD, or Intel with
 *      non-coherent DMA) every poll of a ring index is an uncached access and the fast path
 *      slows down by orders of magnitude. `resource2_wc` (write-combining) helps stores,
 *      not loads.
 * A driver that is bound but whose node is missing (no devtmpfs) is an error, not a silent
 * fallback: while the driver owns BAR2 the kernel refuses sysfs mappings of it anyway.
 * vivg_dev.bar2_via and bar2_path say which file was mapped; with VACCEL_LOG_LEVEL=4 (the
 * runtime's debug level) vivg_open also prints that on stderr.
 *
 * Functions return 0 or -errno. The errors that matter to a caller are distinct:
 *   -ENODEV           no ivshmem device (not started with -device ivshmem-*, or wrong id)
 *   -ENOENT           the guest driver is bound but its /dev node is missing
 *   -EACCES / -EPERM  the BAR files are root-only (0600): run as root or grant access
 *   -EMSGSIZE         BAR smaller than the header says (VSHM_E_REGION_SIZE, VSHM_E_TRUNCATED)
 *   -EBADMSG          bad magic: nothing, or not a vAccel region, is being served in this
 *                     BAR (the agent is not serving it, or has not initialised it yet)
 *   -EPROTONOSUPPORT  a layout version this build does not speak
 *   -EPROTO           any other header defect (check says which)
 * vivg_open also fills struct vshm_err with words, and *check with the header verdict.
 */
#ifndef VIVG_IVSHMEM_GUEST_H
#define VIVG_IVSHMEM_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "shm/region.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VIVG_VENDOR 0x1af4u /* Red Hat, Inc. (virtio/QEMU range) */
#define VIVG_DEVICE 0x1110u /* Inter-VM shared memory */
#define VIVG_SYSFS_PCI "/sys/bus/pci/devices"
#define VIVG_DEVDIR "/dev"
#define VIVG_DRIVER_NODE "vaccel-ivshmem" /* the guest driver's misc devices: NAME<n> */

/* BAR0 register offsets (QEMU docs/specs/ivshmem-spec.txt). */
#define VIVG_REG_INTR_MASK 0
#define VIVG_REG_INTR_STATUS 4
#define VIVG_REG_IVPOSITION 8
#define VIVG_REG_DOORBELL 12

struct vivg_opts {
	const char *sysfs;     /* folder of PCI device folders; NULL: VIVG_SYSFS_PCI (tests
				  point it at a fake tree) */
	const char *device;    /* a device folder name (e.g. "0000:00:04.0") to use instead
				  of the first 1af4:1110 found; NULL: scan */
	const char *bar2_file; /* NULL: the guest driver's node if it is bound, else
				  "resource2" (see above). A name: that file in the device's
				  sysfs folder (e.g. "resource2_wc"); an absolute path: that
				  file or device node */
	const char *devdir;    /* where the driver's node is; NULL: VIVG_DEVDIR */
	int no_driver;         /* 1: ignore the guest driver, map sysfs resource2 */
	int no_regs;           /* 1: do not map BAR0 */
};

/* Which BAR2 mapping vivg_open made. */
enum vivg_bar2_via {
	VIVG_BAR2_SYSFS,  /* a file in the device's sysfs folder (resource2 by default) */
	VIVG_BAR2_DRIVER, /* the vaccel_ivshmem driver's node, found through sysfs */
	VIVG_BAR2_PATH,   /* vivg_opts.bar2_file, an absolute path */
};

struct vivg_dev {
	char path[512];            /* the device's sysfs folder */
	void *mem;                 /* BAR2 mapping (the region) */
	uint64_t mem_size;         /* BAR2 bytes (the file's size; a device node's
				      lseek(SEEK_END)) */
	enum vivg_bar2_via bar2_via;
	char bar2_path[600];       /* the file mapped for BAR2 */
	char bar2_cache[32];       /* its cache mode as far as known: the driver's
				      cache_mode ("write-back"), "uncached" (sysfs
				      resource2), "write-combining" (resource2_wc), or "" */
	volatile uint32_t *regs;   /* BAR0 mapping, or NULL (no_regs, or no resource0) */
	uint64_t regs_size;
	struct vshm_region *region; /* attached over mem; validated layout inside */
};

/*
 * Finds the first device folder under sysfs (NULL: VIVG_SYSFS_PCI) whose vendor and device
 * files read 0x1af4 and 0x1110; folder names are taken in sorted order so the choice is
 * stable. Writes the folder's path to out. Returns 0, -ENODEV (none), -ENAMETOOLONG, or
 * -errno of opendir.
 */
int vivg_find(const char *sysfs, char *out, size_t len);

/* The name of a vivg_bar2_via ("sysfs", "driver", "path"). */
const char *vivg_bar2_via_str(enum vivg_bar2_via via);

/*
 * Finds the device, maps BAR2 (and BAR0) MAP_SHARED and attaches the region. On success
 * *out is a new handle (vivg_close frees it). check (may be NULL) receives the header
 * verdict (VSHM_OK unless the error is a header defect). Errors as listed at the top.
 */
int vivg_open(const struct vivg_opts *opts, struct vivg_dev **out, enum vshm_check *check,
	      struct vshm_err *err);

/* Detaches and unmaps; NULL is fine. */
void vivg_close(struct vivg_dev *d);

/* Our own peer ID from BAR0 IVPosition, or -ENODEV without BAR0. */
int vivg_own_id(const struct vivg_dev *d);

/* Rings peer's doorbell for vector (doorbell mode). Returns 0, -ENODEV (no BAR0) or
 * -EINVAL (peer or vector beyond 16 bits). */
int vivg_ring(const struct vivg_dev *d, unsigned peer, unsigned vector);

/* A short description of a vivg_open error code. */
const char *vivg_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* VIVG_IVSHMEM_GUEST_H */
