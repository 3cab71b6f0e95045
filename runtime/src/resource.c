// SPDX-License-Identifier: Apache-2.0
// Resources: creation from paths or a buffer, the live-resource registry,
// and registration with sessions (which keeps the refcount).
#include "rt.h"
#include "session_res.h"
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t rt_res_lock = PTHREAD_MUTEX_INITIALIZER;
static vaccel_list_t rt_res_live = VACCEL_LIST_ENTRY_INIT(rt_res_live);
static vaccel_id_t rt_next_res_id = 1;

long int vaccel_resource_refcount(const struct vaccel_resource *res)
{
	if (!res)
		return -VACCEL_EINVAL;
	/* pairs with the acq_rel updates below */
	return (long int)atomic_load_explicit(&res->refcount,
					      memory_order_acquire);
}

void rt_resource_refcount_inc(struct vaccel_resource *res)
{
	atomic_fetch_add_explicit(&res->refcount, 1, memory_order_acq_rel);
}

void rt_resource_refcount_dec(struct vaccel_resource *res)
{
	atomic_fetch_sub_explicit(&res->refcount, 1, memory_order_acq_rel);
}

static void _free_blobs(struct vaccel_resource *res)
{
	for (size_t i = 0; i < res->nr_blobs; i++) {
		struct vaccel_blob *b = res->blobs[i];
		if (!b)
			continue;
		vaccel_blob_delete(b);
	}
	free(res->blobs);
	res->blobs = NULL;
	res->nr_blobs = 0;
}

static void _free_fields(struct vaccel_resource *res)
{
	for (size_t i = 0; i < res->nr_paths; i++) {
		if (res->rundir && res->paths[i])
			unlink(res->paths[i]);
		free(res->paths[i]);
	}
	free(res->paths);
	res->paths = NULL;
	res->nr_paths = 0;
	if (res->rundir) {
		rmdir(res->rundir);
		free(res->rundir);
		res->rundir = NULL;
	}
	_free_blobs(res);
}

/* A blob owning copies of name, path and data (a FILE blob when there is
 * no data); files it names are the resource's to remove. */
static struct vaccel_blob *_blob_new(const char *name, const char *path,
				     const void *data, size_t size)
{
	struct vaccel_blob *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	/* path_owned stays false: the resource removes its own files */
	b->type = data ? VACCEL_BLOB_BUFFER : VACCEL_BLOB_FILE;
	b->name = strdup(name);
	b->path = path ? strdup(path) : NULL;
	b->size = size;
	if (data) {
		b->data = malloc(size ? size : 1);
		if (b->data)
			memcpy(b->data, data, size);
		b->data_owned = true;
	}
	if (!b->name || (path && !b->path) || (data && !b->data)) {
		vaccel_blob_delete(b);
		return NULL;
	}
	return b;
}

/* Give res an id and publish it in the live list. */
static void _publish(struct vaccel_resource *res)
{
	res->id = __atomic_fetch_add(&rt_next_res_id, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&rt_res_lock);
	vaccel_list_add_tail(&rt_res_live, &res->entry);
	pthread_mutex_unlock(&rt_res_lock);
	vaccel_debug("resource:%" PRId64 " new, %s, %zu file(s)", res->id,
		     vaccel_resource_type_to_str(res->type), res->nr_blobs);
}

static void _reset(struct vaccel_resource *res, vaccel_resource_type_t type)
{
	memset(res, 0, sizeof(*res));
	res->type = type;
	res->path_type = VACCEL_PATH_LOCAL_FILE;
	vaccel_list_init(&res->entry);
	vaccel_list_init(&res->sessions);
	pthread_mutex_init(&res->sessions_lock, NULL);
	atomic_init(&res->refcount, 0);
}

/* A local path, with or without upstream's "file://" prefix, and what it
 * names; VACCEL_EINVAL for anything else (remote URIs included: this
 * runtime does not download). */
static int _local_path(const char *uri, const char **path,
		       vaccel_path_type_t *type)
{
	struct stat st;
	const char *sep = strstr(uri, "://");
	if (sep && strncmp(uri, "file://", 7) != 0) {
		vaccel_error("Unsupported URI %s (only local paths)", uri);
		return VACCEL_EINVAL;
	}
	*path = sep ? sep + 3 : uri;
	if (stat(*path, &st) ||
	    (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
		vaccel_error("Invalid path %s", *path);
		return VACCEL_EINVAL;
	}
	if (strlen(*path) >= PATH_MAX)
		return VACCEL_ENAMETOOLONG;
	*type = S_ISDIR(st.st_mode) ? VACCEL_PATH_LOCAL_DIR :
				      VACCEL_PATH_LOCAL_FILE;
	return VACCEL_OK;
}

/* Append a FILE blob for path (named after its last component). */
static int _add_file_blob(struct vaccel_resource *res, const char *path)
{
	struct stat st;
	if (stat(path, &st))
		st.st_size = 0;
	const char *base = strrchr(path, '/');
	struct vaccel_blob **nb =
		realloc(res->blobs, (res->nr_blobs + 1) * sizeof(*nb));
	if (!nb)
		return VACCEL_ENOMEM;
	res->blobs = nb;
	nb[res->nr_blobs] = _blob_new(base ? base + 1 : path, path, NULL,
				      (size_t)st.st_size);
	if (!nb[res->nr_blobs])
		return VACCEL_ENOMEM;
	res->nr_blobs++;
	return VACCEL_OK;
}

/* A directory resource's blobs: its regular files, in name order. */
static int _add_dir_blobs(struct vaccel_resource *res, const char *dir)
{
	struct dirent **list = NULL;
	int n = scandir(dir, &list, NULL, alphasort);
	if (n < 0)
		return VACCEL_EIO;
	int ret = VACCEL_OK;
	for (int i = 0; i < n; i++) {
		char p[PATH_MAX];
		struct stat st;
		if (!ret &&
		    snprintf(p, sizeof(p), "%s/%s", dir, list[i]->d_name) <
			    (int)sizeof(p) &&
		    !stat(p, &st) && S_ISREG(st.st_mode))
			ret = _add_file_blob(res, p);
		free(list[i]);
	}
	free(list);
	return ret;
}

/* Upstream's rules: every path exists, all of one kind, at most one
 * directory. */
int vaccel_resource_init_multi(struct vaccel_resource *res, const char **paths,
			       size_t nr_paths, vaccel_resource_type_t type)
{
	vaccel_path_type_t kind = VACCEL_PATH_MAX;
	if (!res || !paths || !nr_paths ||
	    (unsigned)type >= VACCEL_RESOURCE_MAX)
		return VACCEL_EINVAL;

	_reset(res, type);
	for (size_t i = 0; i < nr_paths; i++) {
		const char *p;
		vaccel_path_type_t t;
		if (!paths[i])
			return VACCEL_EINVAL;
		int ret = _local_path(paths[i], &p, &t);
		if (ret)
			return ret;
		if (i && (t == VACCEL_PATH_LOCAL_DIR ||
			  kind == VACCEL_PATH_LOCAL_DIR)) {
			vaccel_error("A resource has one directory or files");
			return VACCEL_ENOTSUP;
		}
		kind = t;
	}
	res->path_type = kind;

	int ret = VACCEL_ENOMEM;
	res->paths = calloc(nr_paths, sizeof(*res->paths));
	if (!res->paths)
		goto err;
	for (size_t i = 0; i < nr_paths; i++) {
		const char *p;
		vaccel_path_type_t t;
		_local_path(paths[i], &p, &t);
		res->paths[i] = strdup(p);
		if (!res->paths[i])
			goto err;
		res->nr_paths++;
		ret = t == VACCEL_PATH_LOCAL_DIR ? _add_dir_blobs(res, p) :
						   _add_file_blob(res, p);
		if (ret)
			goto err;
	}
	_publish(res);
	return VACCEL_OK;

err:
	_free_fields(res);
	return ret;
}

int vaccel_resource_init(struct vaccel_resource *res, const char *path,
			 vaccel_resource_type_t type)
{
	if (!path)
		return VACCEL_EINVAL;
	return vaccel_resource_init_multi(res, &path, 1, type);
}

/* Writes the whole buffer to a new file; a file it could not finish (disk full) is removed,
 * so a failed resource leaves nothing behind to fill the disk for the next one. */
static int _write_file(const char *path, const void *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
	int err = 0;
	if (fd < 0)
		return -errno;
	const char *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	if (close(fd) && !err)
		err = errno;
	if (err)
		unlink(path);
	return -err;
}

int vaccel_resource_init_from_buf(struct vaccel_resource *res, const void *buf,
				  size_t nr_bytes, vaccel_resource_type_t type,
				  const char *filename, bool mem_only)
{
	if (!res || !buf || !nr_bytes ||
	    (unsigned)type >= VACCEL_RESOURCE_MAX)
		return VACCEL_EINVAL;
	if (!filename)
		filename = "resource.bin";
	if (!*filename || strchr(filename, '/'))
		return VACCEL_EINVAL;

	_reset(res, type);
	res->blobs = calloc(1, sizeof(*res->blobs));
	if (!res->blobs)
		return VACCEL_ENOMEM;

	char path[PATH_MAX];
	if (!mem_only) {
		const char *tmp = getenv("TMPDIR");
		char dir[PATH_MAX];
		if (!tmp || !*tmp)
			tmp = "/tmp";
		if (snprintf(dir, sizeof(dir), "%s/vaccel-res-XXXXXX", tmp) >=
		    (int)sizeof(dir))
			goto toolong;
		if (!mkdtemp(dir)) {
			int err = errno;
			vaccel_error("Cannot create resource directory in %s: %s",
				     tmp, strerror(err));
			_free_fields(res);
			return err;
		}
		res->rundir = strdup(dir);
		if (!res->rundir) {
			rmdir(dir);
			goto nomem;
		}
		if (snprintf(path, sizeof(path), "%s/%s", dir, filename) >=
		    (int)sizeof(path))
			goto toolong;
		int ret = _write_file(path, buf, nr_bytes);
		if (ret) {
			vaccel_error("Cannot write resource file %s: %s", path,
				     strerror(-ret));
			_free_fields(res);
			return -ret;
		}
		res->paths = calloc(1, sizeof(*res->paths));
		if (!res->paths) {
			unlink(path);
			goto nomem;
		}
		res->paths[0] = strdup(path);
		res->nr_paths = 1;
		if (!res->paths[0]) {
			unlink(path);
			goto nomem;
		}
	}
	res->blobs[0] =
		_blob_new(filename, mem_only ? NULL : path, buf, nr_bytes);
	res->nr_blobs = 1;
	if (!res->blobs[0])
		goto nomem;
	_publish(res);
	return VACCEL_OK;

toolong:
	_free_fields(res);
	return VACCEL_ENAMETOOLONG;
nomem:
	_free_fields(res);
	return VACCEL_ENOMEM;
}

int vaccel_resource_release(struct vaccel_resource *res)
{
	if (!res || res->id <= 0)
		return VACCEL_EINVAL;
	/* Upstream's rule: releasing a resource unregisters it from every
	 * session first (each session's plugin hook runs). */
	for (;;) {
		struct vaccel_session *sess = NULL;
		pthread_mutex_lock(&res->sessions_lock);
		if (!vaccel_list_empty(&res->sessions))
			sess = vaccel_list_container(res->sessions.next,
						     struct rt_res_link,
						     res_entry)
				       ->sess;
		pthread_mutex_unlock(&res->sessions_lock);
		if (!sess)
			break;
		int ret = vaccel_resource_unregister(res, sess);
		/* EINVAL: a concurrent unregister got there first */
		if (ret && ret != VACCEL_EINVAL)
			return ret;
	}
	pthread_mutex_lock(&rt_res_lock);
	vaccel_list_unlink(&res->entry);
	pthread_mutex_unlock(&rt_res_lock);
	vaccel_debug("resource:%" PRId64 " released", res->id);
	_free_fields(res);
	pthread_mutex_destroy(&res->sessions_lock);
	res->id = 0;
	return VACCEL_OK;
}

#define RT_RES_ALLOC_WRAPPER(call)              \
	do {                                    \
		if (!res)                       \
			return VACCEL_EINVAL;   \
		struct vaccel_resource *r =     \
			malloc(sizeof(*r));     \
		if (!r)                         \
			return VACCEL_ENOMEM;   \
		int ret = (call);               \
		if (ret) {                      \
			free(r);                \
			return ret;             \
		}                               \
		*res = r;                       \
		return VACCEL_OK;               \
	} while (0)

int vaccel_resource_new(struct vaccel_resource **res, const char *path,
			vaccel_resource_type_t type)
{
	RT_RES_ALLOC_WRAPPER(vaccel_resource_init(r, path, type));
}

int vaccel_resource_multi_new(struct vaccel_resource **res, const char **paths,
			      size_t nr_paths, vaccel_resource_type_t type)
{
	RT_RES_ALLOC_WRAPPER(
		vaccel_resource_init_multi(r, paths, nr_paths, type));
}

int vaccel_resource_from_buf(struct vaccel_resource **res, const void *buf,
			     size_t nr_bytes, vaccel_resource_type_t type,
			     const char *filename, bool mem_only)
{
	RT_RES_ALLOC_WRAPPER(vaccel_resource_init_from_buf(
		r, buf, nr_bytes, type, filename, mem_only));
}

int vaccel_resource_from_blobs(struct vaccel_resource **res,
			       const struct vaccel_blob **blobs,
			       size_t nr_blobs, vaccel_resource_type_t type)
{
	RT_RES_ALLOC_WRAPPER(
		vaccel_resource_init_from_blobs(r, blobs, nr_blobs, type));
}

int vaccel_resource_delete(struct vaccel_resource *res)
{
	int ret = vaccel_resource_release(res);
	if (ret)
		return ret;
	free(res);
	return VACCEL_OK;
}

static int _get(struct vaccel_resource **res, bool by_id, vaccel_id_t id,
		vaccel_resource_type_t type)
{
	vaccel_list_entry_t *it;
	if (!res)
		return VACCEL_EINVAL;
	int ret = VACCEL_ENOENT;
	pthread_mutex_lock(&rt_res_lock);
	vaccel_list_for_each(it, &rt_res_live)
	{
		struct vaccel_resource *r =
			vaccel_list_container(it, struct vaccel_resource, entry);
		if (by_id ? r->id == id : r->type == type) {
			*res = r;
			ret = VACCEL_OK;
			break;
		}
	}
	pthread_mutex_unlock(&rt_res_lock);
	return ret;
}

int vaccel_resource_get_all_by_type(struct vaccel_resource ***res,
				    size_t *nr_found,
				    vaccel_resource_type_t type)
{
	vaccel_list_entry_t *it;
	if (!res || !nr_found || (unsigned)type >= VACCEL_RESOURCE_MAX)
		return VACCEL_EINVAL;
	pthread_mutex_lock(&rt_res_lock);
	size_t n = 0;
	vaccel_list_for_each(it, &rt_res_live)
	{
		if (vaccel_list_container(it, struct vaccel_resource, entry)
			    ->type == type)
			n++;
	}
	struct vaccel_resource **arr = n ? malloc(n * sizeof(*arr)) : NULL;
	if (n && arr) {
		size_t i = 0;
		vaccel_list_for_each(it, &rt_res_live)
		{
			struct vaccel_resource *r = vaccel_list_container(
				it, struct vaccel_resource, entry);
			if (r->type == type)
				arr[i++] = r;
		}
	}
	pthread_mutex_unlock(&rt_res_lock);
	*nr_found = 0;
	if (!n)
		return VACCEL_ENOENT;
	if (!arr)
		return VACCEL_ENOMEM;
	*res = arr;
	*nr_found = n;
	return VACCEL_OK;
}

int vaccel_resource_directory(struct vaccel_resource *res, char *out_path,
			      size_t out_path_size, char **alloc_path)
{
	if (!res || (!out_path && !alloc_path) || res->id <= 0)
		return VACCEL_EINVAL;
	/* only resources made from a directory have one (upstream) */
	if (res->path_type != VACCEL_PATH_LOCAL_DIR)
		return VACCEL_ENOTSUP;
	const char *dir = res->rundir ? res->rundir :
		(res->nr_paths ? res->paths[0] : NULL);
	if (!dir)
		return VACCEL_EINVAL;
	if (alloc_path) {
		*alloc_path = strdup(dir);
		return *alloc_path ? VACCEL_OK : VACCEL_ENOMEM;
	}
	if (strlen(dir) >= out_path_size)
		return VACCEL_EINVAL;
	strcpy(out_path, dir);
	return VACCEL_OK;
}

int vaccel_resource_init_from_blobs(struct vaccel_resource *res,
				    const struct vaccel_blob **blobs,
				    size_t nr_blobs,
				    vaccel_resource_type_t type)
{
	if (!res || !blobs || !nr_blobs ||
	    (unsigned)type >= VACCEL_RESOURCE_MAX)
		return VACCEL_EINVAL;
	for (size_t i = 0; i < nr_blobs; i++)
		if (!vaccel_blob_valid(blobs[i]))
			return VACCEL_EINVAL;
	_reset(res, type);
	res->blobs = calloc(nr_blobs, sizeof(*res->blobs));
	res->paths = calloc(nr_blobs, sizeof(*res->paths));
	if (!res->blobs || !res->paths)
		goto nomem;
	/* each blob copied: a file by its path, memory by its bytes */
	for (size_t i = 0; i < nr_blobs; i++) {
		const struct vaccel_blob *b = blobs[i];
		bool in_mem = b->type != VACCEL_BLOB_FILE && b->data;
		res->blobs[i] = _blob_new(b->name, b->path,
					  in_mem ? b->data : NULL,
					  b->size);
		res->nr_blobs++;
		if (!res->blobs[i])
			goto nomem;
		if (b->path) {
			res->paths[res->nr_paths] = strdup(b->path);
			if (!res->paths[res->nr_paths++])
				goto nomem;
		}
	}
	_publish(res);
	return VACCEL_OK;
nomem:
	_free_fields(res);
	return VACCEL_ENOMEM;
}

int vaccel_resource_get_by_id(struct vaccel_resource **res, vaccel_id_t id)
{
	return _get(res, true, id, VACCEL_RESOURCE_LIB);
}

int vaccel_resource_get_by_type(struct vaccel_resource **res,
				vaccel_resource_type_t type)
{
	return _get(res, false, 0, type);
}

int vaccel_resource_register(struct vaccel_resource *res,
			     struct vaccel_session *sess)
{
	if (!res || !sess || !sess->plugin || !res->id)
		return VACCEL_EINVAL;

	struct rt_res_link *l = calloc(1, sizeof(*l));
	if (!l)
		return VACCEL_ENOMEM;
	l->res = res;

	int ret = VACCEL_OK;
	/* The plugin hook runs under the session's lock so a concurrent
	 * register/unregister of the same pair cannot interleave with it. */
	pthread_mutex_lock(&sess->resources_lock);
	if (rt_session_find_link(sess, res)) {
		/* upstream: not an error, and nothing to do */
		vaccel_warn("session:%" PRId64 " resource %" PRId64
			    " is already registered",
			    sess->id, res->id);
		goto out;
	}
	if (sess->plugin->info->resource_register) {
		ret = sess->plugin->info->resource_register(res, sess);
		if (ret) {
			vaccel_error("session:%" PRId64 " plugin %s could not "
				     "register resource %" PRId64 ": %d",
				     sess->id, rt_plugin_name(sess->plugin),
				     res->id, ret);
			goto out;
		}
	}
	l->sess = sess;
	vaccel_list_add_tail(&sess->resources[res->type], &l->sess_entry);
	pthread_mutex_lock(&res->sessions_lock);
	vaccel_list_add_tail(&res->sessions, &l->res_entry);
	pthread_mutex_unlock(&res->sessions_lock);
	sess->resource_counts[res->type]++;
	rt_resource_refcount_inc(res);
	l = NULL;
out:
	pthread_mutex_unlock(&sess->resources_lock);
	free(l);
	if (!ret)
		vaccel_debug("session:%" PRId64 " registered resource %" PRId64,
			     sess->id, res->id);
	return ret;
}

int vaccel_resource_unregister(struct vaccel_resource *res,
			       struct vaccel_session *sess)
{
	if (!res || !sess || !sess->plugin)
		return VACCEL_EINVAL;

	int ret = VACCEL_OK;
	pthread_mutex_lock(&sess->resources_lock);
	struct rt_res_link *l = rt_session_find_link(sess, res);
	if (!l) {
		ret = VACCEL_EINVAL; /* upstream's code */
		goto out;
	}
	if (sess->plugin->info->resource_unregister) {
		int pret = sess->plugin->info->resource_unregister(res, sess);
		/* Drop the local link anyway: the remote side may be gone. */
		if (pret)
			vaccel_warn("session:%" PRId64 " plugin %s failed to "
				    "unregister resource %" PRId64 ": %d",
				    sess->id, rt_plugin_name(sess->plugin),
				    res->id, pret);
	}
	vaccel_list_unlink(&l->sess_entry);
	pthread_mutex_lock(&res->sessions_lock);
	vaccel_list_unlink(&l->res_entry);
	pthread_mutex_unlock(&res->sessions_lock);
	sess->resource_counts[res->type]--;
	rt_resource_refcount_dec(res);
	free(l);
out:
	pthread_mutex_unlock(&sess->resources_lock);
	if (ret)
		vaccel_error("session:%" PRId64 " resource %" PRId64
			     " is not registered",
			     sess->id, res->id);
	return ret;
}

int vaccel_resource_sync(struct vaccel_resource *res,
			 struct vaccel_session *sess)
{
	if (!res || !sess || !sess->plugin)
		return VACCEL_EINVAL;
	if (!vaccel_session_has_resource(sess, res))
		return VACCEL_EPERM;
	if (sess->plugin->info->resource_sync)
		return sess->plugin->info->resource_sync(res, sess);
	return VACCEL_OK;
}
