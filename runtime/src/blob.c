// SPDX-License-Identifier: Apache-2.0
// Blobs: one file of a resource. Ownership, as upstream's:
//   name, path  always the blob's own copies, freed by release;
//   path_owned  the file at path was written by the blob: release removes it;
//   data_owned  data was allocated (BUFFER) or mapped (MAPPED) by the blob:
//               release frees or unmaps it.
// A released blob has type VACCEL_BLOB_MAX.
#include "rt.h"
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char *_base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return strdup(b ? b + 1 : path);
}

/* Map a whole regular file read-write (private: the file is not changed
 * through it). An empty file maps to nothing. */
static int _map(const char *path, uint8_t **data, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? VACCEL_ENOENT : VACCEL_EIO;
	struct stat st;
	int ret = VACCEL_EIO;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		goto out;
	if (st.st_size == 0) {
		ret = VACCEL_EINVAL;
		goto out;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		goto out;
	*data = p;
	*size = (size_t)st.st_size;
	ret = VACCEL_OK;
out:
	close(fd);
	return ret;
}

/* Write size bytes of data to a new file dir/filename (dir/filename.XXXXXX
 * when randomize or when the name is taken); its path in *path. */
static int _create_file(const char *dir, const char *filename, bool randomize,
			const uint8_t *data, size_t size, char **path)
{
	char p[PATH_MAX];
	int fd = -1;
	if (!randomize) {
		if (snprintf(p, sizeof(p), "%s/%s", dir, filename) >=
		    (int)sizeof(p))
			return VACCEL_ENAMETOOLONG;
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return VACCEL_EIO;
		if (fd < 0)
			vaccel_warn("File %s exists; adding a random suffix", p);
	}
	if (fd < 0) {
		if (snprintf(p, sizeof(p), "%s/%s.XXXXXX", dir, filename) >=
		    (int)sizeof(p))
			return VACCEL_ENAMETOOLONG;
		fd = mkostemp(p, O_CLOEXEC);
		if (fd < 0)
			return VACCEL_EIO;
	}
	size_t done = 0;
	while (done < size) {
		ssize_t w = write(fd, data + done, size - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (close(fd) || done != size) {
		unlink(p);
		return VACCEL_EIO;
	}
	*path = strdup(p);
	if (!*path) {
		unlink(p);
		return VACCEL_ENOMEM;
	}
	return VACCEL_OK;
}

int vaccel_blob_persist(struct vaccel_blob *blob, const char *dir,
			const char *filename, bool randomize)
{
	struct stat st;
	if (!blob || !blob->data || !blob->size ||
	    (unsigned)blob->type >= VACCEL_BLOB_MAX || !filename || !*filename ||
	    strchr(filename, '/'))
		return VACCEL_EINVAL;
	if (!dir || stat(dir, &st) || !S_ISDIR(st.st_mode))
		return VACCEL_ENOENT;
	if (blob->path)
		return VACCEL_EEXIST; /* never overwrite a blob's file */

	char *path = NULL;
	int ret = _create_file(dir, filename, randomize, blob->data,
			       blob->size, &path);
	if (ret)
		return ret;
	char *name = _base_name(path);
	uint8_t *mapped = NULL;
	size_t mapped_size = 0;
	if (!name)
		ret = VACCEL_ENOMEM;
	else
		ret = _map(path, &mapped, &mapped_size);
	if (ret) {
		unlink(path);
		free(path);
		free(name);
		return ret;
	}
	/* From here on the bytes live in the file, mapped into data. */
	if (blob->type == VACCEL_BLOB_BUFFER && blob->data_owned)
		free(blob->data);
	free(blob->name);
	blob->name = name;
	blob->path = path;
	blob->path_owned = true;
	blob->data = mapped;
	blob->size = mapped_size;
	blob->data_owned = true;
	blob->type = VACCEL_BLOB_MAPPED;
	vaccel_debug("Persisted blob %s to %s", blob->name, blob->path);
	return VACCEL_OK;
}

int vaccel_blob_init(struct vaccel_blob *blob, const char *path)
{
	struct stat st;
	if (!blob || !path)
		return VACCEL_EINVAL;
	if (stat(path, &st) || !S_ISREG(st.st_mode)) {
		vaccel_error("Invalid file %s", path);
		return VACCEL_EINVAL;
	}
	memset(blob, 0, sizeof(*blob));
	blob->path = strdup(path);
	blob->name = blob->path ? _base_name(path) : NULL;
	if (!blob->name) {
		free(blob->path);
		blob->path = NULL;
		return VACCEL_ENOMEM;
	}
	blob->type = VACCEL_BLOB_FILE;
	return VACCEL_OK;
}

int vaccel_blob_init_from_buf(struct vaccel_blob *blob, const uint8_t *buf,
			      size_t size, bool own, const char *filename,
			      const char *dir, bool randomize)
{
	if (!blob || !buf || !size || !filename)
		return VACCEL_EINVAL;
	memset(blob, 0, sizeof(*blob));
	blob->type = VACCEL_BLOB_BUFFER;
	blob->data = (uint8_t *)buf;
	blob->size = size;
	int ret;
	if (dir) {
		/* the file gets its own copy; buf stays the caller's */
		ret = vaccel_blob_persist(blob, dir, filename, randomize);
	} else {
		ret = VACCEL_ENOMEM;
		if (own) {
			blob->data = malloc(size);
			if (!blob->data)
				goto err;
			memcpy(blob->data, buf, size);
			blob->data_owned = true;
		}
		blob->name = strdup(filename);
		ret = blob->name ? VACCEL_OK : VACCEL_ENOMEM;
	}
	if (!ret)
		return VACCEL_OK;
err:
	if (blob->data_owned && blob->type == VACCEL_BLOB_BUFFER)
		free(blob->data);
	memset(blob, 0, sizeof(*blob));
	blob->type = VACCEL_BLOB_MAX;
	return ret;
}

int vaccel_blob_release(struct vaccel_blob *blob)
{
	if (!blob || (unsigned)blob->type >= VACCEL_BLOB_MAX)
		return VACCEL_EINVAL;
	if (blob->data && blob->data_owned) {
		if (blob->type == VACCEL_BLOB_MAPPED) {
			if (munmap(blob->data, blob->size)) {
				vaccel_error("Cannot unmap blob %s: %s",
					     blob->name ? blob->name : "?",
					     strerror(errno));
				return VACCEL_EIO;
			}
		} else {
			free(blob->data);
		}
	}
	if (blob->path && blob->path_owned && unlink(blob->path))
		vaccel_warn("Cannot remove %s: %s", blob->path,
			    strerror(errno));
	free(blob->name);
	free(blob->path);
	memset(blob, 0, sizeof(*blob));
	blob->type = VACCEL_BLOB_MAX;
	return VACCEL_OK;
}

int vaccel_blob_new(struct vaccel_blob **blob, const char *path)
{
	if (!blob)
		return VACCEL_EINVAL;
	struct vaccel_blob *b = malloc(sizeof(*b));
	if (!b)
		return VACCEL_ENOMEM;
	int ret = vaccel_blob_init(b, path);
	if (ret) {
		free(b);
		return ret;
	}
	*blob = b;
	return VACCEL_OK;
}

int vaccel_blob_from_buf(struct vaccel_blob **blob, const uint8_t *buf,
			 size_t size, bool own, const char *filename,
			 const char *dir, bool randomize)
{
	if (!blob)
		return VACCEL_EINVAL;
	struct vaccel_blob *b = malloc(sizeof(*b));
	if (!b)
		return VACCEL_ENOMEM;
	int ret = vaccel_blob_init_from_buf(b, buf, size, own, filename, dir,
					    randomize);
	if (ret) {
		free(b);
		return ret;
	}
	*blob = b;
	return VACCEL_OK;
}

int vaccel_blob_delete(struct vaccel_blob *blob)
{
	int ret = vaccel_blob_release(blob);
	if (ret)
		return ret;
	free(blob);
	return VACCEL_OK;
}

int vaccel_blob_read(struct vaccel_blob *blob)
{
	if (!blob || (unsigned)blob->type >= VACCEL_BLOB_MAX)
		return VACCEL_EINVAL;
	if (blob->data)
		return VACCEL_OK;
	if (!blob->path)
		return VACCEL_EINVAL;
	int ret = _map(blob->path, &blob->data, &blob->size);
	if (ret)
		return ret;
	blob->type = VACCEL_BLOB_MAPPED;
	blob->data_owned = true;
	return VACCEL_OK;
}

uint8_t *vaccel_blob_data(struct vaccel_blob *blob, size_t *size)
{
	if (!blob || (unsigned)blob->type >= VACCEL_BLOB_MAX)
		return NULL;
	if ((!blob->data || !blob->size) && vaccel_blob_read(blob))
		return NULL;
	if (size)
		*size = blob->size;
	return blob->data;
}

const char *vaccel_blob_path(struct vaccel_blob *blob)
{
	if (!blob || !blob->path)
		return NULL;
	return blob->type == VACCEL_BLOB_FILE ||
			       blob->type == VACCEL_BLOB_MAPPED ?
		       blob->path :
		       NULL;
}

bool vaccel_blob_valid(const struct vaccel_blob *blob)
{
	return blob && (unsigned)blob->type < VACCEL_BLOB_MAX && blob->name &&
	       (blob->path || (blob->data && blob->size));
}
