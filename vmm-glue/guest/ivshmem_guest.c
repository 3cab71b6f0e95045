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

/* For messages that must fit vshm_err, where the end of a path says more than its start:
 * printf("%s%s", _cut(p, n), _tail(p, n)) prints "..." and the last n characters of a
 * longer path, or the whole path. */
static const char *_tail(const char *path, size_t n)
{
	size_t len = strlen(path);

	return len > n ? path + len - n : path;
}

static const char *_cut(const char *path, size_t n)
{
	return strlen(path) > n ? "..." : "";
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

/* Maps a whole file MAP_SHARED: a sysfs resource file, whose size is the BAR's size, or a
 * device node (the guest driver's), whose size lseek(SEEK_END) tells. */
static int _map_file(const char *path, void **base, uint64_t *size, struct vshm_err *err)
{
	struct stat st;
	off_t len;
	void *p;
	int fd, ret;

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
	len = st.st_size;
	if (S_ISCHR(st.st_mode))
		len = lseek(fd, 0, SEEK_END);
	if (len <= 0) {
		close(fd);
		_err_set(err, "%s is empty (BAR not assigned?)", path);
		return -ENODEV;
	}
	p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ret = p == MAP_FAILED ? -errno : 0;
	/* The mapping keeps the BAR; the fd is not needed any more. */
	close(fd);
	if (ret) {
		_err_set(err, "cannot map %s: %s", path, strerror(-ret));
		return ret;
	}
	*base = p;
	*size = (uint64_t)len;
	return 0;
}

/* Reads a one-line sysfs text attribute without its newline; "" when absent. */
static void _read_line(const char *path, char *out, size_t len)
{
	ssize_t n = -1;
	int fd;

	out[0] = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, out, len - 1);
		close(fd);
	}
	if (n <= 0) {
		out[0] = 0;
		return;
	}
	out[n] = 0;
	out[strcspn(out, "\n")] = 0;
}

/*
 * The guest driver's misc device for the device folder dev: the driver registers it with
 * the PCI device as parent, so sysfs lists it as dev/misc/vaccel-ivshmemN. Writes its name
 * (the node's name in /dev) to name; returns 0, or -ENOENT when the driver is not bound.
 */
static int _driver_node(const char *dev, char *name, size_t len)
{
	static const char prefix[] = VIVG_DRIVER_NODE;
	char path[600];
	struct dirent *de;
	int ret = -ENOENT;
	DIR *dir;

	if (snprintf(path, sizeof(path), "%s/misc", dev) >= (int)sizeof(path))
		return -ENOENT;
	dir = opendir(path);
	if (!dir)
		return -ENOENT;
	/* One misc device per PCI device: the first match is the one. */
	while ((de = readdir(dir))) {
		const char *n = de->d_name + sizeof(prefix) - 1;

		if (strncmp(de->d_name, prefix, sizeof(prefix) - 1) || !*n ||
		    strspn(n, "0123456789") != strlen(n) || strlen(de->d_name) >= len)
			continue;
		memcpy(name, de->d_name, strlen(de->d_name) + 1);
		ret = 0;
		break;
	}
	closedir(dir);
	return ret;
}

/* Picks and maps BAR2 (see "Which BAR2 mapping" in the header). */
static int _map_bar2(const struct vivg_opts *o, struct vivg_dev *d, struct vshm_err *err)
{
	const char *file = o->bar2_file;
	char node[64], attr[700];
	int ret;

	if (file && file[0] == '/') {
		d->bar2_via = VIVG_BAR2_PATH;
		if (snprintf(d->bar2_path, sizeof(d->bar2_path), "%s", file) >=
		    (int)sizeof(d->bar2_path))
			return -ENAMETOOLONG;
	} else if (!file && !o->no_driver && !_driver_node(d->path, node, sizeof(node))) {
		const char *devdir = o->devdir ? o->devdir : VIVG_DEVDIR;

		d->bar2_via = VIVG_BAR2_DRIVER;
		if (snprintf(d->bar2_path, sizeof(d->bar2_path), "%s/%s", devdir, node) >=
		    (int)sizeof(d->bar2_path))
			return -ENAMETOOLONG;
		snprintf(attr, sizeof(attr), "%s/misc/%s/cache_mode", d->path, node);
		_read_line(attr, d->bar2_cache, sizeof(d->bar2_cache));
		ret = _map_file(d->bar2_path, &d->mem, &d->mem_size, err);
		if (ret == -ENOENT)
			_err_set(err,
				 "the vaccel_ivshmem driver is bound but %s%s does not exist: mount "
				 "devtmpfs on /dev (or create the node); device %s%s",
				 _cut(d->bar2_path, 60), _tail(d->bar2_path, 60), _cut(d->path, 60),
				 _tail(d->path, 60));
		return ret;
	} else {
		file = file ? file : "resource2";
		d->bar2_via = VIVG_BAR2_SYSFS;
		if (snprintf(d->bar2_path, sizeof(d->bar2_path), "%s/%s", d->path, file) >=
		    (int)sizeof(d->bar2_path))
			return -ENAMETOOLONG;
		/* What the PCI core's mmap of a resource file gives. */
		if (!strcmp(file, "resource2"))
			snprintf(d->bar2_cache, sizeof(d->bar2_cache), "uncached");
		else if (!strcmp(file, "resource2_wc"))
			snprintf(d->bar2_cache, sizeof(d->bar2_cache), "write-combining");
	}
	ret = _map_file(d->bar2_path, &d->mem, &d->mem_size, err);
	if (ret == -EINVAL && d->bar2_via == VIVG_BAR2_SYSFS &&
	    !_driver_node(d->path, node, sizeof(node)))
		_err_set(err, "cannot map %s%s: the vaccel_ivshmem driver owns BAR2; map /dev/%s",
			 _cut(d->bar2_path, 100), _tail(d->bar2_path, 100), node);
	return ret;
}

const char *vivg_bar2_via_str(enum vivg_bar2_via via)
{
	switch (via) {
	case VIVG_BAR2_SYSFS:
		return "sysfs";
	case VIVG_BAR2_DRIVER:
		return "driver";
	case VIVG_BAR2_PATH:
		return "path";
	}
	return "?";
}

/* The runtime's debug level (VACCEL_LOG_LEVEL=4) also shows which BAR2 mapping is used. */
static int _debug(void)
{
	const char *lvl = getenv("VACCEL_LOG_LEVEL");

	return lvl && atoi(lvl) >= 4;
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

	ret = _map_bar2(o, d, err);
	if (ret)
		goto err;
	if (_debug())
		fprintf(stderr, "[ivshmem-guest] %s: BAR2 mapped through %s (%s, %s)\n", d->path,
			d->bar2_path, vivg_bar2_via_str(d->bar2_via),
			d->bar2_cache[0] ? d->bar2_cache : "cache mode unknown");
	if (!o->no_regs) {
		void *regs = NULL;
		char path[600];

		snprintf(path, sizeof(path), "%s/resource0", d->path);
		/* BAR0 matters only for doorbells; a tree without it still gives the region. */
		if (access(path, F_OK) == 0) {
			ret = _map_file(path, &regs, &d->regs_size, err);
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
			_err_set(err, "region rejected: %s (%llu-byte BAR, %s%s)",
				 vshm_check_str(c), (unsigned long long)d->mem_size,
				 _cut(d->bar2_path, 60), _tail(d->bar2_path, 60));
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
