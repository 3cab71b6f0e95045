/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which host plugin serves an op. A guest session is bound to one plugin (the one its flags
 * select), but each of its ops goes to a plugin that implements it: an operator's
 * --route OP=PLUGIN first, then the session's own plugin, then the other plugins in
 * --plugins order. The table is built once, before any poller starts, and only read after.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "runtime/agent/agent.h"

static struct vaccel_plugin *route_forced[VACCEL_OP_MAX]; /* --route, NULL none */
static struct vaccel_plugin *route_first[VACCEL_OP_MAX];  /* first in load order with it */
static struct vaccel_plugin *route_loaded[AGENT_MAX_PLUGINS]; /* load order, fixed at start */
static int route_nr;

/* Upstream's op name in lower case: "exec", "blas_sgemm". */
static void _op_name(uint32_t op, char *out, size_t cap)
{
	const char *s = vaccel_op_type_to_base_str((vaccel_op_type_t)op);
	size_t n = 0;

	for (; *s && n + 1 < cap; s++)
		out[n++] = (char)tolower((unsigned char)*s);
	out[n] = 0;
}

static int _op_by_name(const char *name, size_t len)
{
	char buf[64];

	for (uint32_t op = 0; op < VACCEL_OP_MAX; op++) {
		_op_name(op, buf, sizeof(buf));
		if (strlen(buf) == len && !strncasecmp(buf, name, len))
			return (int)op;
	}
	return -1;
}

static struct vaccel_plugin *_plugin_by_name(const char *name)
{
	for (int i = 0; i < route_nr; i++)
		if (route_loaded[i]->info->name && !strcmp(route_loaded[i]->info->name, name))
			return route_loaded[i];
	return NULL;
}

int route_init(const struct agent_opts *o)
{
	/* The plugins are all loaded by now and stay so: the table is read without locks. */
	for (size_t i = 0; i < vaccel_plugin_count(); i++) {
		struct vaccel_plugin *p = vaccel_plugin_at(i);
		if (!p || p->info->is_virtio)
			continue;
		if (route_nr == (int)AGENT_MAX_PLUGINS) {
			agent_log("more than %u host plugins: the others are not used\n", AGENT_MAX_PLUGINS);
			break;
		}
		route_loaded[route_nr++] = p;
		for (uint32_t op = 0; op < VACCEL_OP_MAX; op++)
			if (p->ops[op] && !route_first[op])
				route_first[op] = p;
	}
	for (int i = 0; i < o->nr_routes; i++) {
		const char *spec = o->routes[i], *eq = strchr(spec, '=');
		int op = eq ? _op_by_name(spec, (size_t)(eq - spec)) : -1;
		struct vaccel_plugin *p = eq ? _plugin_by_name(eq + 1) : NULL;

		if (op < 0) {
			agent_log("--route '%s': no such op (want OP=PLUGIN, OP as in `vaccel-agent "
				  "stat`, e.g. exec or blas_sgemm)\n", spec);
			return -EINVAL;
		}
		if (!p) {
			agent_log("--route '%s': no loaded plugin is called '%s'\n", spec, eq + 1);
			return -EINVAL;
		}
		if (!p->ops[op]) {
			char name[64];
			_op_name((uint32_t)op, name, sizeof(name));
			agent_log("--route '%s': plugin %s does not implement %s\n", spec, eq + 1, name);
			return -EINVAL;
		}
		route_forced[op] = p;
	}
	return 0;
}

struct vaccel_plugin *route_plugin(struct vaccel_plugin *own, uint32_t op)
{
	if (op >= VACCEL_OP_MAX)
		return NULL;
	if (route_forced[op])
		return route_forced[op];
	if (own && own->ops[op])
		return own;
	return route_first[op];
}

int route_plugin_index(const struct vaccel_plugin *p)
{
	for (int i = 0; i < route_nr; i++)
		if (route_loaded[i] == p)
			return i;
	return -1;
}

/* One line per op some plugin implements: where a session of any plugin sends it. */
void route_stat(FILE *f)
{
	char name[64];

	fprintf(f, "routes (a session's own plugin first unless forced, then --plugins order):\n");
	for (uint32_t op = 0; op < VACCEL_OP_MAX; op++) {
		int any = 0;

		_op_name(op, name, sizeof(name));
		if (route_forced[op]) {
			fprintf(f, "  route %s -> %s (forced by --route)\n", name,
				route_forced[op]->info->name);
			continue;
		}
		for (int i = 0; i < route_nr; i++) {
			struct vaccel_plugin *p = route_loaded[i];
			if (!p->ops[op])
				continue;
			if (!any)
				fprintf(f, "  route %s -> %s", name, p->info->name);
			else
				fprintf(f, ",%s", p->info->name);
			any = 1;
		}
		if (any)
			fprintf(f, "\n");
	}
}
