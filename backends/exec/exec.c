// SPDX-License-Identifier: Apache-2.0
// The exec plugin: dlopen a library (by name/path, or a LIB resource's
// file), look up a symbol and call it as
//   int fn(struct vaccel_arg *in, size_t nr_in,
//          struct vaccel_arg *out, size_t nr_out).
// A library or symbol that cannot be found is an error, never a crash.
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <link.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vaccel.h>

typedef int (*exec_user_fn)(struct vaccel_arg *in, size_t nr_in,
			    struct vaccel_arg *out, size_t nr_out);

/* dlopen/dlclose from several threads are safe in glibc, but its lock is
 * invisible to ThreadSanitizer, which then reports ld.so's own allocations
 * as races. Our lock around them makes the ordering visible; the user
 * function itself runs outside it, so calls still run in parallel. */
static pthread_mutex_t exec_dl_lock = PTHREAD_MUTEX_INITIALIZER;

struct exec_seg_query {
	const struct link_map *lm;
	uintptr_t addr;
	int exec; /* 1: inside an executable PT_LOAD segment of lm */
};

static int exec_seg_cb(struct dl_phdr_info *pi, size_t size, void *data)
{
	struct exec_seg_query *q = data;

	(void)size;
	if (pi->dlpi_addr != q->lm->l_addr)
		return 0;
	for (ElfW(Half) i = 0; i < pi->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &pi->dlpi_phdr[i];
		uintptr_t lo = pi->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && q->addr >= lo && q->addr - lo < ph->p_memsz)
			q->exec = (ph->p_flags & PF_X) != 0;
	}
	return 1;
}

/* 1 if p is the start of a function symbol of lm, in an executable segment of lm. Called
 * with exec_dl_lock held (dl_iterate_phdr takes ld.so's own lock too). */
static int exec_is_function(const struct link_map *lm, void *p)
{
	const ElfW(Sym) *sym = NULL;
	Dl_info info;
	struct exec_seg_query q = {.lm = lm, .addr = (uintptr_t)p};

	if (!dladdr1(p, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym || info.dli_saddr != p ||
	    ELF64_ST_TYPE(sym->st_info) != STT_FUNC)
		return 0;
	dl_iterate_phdr(exec_seg_cb, &q);
	return q.exec;
}

static int exec_name_cb(struct dl_phdr_info *pi, size_t size, void *data)
{
	(void)size;
	return pi->dlpi_name && !strcmp(pi->dlpi_name, (const char *)data);
}

/* 1 if an object named path is loaded (dlopen would hand it back without opening path). */
static int exec_name_loaded(const char *path)
{
	return dl_iterate_phdr(exec_name_cb, (void *)path) != 0;
}

#define EXEC_FD_PREFIX "/proc/self/fd/"

/*
 * A library opened by its /proc/self/fd/N name (the agent's allowed file, a memfd) whose
 * earlier holder of that name is still loaded (-z nodelete, unique symbols): dlopen would
 * match the name and return the old library, perhaps another guest's. The fd is then
 * duplicated to a number whose name is free; *dup_fd is that fd (the caller closes it) and
 * buf its path. Returns the path to open, or NULL if no free name was found. With
 * exec_dl_lock held.
 */
static const char *exec_fresh_name(const char *lib, char *buf, size_t n, int *dup_fd)
{
	int held[16], nheld = 0;
	const char *ret = NULL;
	char *end;
	long fd;

	*dup_fd = -1;
	if (strncmp(lib, EXEC_FD_PREFIX, strlen(EXEC_FD_PREFIX)) || !exec_name_loaded(lib))
		return lib;
	fd = strtol(lib + strlen(EXEC_FD_PREFIX), &end, 10);
	if (*end || fd < 0 || fd > INT32_MAX)
		return NULL;
	while (nheld < (int)(sizeof(held) / sizeof(held[0]))) {
		int d = fcntl((int)fd, F_DUPFD_CLOEXEC, 0);

		if (d < 0)
			break;
		snprintf(buf, n, EXEC_FD_PREFIX "%d", d);
		if (!exec_name_loaded(buf)) {
			*dup_fd = d;
			ret = buf;
			break;
		}
		held[nheld++] = d; /* keep it, so the next dup gets another number */
	}
	while (nheld)
		close(held[--nheld]);
	return ret;
}

/* Open, find, call, close. Each call opens the library afresh, as upstream
 * does, so a rebuilt library is picked up and nothing is cached per
 * session. */
static int exec_call(struct vaccel_session *sess, const char *lib,
		     const char *sym, struct vaccel_arg *read, size_t nr_read,
		     struct vaccel_arg *write, size_t nr_write)
{
	char fresh[64];
	int dup_fd;
	pthread_mutex_lock(&exec_dl_lock);
	const char *open_as = exec_fresh_name(lib, fresh, sizeof(fresh), &dup_fd);
	if (!open_as) {
		vaccel_error("[exec] session:%" PRId64 " %s: no free name to open it by",
			     sess->id, lib);
		pthread_mutex_unlock(&exec_dl_lock);
		return VACCEL_EBUSY;
	}
	void *dl = dlopen(open_as, RTLD_NOW | RTLD_LOCAL);
	if (dup_fd >= 0)
		close(dup_fd); /* the mapping stays; the fd was only its name */
	if (!dl) {
		const char *e = dlerror();
		vaccel_error("[exec] session:%" PRId64
			     " cannot open library %s: %s",
			     sess->id, lib, e ? e : "unknown error");
		pthread_mutex_unlock(&exec_dl_lock);
		return VACCEL_ENOENT;
	}
	dlerror();
	void *p = dlsym(dl, sym);
	if (!p) {
		const char *e = dlerror();
		vaccel_error("[exec] session:%" PRId64
			     " no symbol %s in %s: %s",
			     sess->id, sym, lib, e ? e : "not found");
		dlclose(dl);
		pthread_mutex_unlock(&exec_dl_lock);
		return VACCEL_ENOENT;
	}
	/* dlsym also searches the library's dependencies (libc...): accept only a symbol the
	 * library itself defines, or a caller could run exit, free or system as "fn". */
	struct link_map *own = NULL, *where = NULL;
	Dl_info info;
	if (dlinfo(dl, RTLD_DI_LINKMAP, &own) != 0 ||
	    !dladdr1(p, &info, (void **)&where, RTLD_DL_LINKMAP) || where != own) {
		vaccel_error("[exec] session:%" PRId64 " symbol %s is not defined by %s (found in %s)",
			     sess->id, sym, lib,
			     where && where->l_name && *where->l_name ? where->l_name : "another object");
		dlclose(dl);
		pthread_mutex_unlock(&exec_dl_lock);
		return VACCEL_ENOENT;
	}
	/* Only a function may be called: a data symbol (__bss_start, a table) would make the
	 * caller jump into data and crash the process, which on the agent serves every guest. */
	if (!exec_is_function(own, p)) {
		vaccel_error("[exec] session:%" PRId64 " symbol %s of %s is not a function",
			     sess->id, sym, lib);
		dlclose(dl);
		pthread_mutex_unlock(&exec_dl_lock);
		return VACCEL_EINVAL;
	}
	pthread_mutex_unlock(&exec_dl_lock);

	exec_user_fn fn = (exec_user_fn)p;
	int ret = fn(read, nr_read, write, nr_write);
	if (ret)
		vaccel_debug("[exec] session:%" PRId64 " %s:%s returned %d",
			     sess->id, lib, sym, ret);

	pthread_mutex_lock(&exec_dl_lock);
	dlclose(dl);
	pthread_mutex_unlock(&exec_dl_lock);
	return ret;
}

static int exec_exec(struct vaccel_session *sess, const char *library,
		     const char *fn_symbol, struct vaccel_arg *read,
		     size_t nr_read, struct vaccel_arg *write, size_t nr_write)
{
	vaccel_debug("[exec] session:%" PRId64 " exec %s:%s", sess->id,
		     library, fn_symbol);
	return exec_call(sess, library, fn_symbol, read, nr_read, write,
			 nr_write);
}

/* Copy a memory-only resource into a memfd, which dlopen can open by its
 * /proc path. Returns the fd or -errno. */
static int exec_memfd(const struct vaccel_blob *blob)
{
	int fd = memfd_create("vaccel-exec-lib", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	const uint8_t *p = blob->data;
	size_t left = blob->size;
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			close(fd);
			return -err;
		}
		p += w;
		left -= (size_t)w;
	}
	return fd;
}

static int exec_from_memory(struct vaccel_session *sess,
			    const struct vaccel_blob *blob, const char *sym,
			    struct vaccel_arg *read, size_t nr_read,
			    struct vaccel_arg *out, size_t nr_out)
{
	int fd = exec_memfd(blob);
	if (fd < 0) {
		vaccel_error("[exec] session:%" PRId64 " memfd: %s", sess->id,
			     strerror(-fd));
		return -fd;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int ret = exec_call(sess, path, sym, read, nr_read, out, nr_out);
	close(fd);
	return ret;
}

static int exec_exec_with_resource(struct vaccel_session *sess,
				   struct vaccel_resource *res,
				   const char *fn_symbol,
				   struct vaccel_arg *read, size_t nr_read,
				   struct vaccel_arg *write, size_t nr_write)
{
	vaccel_debug("[exec] session:%" PRId64 " exec resource %" PRId64
		     " :%s",
		     sess->id, res->id, fn_symbol);
	if (res->nr_paths > 0 && res->paths[0])
		return exec_call(sess, res->paths[0], fn_symbol, read, nr_read,
				 write, nr_write);
	if (res->nr_blobs > 0 && res->blobs[0] && res->blobs[0]->data)
		return exec_from_memory(sess, res->blobs[0], fn_symbol, read,
					nr_read, write, nr_write);
	vaccel_error("[exec] session:%" PRId64 " resource %" PRId64
		     " has no file or data",
		     sess->id, res->id);
	return VACCEL_EINVAL;
}

static struct vaccel_op exec_ops[] = {
	VACCEL_OP_INIT(exec_ops[0], VACCEL_OP_EXEC, exec_exec),
	VACCEL_OP_INIT(exec_ops[1], VACCEL_OP_EXEC_WITH_RESOURCE,
		       exec_exec_with_resource),
};

static int exec_init(void)
{
	return vaccel_plugin_register_ops(exec_ops,
					  sizeof(exec_ops) / sizeof(exec_ops[0]));
}

static int exec_fini(void)
{
	return VACCEL_OK;
}

VACCEL_PLUGIN(.name = "exec", .version = "0.1", .vaccel_version = VACCEL_VERSION,
	      .type = VACCEL_PLUGIN_GENERIC,
	      .init = exec_init, .fini = exec_fini)
