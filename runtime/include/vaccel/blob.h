// SPDX-License-Identifier: Apache-2.0
// Blobs: one file of a resource, on disk (FILE), in memory (BUFFER) or in
// memory mapped from a file (MAPPED).
#pragma once

#include "utils/enum.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define _ENUM_PREFIX VACCEL_BLOB
#define VACCEL_BLOB_TYPE_ENUM_LIST(VACCEL_ENUM_ITEM) \
	VACCEL_ENUM_ITEM(FILE, 0, _ENUM_PREFIX)      \
	VACCEL_ENUM_ITEM(BUFFER, _ENUM_PREFIX)       \
	VACCEL_ENUM_ITEM(MAPPED, _ENUM_PREFIX)

VACCEL_ENUM_DEF_WITH_STR_FUNCS(vaccel_blob_type, _ENUM_PREFIX,
			       VACCEL_BLOB_TYPE_ENUM_LIST)
#undef _ENUM_PREFIX

struct vaccel_resource;

struct vaccel_blob {
	vaccel_blob_type_t type;
	/* file name (no directory) */
	char *name;
	/* file path; NULL for a BUFFER blob never written to disk */
	char *path;
	/* path was allocated by the API (and, with data_owned, the file
	 * was written by it) */
	bool path_owned;
	/* contents: set for BUFFER and MAPPED blobs, or after _read() */
	uint8_t *data;
	/* data was allocated (or mapped) by the API */
	bool data_owned;
	size_t size;
};

/* Write a BUFFER blob's bytes to dir/filename (with a random suffix when
 * randomize) and make it a FILE blob that owns the file. */
int vaccel_blob_persist(struct vaccel_blob *blob, const char *dir,
			const char *filename, bool randomize);
/* A FILE blob for an existing regular file (VACCEL_ENOENT, VACCEL_EINVAL). */
int vaccel_blob_init(struct vaccel_blob *blob, const char *path);
/* A blob from size bytes of buf: kept in memory (own: copied; else
 * borrowed) when dir is NULL, else written to dir/filename. */
int vaccel_blob_init_from_buf(struct vaccel_blob *blob, const uint8_t *buf,
			      size_t size, bool own, const char *filename,
			      const char *dir, bool randomize);
int vaccel_blob_release(struct vaccel_blob *blob);
int vaccel_blob_new(struct vaccel_blob **blob, const char *path);
int vaccel_blob_from_buf(struct vaccel_blob **blob, const uint8_t *buf,
			 size_t size, bool own, const char *filename,
			 const char *dir, bool randomize);
int vaccel_blob_delete(struct vaccel_blob *blob);
/* Map a FILE blob's contents into memory (it becomes MAPPED). */
int vaccel_blob_read(struct vaccel_blob *blob);
/* The blob's bytes (mapping a FILE blob first), or NULL. */
uint8_t *vaccel_blob_data(struct vaccel_blob *blob, size_t *size);
const char *vaccel_blob_path(struct vaccel_blob *blob);
bool vaccel_blob_valid(const struct vaccel_blob *blob);

#ifdef __cplusplus
}
#endif
