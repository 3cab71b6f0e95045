/* SPDX-License-Identifier: Apache-2.0 */
/* The main thread's table of clients (guests with a socket, and ivshmem-plain regions). */
#include <errno.h>

#include "runtime/agent/agent.h"

int clients_next_id(struct agent_clients *t)
{
	for (int tries = 0; tries < 65535; tries++) {
		uint16_t id = t->next_id;
		int used = 0;

		t->next_id = t->next_id >= 65535 ? 1 : t->next_id + 1;
		for (size_t i = 0; i < t->n && !used; i++)
			used = t->cl[i].g->id == id;
		if (!used)
			return id;
	}
	return -ENOSPC;
}

int clients_add(struct agent_clients *t, struct guest *g)
{
	if (t->n == AGENT_MAX_CLIENTS)
		return -ENOSPC;
	t->cl[t->n++] = (struct agent_client){.sock = g->sock, .g = g};
	return 0;
}

void clients_del(struct agent_clients *t, size_t i)
{
	t->cl[i] = t->cl[--t->n];
}
