/* SPDX-License-Identifier: Apache-2.0 */
/* Guest side of ivshmem: sysfs discovery, BAR mappings, region attach (see the header). */
#include "vmm-glue/guest/ivshmem_guest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((format(printf, 2, 3))) static void _err_set(struct vshm_err *err,
							   const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* Reads a sysfs hex attribute such as "0x1af4\n"; -1 when absent or unreadable. */
static long _read_hex(const char *dir, const char *name)
{
	char path[600], buf[32];
	ssize_t n;
	long v;
	char *end;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	v = strtol(buf, &end, 16);
	if (end == buf)
		return -1;
	return v;
}

static int _cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vivg_find(const char *sysfs, char *out, size_t len)
{
	struct dirent *de;
	char **names = NULL, **grown;
	size_t n = 0, cap = 0;
	int ret = -ENODEV;
	DIR *dir;

	if (!sysfs)
		sysfs = VIVG_SYSFS_PCI;
	dir = opendir(sysfs);
	if (!dir)
		return -errno;
	/* Collect and sort: readdir order is arbitrary, and a guest with two ivshmem devices
	 * should always pick the same one. */
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			grown = realloc(names, cap * sizeof(*names));
			if (!grown) {
				ret = -ENOMEM;
				goto out;
			}
			names = grown;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			ret = -ENOMEM;
			goto out;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), _cmp_names);
	for (size_t i = 0; i < n; i++) {
		char path[512];

		if (snprintf(path, sizeof(path), "%s/%s", sysfs, names[i]) >= (int)sizeof(path))
			continue;
		if (_read_hex(path, "vendor") != VIVG_VENDOR || _read_hex(path, "device") != VIVG_DEVICE)
			continue;
		if (strlen(path) >= len) {
			ret = -ENAMETOOLONG;
			goto out;
		}
		memcpy(out, path, strlen(path) + 1);
		ret = 0;
		break;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dir);
	return ret;
}

/* Maps a whole sysfs resource file MAP_SHARED; its size is the BAR's size. */
static int _map_bar(const char *dev, const char *file, void **base, uint64_t *size,
		    struct vshm_err *err)
{
	char path[600];
	struct stat st;
	void *p;
	int fd, ret;

	if (snprintf(path, sizeof(path), "%s/%s", dev, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		_err_set(err, "cannot open %s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		close(fd);
		_err_set(err, "cannot stat %s: %s", path, strerror(-ret));
		return ret;
	}
	if (st.st_size <= 0) {
		close(fd);
		_err_set(err, "%s is empty (BAR not assigned?)", path);
		return -ENODEV;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ret = p == MAP_FAILED ? -errno : 0;
	/* The mapping keeps the BAR; the fd is not needed any more. */
	close(fd);
	if (ret) {
		_err_set(err, "cannot map %s: %s", path, strerror(-ret));
		return ret;
	}
	*base = p;
	*size = (uint64_t)st.st_size;
	return 0;
}

/* One errno per header verdict a caller acts on differently (see the header). */
static int _check_errno(enum vshm_check c)
{
	switch (c) {
	case VSHM_OK:
		return 0;
	case VSHM_E_TRUNCATED:
	case VSHM_E_REGION_SIZE:
		return -EMSGSIZE;
	case VSHM_E_MAGIC:
		return -EBADMSG;
	case VSHM_E_VERSION:
		return -EPROTONOSUPPORT;
	default:
		return -EPROTO;
	}
}

int vivg_open(const struct vivg_opts *opts, struct vivg_dev **out, enum vshm_check *check,
	      struct vshm_err *err)
{
	struct vivg_opts none = {0};
	const struct vivg_opts *o = opts ? opts : &none;
	const char *sysfs = o->sysfs ? o->sysfs : VIVG_SYSFS_PCI;
	struct vivg_dev *d;
	enum vshm_check c;
	int ret;

	*out = NULL;
	if (check)
		*check = VSHM_OK;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (o->device) {
		if (snprintf(d->path, sizeof(d->path), "%s/%s", sysfs, o->device) >=
		    (int)sizeof(d->path)) {
			ret = -ENAMETOOLONG;
			goto err;
		}
		if (_read_hex(d->path, "vendor") != VIVG_VENDOR ||
		    _read_hex(d->path, "device") != VIVG_DEVICE) {
			_err_set(err, "%s is not an ivshmem device (1af4:1110)", d->path);
			ret = -ENODEV;
			goto err;
		}
	} else {
		ret = vivg_find(sysfs, d->path, sizeof(d->path));
		if (ret) {
			if (ret == -ENODEV)
				_err_set(err,
					 "no ivshmem PCI device (1af4:1110) under %s: was QEMU "
					 "started with -device ivshmem-plain or ivshmem-doorbell?",
					 sysfs);
			else
				_err_set(err, "cannot scan %s: %s", sysfs, strerror(-ret));
			goto err;
		}
	}

	ret = _map_bar(d->path, o->bar2_file ? o->bar2_file : "resource2", &d->mem, &d->mem_size,
		       err);
	if (ret)
		goto err;
	if (!o->no_regs) {
		void *regs = NULL;
		char path[600];

		snprintf(path, sizeof(path), "%s/resource0", d->path);
		/* BAR0 matters only for doorbells; a tree without it still gives the region. */
		if (access(path, F_OK) == 0) {
			ret = _map_bar(d->path, "resource0", &regs, &d->regs_size, err);
			if (ret)
				goto err;
			d->regs = regs;
		}
	}

	/* Check first to learn the exact verdict (attach_mem folds every defect into -EPROTO),
	 * then attach: the attach validates its own private copy again, which is what later
	 * code relies on; the two agree unless the host rewrites the header in between. */
	c = vshm_header_check(d->mem, d->mem_size, NULL);
	if (check)
		*check = c;
	if (c != VSHM_OK) {
		if (err)
			_err_set(err, "region rejected: %s (%llu-byte BAR, %.100s/%.20s)",
				 vshm_check_str(c), (unsigned long long)d->mem_size, d->path,
				 o->bar2_file ? o->bar2_file : "resource2");
		ret = _check_errno(c);
		goto err;
	}
	ret = vshm_region_attach_mem(d->mem, d->mem_size, &d->region, err);
	if (ret)
		goto err;
	*out = d;
	return 0;
err:
	vivg_close(d);
	return ret;
}

void vivg_close(struct vivg_dev *d)
{
	if (!d)
		return;
	vshm_region_close(d->region); /* borrowed memory: does not unmap */
	if (d->mem)
		munmap(d->mem, d->mem_size);
	if (d->regs)
		munmap((void *)d->regs, d->regs_size);
	free(d);
}

int vivg_own_id(const struct vivg_dev *d)
{
	if (!d->regs || d->regs_size < VIVG_REG_DOORBELL + 4)
		return -ENODEV;
	/* A 32-bit MMIO read; the register is 32 bits wide (only the low 16 are an ID). */
	return (int)(d->regs[VIVG_REG_IVPOSITION / 4] & 0xffffu);
}

int vivg_ring(const struct vivg_dev *d, unsigned peer, unsigned vector)
{
	if (!d->regs || d->regs_size < VIVG_REG_DOORBELL + 4)
		return -ENODEV;
	if (peer > 0xffffu || vector > 0xffffu)
		return -EINVAL;
	/* One 32-bit store through a volatile pointer: QEMU acts on the write itself. */
	d->regs[VIVG_REG_DOORBELL / 4] = (peer << 16) | vector;
	return 0;
}

const char *vivg_strerror(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case -ENODEV:
		return "no ivshmem device";
	case -EACCES:
	case -EPERM:
		return "permission denied on the ivshmem BAR files (need root)";
	case -EMSGSIZE:
		return "BAR smaller than the region header says";
	case -EBADMSG:
		return "bad magic: no vAccel region is served in this BAR";
	case -EPROTONOSUPPORT:
		return "region layout version not supported";
	case -EPROTO:
		return "region header invalid";
	default:
		return strerror(-err);
	}
}
