// SPDX-License-Identifier: Apache-2.0
// Minimal intrusive doubly linked list used by the public structs.
// Callers provide their own locking.
#pragma once

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vaccel_list_entry {
	struct vaccel_list_entry *next;
	struct vaccel_list_entry *prev;
} vaccel_list_entry_t;

/* A list head is an entry that points at itself when empty. */
typedef vaccel_list_entry_t vaccel_list_t;

/* A static entry or head that points at itself (upstream's name, and ours). */
#define LIST_ENTRY_INIT(e) { &(e), &(e) }
#define VACCEL_LIST_ENTRY_INIT(e) LIST_ENTRY_INIT(e)

static inline void vaccel_list_init(vaccel_list_t *l)
{
	l->next = l;
	l->prev = l;
}

static inline bool vaccel_list_empty(const vaccel_list_t *l)
{
	return l->next == l;
}

static inline void vaccel_list_add_tail(vaccel_list_t *l,
					vaccel_list_entry_t *e)
{
	e->prev = l->prev;
	e->next = l;
	l->prev->next = e;
	l->prev = e;
}

static inline void vaccel_list_unlink(vaccel_list_entry_t *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->next = e;
	e->prev = e;
}

#define vaccel_list_container(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define vaccel_list_for_each(it, l) \
	for ((it) = (l)->next; (it) != (l); (it) = (it)->next)

#ifdef __cplusplus
}
#endif
