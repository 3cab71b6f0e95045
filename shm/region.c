/* SPDX-License-Identifier: Apache-2.0 */
/* Creating, attaching and closing shared regions (memfd, files, hugetlbfs, caller memory). */
#include "shm/region.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "shm/barrier.h"
#include "shm/region_internal.h"

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

void _vshm_err_set(struct vshm_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

static uint64_t _round_up(uint64_t v, uint64_t to)
{
	return (v + to - 1) / to * to;
}

static uint64_t _pow2_up(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/* A fresh epoch: differs across restarts of the same host (time plus pid). */
static uint64_t _new_epoch(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 20);
}

static int _huge_page_size(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	int kb = 2048;

	if (!f)
		return kb * 1024;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Hugepagesize: %d kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

static void _write_header(struct vshm_region *r, const struct vshm_layout *l)
{
	struct vshm_header *h = r->base;

	memset(h, 0, sizeof(*h));
	h->version = VSHM_VERSION;
	h->header_size = VSHM_HEADER_SIZE;
	h->region_size = r->size;
	h->features = r->layout.features;
	h->nr_areas = l->nr_areas;
	memcpy(h->areas, l->areas, l->nr_areas * sizeof(l->areas[0]));
	h->host_epoch = _new_epoch();
	/* Release pairs with the acquire in vshm_header_check: magic is the "ready" flag. */
	vshm_store_release(&h->magic, VSHM_MAGIC);
}

static int _open_backing(const struct vshm_opts *o, struct vshm_region *r, uint64_t *size,
			 struct vshm_err *err)
{
	const char *name = o->name ? o->name : "vaccel-region";
	int fd;

	switch (o->backing) {
	case VSHM_BACK_MEMFD:
		fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
		break;
	case VSHM_BACK_HUGE_MEMFD:
		fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB);
		r->huge = 1;
		break;
	case VSHM_BACK_FILE: {
		struct statfs sfs;

		if (!o->path || !*o->path) {
			_vshm_err_set(err, "file-backed region needs a path");
			return -EINVAL;
		}
		fd = open(o->path, O_RDWR | O_CREAT | (o->reuse ? 0 : O_EXCL) | O_CLOEXEC, 0600);
		if (fd < 0) {
			int e = errno;
			_vshm_err_set(err, "cannot %s region file %s: %s", o->reuse ? "open" : "create",
				      o->path, strerror(e));
			return -e;
		}
		snprintf(r->path, sizeof(r->path), "%s", o->path);
		r->unlink_on_close = !o->reuse;
		if (fstatfs(fd, &sfs) == 0 && (unsigned long)sfs.f_type == HUGETLBFS_MAGIC) {
			r->huge = 1;
			*size = _round_up(*size, (uint64_t)sfs.f_bsize);
		}
		break;
	}
	default:
		_vshm_err_set(err, "unknown backing %d", (int)o->backing);
		return -EINVAL;
	}
	if (fd < 0) {
		int e = errno;
		_vshm_err_set(err, "memfd_create(%s%s) failed: %s", name,
			      r->huge ? ", MFD_HUGETLB" : "", strerror(e));
		return -e;
	}
	if (r->huge)
		*size = _round_up(*size, (uint64_t)_huge_page_size());
	return fd;
}

static int _create(const struct vshm_opts *o, const struct vshm_layout *l,
		   struct vshm_region **out, struct vshm_err *err)
{
	uint64_t need = vshm_layout_bytes(l);
	uint64_t size = o->size ? o->size : need;
	struct vshm_region *r;
	int ret;

	*out = NULL;
	if (size < need) {
		_vshm_err_set(err, "region of %llu bytes cannot hold its layout (%llu bytes)",
			      (unsigned long long)size, (unsigned long long)need);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = -1;
	r->numa_node = -1;
	size = _round_up(size, 4096);
	r->fd = _open_backing(o, r, &size, err);
	if (r->fd < 0) {
		ret = r->fd;
		r->fd = -1;
		goto err;
	}
	if (o->pow2)
		size = _pow2_up(size);
	if (o->reuse) {
		/* Someone (QEMU) may map this file already: resizing it under them would cut
		 * their mapping (SIGBUS) or leave the BAR smaller than the region. */
		struct stat st;
		if (fstat(r->fd, &st) == 0 && st.st_size != 0 && (uint64_t)st.st_size != size) {
			_vshm_err_set(err,
				      "region file %s is %llu bytes but this layout needs %llu (remove "
				      "it, or keep the same --qps, ring sizes and --pool)",
				      o->path, (unsigned long long)st.st_size, (unsigned long long)size);
			ret = -EEXIST;
			goto err;
		}
	}
	if (ftruncate(r->fd, (off_t)size) < 0) {
		ret = -errno;
		_vshm_err_set(err, "cannot size region to %llu bytes: %s",
			      (unsigned long long)size, strerror(-ret));
		goto err;
	}
	/* The guest holds this fd: a guest that shrank the memfd would make every host access
	 * to its region raise SIGBUS and kill the agent with all its guests. Sealed, the size
	 * can never change again. (A --region-dir file cannot be sealed: see the README.) */
	if (o->backing != VSHM_BACK_FILE &&
	    fcntl(r->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		ret = -errno;
		_vshm_err_set(err, "cannot seal the region's size: %s", strerror(-ret));
		goto err;
	}
	r->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->base == MAP_FAILED) {
		ret = -errno;
		r->base = NULL;
		if (r->huge && ret == -ENOMEM)
			_vshm_err_set(err,
				      "no free huge pages for a %llu-byte region (reserve some: "
				      "echo N > /proc/sys/vm/nr_hugepages)",
				      (unsigned long long)size);
		else
			_vshm_err_set(err, "cannot map region: %s", strerror(-ret));
		goto err;
	}
	r->size = size;
	r->owner = 1;
	r->layout = *l;
	r->layout.region_size = size;
	if (r->huge)
		r->layout.features |= VSHM_FEAT_HUGEPAGES;

	/* A policy for pages not faulted in yet (mbind without MPOL_MF_MOVE): each page lands on
	 * the poller's node at its first touch. */
	if (o->numa_cpu >= 0)
		_vshm_numa_bind(r, o->numa_cpu);
	/* Nothing else is touched here: a region costs memory only for the pages its users
	 * write (the header now, queue pairs when formatted, pool buffers when a guest uses
	 * them), and creating one takes the same time whatever its size. */
	_write_header(r, l);
	*out = r;
	return 0;
err:
	vshm_region_close(r);
	return ret;
}

int vshm_region_create(const struct vshm_opts *o, const struct vshm_layout *l,
		       struct vshm_region **out, struct vshm_err *err)
{
	struct vshm_opts plain;
	struct vshm_err why;
	int ret = _create(o, l, out, &why);

	if (ret == 0 || o->backing != VSHM_BACK_HUGE_MEMFD || !o->huge_fallback) {
		if (ret && err)
			*err = why;
		return ret;
	}
	/* Huge pages were a preference, not a requirement: say so and use normal pages. */
	plain = *o;
	plain.backing = VSHM_BACK_MEMFD;
	ret = _create(&plain, l, out, err);
	if (ret == 0)
		snprintf((*out)->note, sizeof((*out)->note), "huge pages unavailable (%.200s); using normal pages",
			 why.msg);
	return ret;
}

static int _attach_common(struct vshm_region *r, struct vshm_err *err)
{
	enum vshm_check c = vshm_header_check(r->base, r->size, &r->layout);

	if (c != VSHM_OK) {
		_vshm_err_set(err, "region rejected: %s", vshm_check_str(c));
		return -EPROTO;
	}
	r->check = c;
	r->huge = !!(r->layout.features & VSHM_FEAT_HUGEPAGES);
	return 0;
}

int vshm_region_attach_fd(int fd, struct vshm_region **out, struct vshm_err *err)
{
	struct vshm_region *r;
	struct stat st;
	int ret;

	*out = NULL;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		_vshm_err_set(err, "cannot stat region fd %d: %s", fd, strerror(-ret));
		return ret;
	}
	if (st.st_size < (off_t)VSHM_HEADER_SIZE) {
		_vshm_err_set(err, "region rejected: %s (%lld bytes)",
			      vshm_check_str(VSHM_E_TRUNCATED), (long long)st.st_size);
		return -EPROTO;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->numa_node = -1;
	r->fd = dup(fd);
	if (r->fd < 0) {
		ret = -errno;
		goto err;
	}
	r->size = (uint64_t)st.st_size;
	r->base = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->base == MAP_FAILED) {
		ret = -errno;
		r->base = NULL;
		_vshm_err_set(err, "cannot map region: %s", strerror(-ret));
		goto err;
	}
	ret = _attach_common(r, err);
	if (ret)
		goto err;
	*out = r;
	return 0;
err:
	vshm_region_close(r);
	return ret;
}

int vshm_region_attach_path(const char *path, struct vshm_region **out, struct vshm_err *err)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	int ret;

	*out = NULL;
	if (fd < 0) {
		ret = -errno;
		_vshm_err_set(err, "cannot open region %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = vshm_region_attach_fd(fd, out, err);
	close(fd);
	return ret;
}

int vshm_region_attach_mem(void *base, uint64_t size, struct vshm_region **out,
			   struct vshm_err *err)
{
	struct vshm_region *r;
	int ret;

	*out = NULL;
	if (!base) {
		_vshm_err_set(err, "no memory to attach");
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = -1;
	r->numa_node = -1;
	r->base = base;
	r->size = size;
	r->borrowed = 1;
	ret = _attach_common(r, err);
	if (ret) {
		vshm_region_close(r);
		return ret;
	}
	*out = r;
	return 0;
}

void vshm_region_close(struct vshm_region *r)
{
	if (!r)
		return;
	if (r->base && !r->borrowed)
		munmap(r->base, r->size);
	if (r->fd >= 0)
		close(r->fd);
	if (r->owner && r->unlink_on_close && r->path[0])
		unlink(r->path);
	free(r);
}

void *vshm_region_base(const struct vshm_region *r)
{
	return r->base;
}

uint64_t vshm_region_size(const struct vshm_region *r)
{
	return r->size;
}

int vshm_region_fd(const struct vshm_region *r)
{
	return r->fd;
}

const struct vshm_layout *vshm_region_layout(const struct vshm_region *r)
{
	return &r->layout;
}

struct vshm_header *vshm_region_header(const struct vshm_region *r)
{
	return r->base;
}

int vshm_region_hugepages(const struct vshm_region *r)
{
	return r->huge;
}

int vshm_region_numa_node(const struct vshm_region *r)
{
	return r->numa_node;
}

const char *vshm_region_note(const struct vshm_region *r)
{
	return r->note;
}

void *vshm_region_area(const struct vshm_region *r, enum vshm_area_kind kind, uint32_t index,
		       const struct vshm_area **area)
{
	const struct vshm_area *a = vshm_layout_find(&r->layout, kind, index);

	if (area)
		*area = a;
	return a ? (char *)r->base + a->offset : NULL;
}

void vshm_region_host_epoch_bump(struct vshm_region *r)
{
	struct vshm_header *h = r->base;

	/* Release: a guest that sees the new epoch also sees what the host reset before it. */
	vshm_store_release(&h->host_epoch, _new_epoch());
}

uint64_t vshm_region_guest_epoch(const struct vshm_region *r)
{
	const struct vshm_header *h = r->base;

	/* Acquire: the guest wrote its epoch after giving up its use of the queue pairs. */
	return vshm_load_acquire(&h->guest_epoch);
}

void vshm_region_reset_ack(struct vshm_region *r, uint64_t guest_epoch)
{
	struct vshm_header *h = r->base;

	/* Release: a guest that sees the answer also sees the freshly formatted queue pairs. */
	vshm_store_release(&h->host_reset_ack, guest_epoch);
}

void vshm_region_host_heartbeat(struct vshm_region *r)
{
	struct vshm_header *h = r->base;

	vshm_store_relaxed(&h->host_heartbeat, vshm_load_relaxed(&h->host_heartbeat) + 1);
}

/* ---- the guest's side of the header's liveness words ---- */

void vshm_region_guest_epoch_set(struct vshm_region *r, uint64_t epoch)
{
	struct vshm_header *h = r->base;

	/* Release (pairs with the acquire in vshm_region_guest_epoch): the host that sees the
	 * new epoch also sees that this guest let go of the queue pairs before writing it. */
	vshm_store_release(&h->guest_epoch, epoch);
}

uint64_t vshm_region_reset_acked(const struct vshm_region *r)
{
	const struct vshm_header *h = r->base;

	/* Acquire (pairs with the release in vshm_region_reset_ack): the queue pairs the host
	 * formatted before answering are seen formatted. */
	return vshm_load_acquire(&h->host_reset_ack);
}

uint64_t vshm_region_host_epoch(const struct vshm_region *r)
{
	const struct vshm_header *h = r->base;

	/* Acquire (pairs with the release in vshm_region_host_epoch_bump). */
	return vshm_load_acquire(&h->host_epoch);
}

uint64_t vshm_region_heartbeat(const struct vshm_region *r)
{
	const struct vshm_header *h = r->base;

	/* Relaxed: only whether it moves matters, not what it orders. */
	return vshm_load_relaxed(&h->host_heartbeat);
}
