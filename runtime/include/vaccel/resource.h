// SPDX-License-Identifier: Apache-2.0
// Resources: files (a library, data or a model) that sessions use.
// A resource must be registered with a session before an op may use it.
#pragma once

#include "id.h"
#include "list.h"
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vaccel_resource_type {
	VACCEL_RESOURCE_LIB = 0,
	VACCEL_RESOURCE_DATA,
	VACCEL_RESOURCE_MODEL,
	VACCEL_RESOURCE_MAX
} vaccel_resource_type_t;

const char *vaccel_resource_type_to_str(vaccel_resource_type_t type);

/* One file of a resource. data is set for resources made from a buffer
 * (path is NULL when the resource is memory-only). */
struct vaccel_blob {
	char *name;
	char *path;
	uint8_t *data;
	size_t size;
};

struct vaccel_resource {
	vaccel_id_t id;
	/* id given by the remote side (transport plugins), else 0 */
	vaccel_id_t remote_id;
	vaccel_resource_type_t type;
	/* file paths; empty for memory-only resources */
	char **paths;
	size_t nr_paths;
	/* directory holding files written from a buffer, or NULL */
	char *rundir;
	struct vaccel_blob **blobs;
	size_t nr_blobs;
	/* entry in the runtime's list of live resources */
	vaccel_list_entry_t entry;
	/* number of sessions the resource is registered with; read it with
	 * vaccel_resource_refcount() (updated atomically) */
	unsigned int refcount;
	/* plugin private data */
	void *plugin_priv;
};

int vaccel_resource_get_by_id(struct vaccel_resource **res, vaccel_id_t id);
int vaccel_resource_get_by_type(struct vaccel_resource **res,
				vaccel_resource_type_t type);
long int vaccel_resource_refcount(const struct vaccel_resource *res);

/* VACCEL_ENOENT if the file does not exist. */
int vaccel_resource_init(struct vaccel_resource *res, const char *path,
			 vaccel_resource_type_t type);
int vaccel_resource_init_multi(struct vaccel_resource *res, const char **paths,
			       size_t nr_paths, vaccel_resource_type_t type);
/* mem_only: keep the bytes in memory only; otherwise they are also written
 * to a file named filename in a private run directory. */
int vaccel_resource_init_from_buf(struct vaccel_resource *res, const void *buf,
				  size_t nr_bytes, vaccel_resource_type_t type,
				  const char *filename, bool mem_only);
/* VACCEL_EBUSY while still registered with a session. */
int vaccel_resource_release(struct vaccel_resource *res);
int vaccel_resource_new(struct vaccel_resource **res, const char *path,
			vaccel_resource_type_t type);
int vaccel_resource_multi_new(struct vaccel_resource **res, const char **paths,
			      size_t nr_paths, vaccel_resource_type_t type);
int vaccel_resource_from_buf(struct vaccel_resource **res, const void *buf,
			     size_t nr_bytes, vaccel_resource_type_t type,
			     const char *filename, bool mem_only);
int vaccel_resource_delete(struct vaccel_resource *res);

struct vaccel_session;

/* VACCEL_EEXIST if already registered with sess. */
int vaccel_resource_register(struct vaccel_resource *res,
			     struct vaccel_session *sess);
/* VACCEL_EPERM if not registered with sess. */
int vaccel_resource_unregister(struct vaccel_resource *res,
			       struct vaccel_session *sess);
int vaccel_resource_sync(struct vaccel_resource *res,
			 struct vaccel_session *sess);

#ifdef __cplusplus
}
#endif
