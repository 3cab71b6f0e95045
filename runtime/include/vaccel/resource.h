// SPDX-License-Identifier: Apache-2.0
// Resources: files (a library, data or a model) that sessions use.
// A resource must be registered with a session before an op may use it.
#pragma once

#include "blob.h"
#include "id.h"
#include "list.h"
#include "utils/enum.h"
#include "utils/path.h"
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The refcount is atomic_uint as in upstream's layout; C++ sees the same
 * object as std::atomic<unsigned int>. */
#ifdef __cplusplus
/* C++ linkage even when a program includes us inside extern "C" */
extern "C++" {
#include <atomic>
}
#ifndef atomic_uint
typedef std::atomic<unsigned int> atomic_uint;
#endif
#else
#include <stdatomic.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define _ENUM_PREFIX VACCEL_RESOURCE
#define VACCEL_RESOURCE_TYPE_ENUM_LIST(VACCEL_ENUM_ITEM) \
	VACCEL_ENUM_ITEM(LIB, 0, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(DATA, _ENUM_PREFIX) \
	VACCEL_ENUM_ITEM(MODEL, _ENUM_PREFIX)

VACCEL_ENUM_DEF_WITH_STR_FUNCS(vaccel_resource_type, _ENUM_PREFIX,
			       VACCEL_RESOURCE_TYPE_ENUM_LIST)
#undef _ENUM_PREFIX

struct vaccel_resource {
	vaccel_id_t id;
	/* id given by the remote side (transport plugins), else 0 */
	vaccel_id_t remote_id;
	vaccel_resource_type_t type;
	/* what paths name */
	vaccel_path_type_t path_type;
	/* file paths; empty for memory-only resources */
	char **paths;
	size_t nr_paths;
	/* directory holding files written from a buffer, or NULL */
	char *rundir;
	struct vaccel_blob **blobs;
	size_t nr_blobs;
	/* entry in the runtime's list of live resources */
	struct vaccel_list_entry entry;
	/* the registrations of this resource, one per session */
	struct vaccel_list_entry sessions;
	pthread_mutex_t sessions_lock;
	/* number of sessions the resource is registered with */
	atomic_uint refcount;
	/* plugin private data */
	void *plugin_priv;
};

int vaccel_resource_get_by_id(struct vaccel_resource **res, vaccel_id_t id);
int vaccel_resource_get_by_type(struct vaccel_resource **res,
				vaccel_resource_type_t type);
/* Every live resource of type: a malloc'ed array the caller frees.
 * VACCEL_ENOENT when there is none. */
int vaccel_resource_get_all_by_type(struct vaccel_resource ***res,
				    size_t *nr_found,
				    vaccel_resource_type_t type);
long int vaccel_resource_refcount(const struct vaccel_resource *res);

/* path: a file or a directory (its regular files become the blobs), with
 * or without a "file://" prefix; VACCEL_EINVAL if it is neither. */
int vaccel_resource_init(struct vaccel_resource *res, const char *path,
			 vaccel_resource_type_t type);
int vaccel_resource_init_multi(struct vaccel_resource *res, const char **paths,
			       size_t nr_paths, vaccel_resource_type_t type);
/* mem_only: keep the bytes in memory only; otherwise they are also written
 * to a file named filename in a private run directory. */
int vaccel_resource_init_from_buf(struct vaccel_resource *res, const void *buf,
				  size_t nr_bytes, vaccel_resource_type_t type,
				  const char *filename, bool mem_only);
/* Unregisters the resource from every session it is registered with, then
 * frees what it holds. VACCEL_EINVAL if not initialized (or released). */
/* A resource made of copies of blobs (FILE blobs by path, others by
 * contents). */
int vaccel_resource_init_from_blobs(struct vaccel_resource *res,
				    const struct vaccel_blob **blobs,
				    size_t nr_blobs,
				    vaccel_resource_type_t type);
int vaccel_resource_release(struct vaccel_resource *res);
int vaccel_resource_new(struct vaccel_resource **res, const char *path,
			vaccel_resource_type_t type);
int vaccel_resource_multi_new(struct vaccel_resource **res, const char **paths,
			      size_t nr_paths, vaccel_resource_type_t type);
int vaccel_resource_from_buf(struct vaccel_resource **res, const void *buf,
			     size_t nr_bytes, vaccel_resource_type_t type,
			     const char *filename, bool mem_only);
int vaccel_resource_from_blobs(struct vaccel_resource **res,
			       const struct vaccel_blob **blobs,
			       size_t nr_blobs, vaccel_resource_type_t type);
int vaccel_resource_delete(struct vaccel_resource *res);

struct vaccel_session;

/* Registering again with the same session is a no-op (VACCEL_OK). */
int vaccel_resource_register(struct vaccel_resource *res,
			     struct vaccel_session *sess);
/* VACCEL_EINVAL if not registered with sess. */
int vaccel_resource_unregister(struct vaccel_resource *res,
			       struct vaccel_session *sess);
int vaccel_resource_sync(struct vaccel_resource *res,
			 struct vaccel_session *sess);
/* The directory of the resource's files: copied into out_path (size
 * bytes) or, when out_path is NULL, malloc'ed into *alloc_path. */
int vaccel_resource_directory(struct vaccel_resource *res, char *out_path,
			      size_t out_path_size, char **alloc_path);

#ifdef __cplusplus
}
#endif
