/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One validated request of one guest, served on the host runtime. Everything the guest
 * names is an index into this guest's own tables (sessions, resources), never a host id
 * or pointer; small inputs and every string the policy looks at are copied into private
 * memory first, so a guest cannot change them between the check and the use.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/agent/agent.h"
#include "runtime/agent/serve_ml.h"

#define SCRATCH 64u /* inputs up to this size are copied (scalars, handles) */
#define LOG_BURST 20u /* messages per guest per second before they are dropped */

/* Logs about a guest, at most LOG_BURST a second, so a guest cannot flood the log. */
static void _glog(struct guest *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void _glog(struct guest *g, const char *fmt, ...)
{
	struct timespec now;
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec != g->log_sec) {
		if (g->log_dropped)
			agent_log("guest %u: %u more messages dropped\n", g->id, g->log_dropped);
		g->log_sec = now.tv_sec;
		g->log_count = 0;
		g->log_dropped = 0;
	}
	if (g->log_count++ >= LOG_BURST) {
		g->log_dropped++;
		return;
	}
	fprintf(stderr, "vaccel-agent: guest %u: ", g->id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* A guest string made printable and short for the log (no forged lines). */
static const char *_printable(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	for (; *in && n + 1 < cap; in++)
		out[n++] = (*in >= 0x20 && *in < 0x7f) ? *in : '?';
	out[n] = 0;
	return out;
}

#define HEAVY_SGEMM_MNK (32ll * 32 * 32) /* bigger sgemms run on a worker */

/*
 * One request, private to the host from validation to completion: what its op reads
 * (small inputs copied here, never a buffer shared between requests), where it writes,
 * and the session and resource it bound. Inline requests live and die on the poller;
 * long ones travel to a worker and back (work.c) with everything they need.
 */
struct serve_call {
	struct work_item w; /* first: work.c queues it; w.g is the guest, w.q the queue pair */
	struct guest *g;
	const struct agent_opts *o;
	struct vtr_req rq;
	int heavy; /* prep decided: run on a worker */
	int ml;    /* an op in the tensor-records layout (serve_ml.c), not genop */
	int ran;   /* run() happened (a call dropped from a queue never runs) */
	int held;  /* busy counts of gs and r are taken */
	int32_t res;
	struct guest_sess *gs;    /* bound session slot, or NULL */
	struct vaccel_session *s; /* host session the op runs on (after routing) */
	struct guest_res *r;      /* bound resource, or NULL */
	int64_t op, res_id;
	int lib_fd;
	uint32_t nr_out;
	struct vaccel_arg read[1 + VTR_MAX_ARGS], write[VTR_MAX_ARGS];
	uint8_t scratch[VTR_MAX_ARGS][SCRATCH] __attribute__((aligned(8)));
	char lib[32];            /* "/proc/self/fd/N" of the library exec loads */
	char name[NAME_MAX + 1]; /* file name of a resource being registered */
};

/*
 * The ops: prep (poller) copies, binds and checks, and decides whether the call is long;
 * run (poller, or a worker for long calls) does the work; done (poller) does the
 * bookkeeping afterwards, also for a call that failed earlier or never ran, and gives
 * the final result.
 */
struct serve_op {
	int32_t (*prep)(struct serve_call *c);
	int32_t (*run)(struct serve_call *c);
	int32_t (*done)(struct serve_call *c, int32_t res);
};

/* vAccel's positive error codes become the completion's -errno. */
static int32_t _ret(int vaccel_ret)
{
	return vaccel_ret > 0 ? -vaccel_ret : vaccel_ret;
}

static void *_at(const struct guest *g, const struct vtr_arg *a)
{
	return (char *)g->base + a->off;
}

/* ---- binding: what a request names, resolved in this guest's own tables ---- */

static struct guest_res *_res_slot(struct guest *g, uint64_t h, uint32_t sess_slot)
{
	if (h == 0 || h > g->max_res || g->res[h - 1].used != 1 || g->res[h - 1].sess_slot != sess_slot)
		return NULL;
	return &g->res[h - 1];
}

/*
 * The session a request names, and the resource when its op names one (unregister: the
 * op word; exec_with_resource: its first input, already copied). -EINVAL if either is not
 * this guest's (or the resource not of that session).
 */
static int32_t _bind(struct serve_call *c)
{
	struct guest *g = c->g;
	uint32_t id = c->rq.sqe.sess_id;
	uint64_t h;

	if (id == 0 || id > g->max_sess || !g->sess[id - 1].used)
		return -EINVAL;
	c->gs = &g->sess[id - 1];
	c->s = &c->gs->sess;
	if (c->rq.sqe.opcode == VTR_OP_RES_UNREGISTER) {
		h = c->rq.sqe.op;
	} else if (c->rq.sqe.opcode == VTR_OP_VACCEL && c->op == VACCEL_OP_EXEC_WITH_RESOURCE) {
		if (c->rq.nr_in < 1 || c->rq.args[0].len != sizeof(h))
			return -EINVAL;
		memcpy(&h, c->scratch[0], sizeof(h));
	} else {
		return 0;
	}
	c->r = _res_slot(g, h, id);
	return c->r ? 0 : -EINVAL;
}

/* Registers r with every host session of gs (its own and those made by routing). */
static int _res_attach(struct guest_sess *gs, struct guest_res *r)
{
	int ret = vaccel_resource_register(&r->res, &gs->sess);

	for (uint32_t k = 0; k < AGENT_MAX_PLUGINS && !ret; k++)
		if (gs->alt[k])
			ret = vaccel_resource_register(&r->res, gs->alt[k]);
	return _ret(ret);
}

/* The one way a resource goes: out of every session of its guest session, then freed. */
static void _res_drop(struct guest *g, struct guest_res *r)
{
	struct guest_sess *gs = r->sess_slot ? &g->sess[r->sess_slot - 1] : NULL;

	if (gs && gs->used) {
		/* Unregistering from a session it never joined (a failed attach) is harmless. */
		vaccel_resource_unregister(&r->res, &gs->sess);
		for (uint32_t k = 0; k < AGENT_MAX_PLUGINS; k++)
			if (gs->alt[k])
				vaccel_resource_unregister(&r->res, gs->alt[k]);
	}
	vaccel_resource_release(&r->res);
	g->res_bytes -= r->bytes;
	memset(r, 0, sizeof(*r));
}

/* A session slot and everything in it: its resources, its routed sessions, itself. */
static int _sess_drop(struct guest *g, uint32_t slot, uint32_t *nres)
{
	struct guest_sess *gs = &g->sess[slot - 1];

	for (uint32_t i = 0; i < g->max_res; i++) {
		if (g->res[i].used == 1 && g->res[i].sess_slot == slot) {
			_res_drop(g, &g->res[i]);
			if (nres)
				(*nres)++;
		}
	}
	for (uint32_t k = 0; k < AGENT_MAX_PLUGINS; k++) {
		if (gs->alt[k]) {
			vaccel_session_release(gs->alt[k]);
			free(gs->alt[k]);
		}
	}
	int ret = vaccel_session_release(&gs->sess);
	memset(gs, 0, sizeof(*gs));
	return ret;
}

void guest_release_host_state(struct guest *g)
{
	uint32_t nres = 0, nsess = 0;

	for (uint32_t i = 0; i < g->max_sess; i++) {
		if (g->sess[i].used) {
			_sess_drop(g, i + 1, &nres);
			nsess++;
		}
	}
	g->res_bytes = 0;
	if (nres || nsess)
		agent_glog(g, "released %u session(s) and %u resource(s)\n", nsess, nres);
}

/*
 * Routing: the host session c's op runs on. The guest session's own when its plugin is
 * the route, else a session of the routed plugin, made on first use and given every
 * resource of the guest session. -ENOTSUP when no plugin implements the op.
 */
static int32_t _route(struct serve_call *c)
{
	struct vaccel_plugin *p = route_plugin(c->gs->sess.plugin, (uint32_t)c->op);
	int k = p ? route_plugin_index(p) : -1;
	struct guest *g = c->g;

	if (!p || k < 0)
		return -ENOTSUP;
	if (p == c->gs->sess.plugin)
		return 0;
	if (!c->gs->alt[k]) {
		struct vaccel_session *s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		int ret = vaccel_session_init_with_plugin(s, p, c->gs->sess.hint);
		if (ret) {
			free(s);
			return _ret(ret);
		}
		uint32_t slot = (uint32_t)(c->gs - g->sess) + 1;
		for (uint32_t i = 0; i < g->max_res && !ret; i++)
			if (g->res[i].used == 1 && g->res[i].sess_slot == slot)
				ret = vaccel_resource_register(&g->res[i].res, s);
		if (ret) {
			vaccel_session_release(s); /* unregisters what it got */
			free(s);
			return _ret(ret);
		}
		c->gs->alt[k] = s;
	}
	c->s = c->gs->alt[k];
	return 0;
}

/* ---- sessions ---- */

static int32_t _nop(struct serve_call *c)
{
	(void)c;
	return 0;
}

static int32_t _sess_init(struct serve_call *c)
{
	struct guest *g = c->g;

	for (uint32_t i = 0; i < g->max_sess; i++) {
		if (g->sess[i].used)
			continue;
		/* The host picks a local plugin: the guest's REMOTE bit means nothing here. */
		int ret = vaccel_session_init(&g->sess[i].sess, c->rq.sqe.op & ~(uint32_t)VACCEL_PLUGIN_REMOTE);
		if (ret)
			return _ret(ret);
		g->sess[i].used = 1;
		return (int32_t)(i + 1);
	}
	_glog(g, "session limit (%u) reached\n", g->max_sess);
	return -EMFILE;
}

static int32_t _sess_release(struct serve_call *c)
{
	if (c->gs->busy) {
		_glog(c->g, "session release refused: %u of its ops are still on the workers\n", c->gs->busy);
		return -EBUSY;
	}
	/* Its resources go with it: the guest could not name them any more. */
	return _ret(_sess_drop(c->g, c->rq.sqe.sess_id, NULL));
}

static int32_t _sess_update(struct serve_call *c)
{
	return _ret(vaccel_session_update(c->s, c->rq.sqe.op & ~(uint32_t)VACCEL_PLUGIN_REMOTE));
}

/* ---- resources ---- */

/* A file name from the guest, reduced to a plain name: no folders, no "." or "..". */
static int _file_name(const struct guest *g, const struct vtr_arg *a, char *out, size_t cap)
{
	if (a->len == 0 || a->len >= cap)
		return -EINVAL;
	memcpy(out, _at(g, a), a->len);
	out[a->len] = 0;
	if (!out[0] || strchr(out, '/') || !strcmp(out, ".") || !strcmp(out, ".."))
		return -EINVAL;
	return 0;
}

/* Checks and reserves a slot and the bytes; the copy itself (large) is run(), on a worker. */
static int32_t _res_prep(struct serve_call *c)
{
	struct guest *g = c->g;
	const struct vtr_req *rq = &c->rq;
	int32_t ret = _bind(c);

	if (ret)
		return ret;
	if (rq->sqe.op >= VACCEL_RESOURCE_MAX || rq->nr_in != 2 || rq->nr_args != 2)
		return rq->nr_in > 2 ? -ENOTSUP : -EINVAL; /* one file per resource for now */
	const struct vtr_arg *bytes = &rq->args[1];
	if (bytes->len > c->o->max_resource_bytes - g->res_bytes || g->res_bytes > c->o->max_resource_bytes) {
		_glog(g, "resource bytes limit (%llu) reached\n", (unsigned long long)c->o->max_resource_bytes);
		return -ENOSPC;
	}
	if (_file_name(g, &rq->args[0], c->name, sizeof(c->name)))
		return -EINVAL;
	for (uint32_t i = 0; i < g->max_res && !c->r; i++)
		if (!g->res[i].used)
			c->r = &g->res[i];
	if (!c->r) {
		_glog(g, "resource limit (%u) reached\n", g->max_res);
		return -EMFILE;
	}
	/* Reserved: no other request can take or name the slot until done(). */
	c->r->used = 2;
	c->r->bytes = bytes->len;
	c->r->sess_slot = rq->sqe.sess_id;
	g->res_bytes += bytes->len;
	c->heavy = 1;
	return 0;
}

static int32_t _res_run(struct serve_call *c)
{
	const struct vtr_arg *bytes = &c->rq.args[1];

	/* Shipped once; later calls name the resource by its handle. The runtime copies the
	 * bytes (file and memory); a guest that changes them meanwhile spoils only its own. */
	return _ret(vaccel_resource_init_from_buf(&c->r->res, _at(c->g, bytes), bytes->len,
						  (vaccel_resource_type_t)c->rq.sqe.op, c->name, false));
}

static int32_t _res_done(struct serve_call *c, int32_t res)
{
	struct guest_res *r = c->r;

	if (!r || r->used != 2)
		return res; /* failed before a slot was reserved */
	if (res == 0) {
		res = _res_attach(c->gs, r);
		if (res) {
			r->used = 1;
			_res_drop(c->g, r);
			return res;
		}
		r->used = 1;
		r->from_guest_lib = c->rq.sqe.op == VACCEL_RESOURCE_LIB;
		return (int32_t)(r - c->g->res + 1);
	}
	/* Not run, refused, or its init failed (and undid itself): only the slot to free. */
	c->g->res_bytes -= r->bytes;
	memset(r, 0, sizeof(*r));
	return res;
}

static int32_t _res_unregister(struct serve_call *c)
{
	if (c->r->busy) {
		_glog(c->g, "resource unregister refused: %u ops using it are on the workers\n", c->r->busy);
		return -EBUSY;
	}
	_res_drop(c->g, c->r);
	return 0;
}

/* ---- vAccel ops ---- */

/* 1 if real (a resolved path) is an allowed library or lies under an allowed folder. */
static int _path_allowed(const struct agent_opts *o, const char *real)
{
	char allow[PATH_MAX];
	const char *p = o->exec_allow;

	while (p && *p) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char entry[PATH_MAX];

		if (n > 0 && n < sizeof(entry)) {
			memcpy(entry, p, n);
			entry[n] = 0;
			if (realpath(entry, allow)) {
				size_t an = strlen(allow);
				if (!strcmp(real, allow) ||
				    (!strncmp(real, allow, an) && real[an] == '/'))
					return 1;
			}
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/*
 * Opens the library a guest named for vaccel_exec if the operator allowed it. The check is
 * made on the file actually opened (its /proc/self/fd link), and that open file is what
 * gets loaded, so swapping a symlink between check and load achieves nothing.
 * Returns the fd (the caller closes it) or -EPERM / -ENOENT.
 */
static int _exec_open(const struct agent_opts *o, const char *path)
{
	char link[64], real[PATH_MAX];
	ssize_t n;
	int fd;

	struct stat st;

	if (!o->exec_allow || path[0] != '/')
		return -EPERM; /* relative names would follow dlopen's own search */
	/* O_PATH never blocks (a FIFO or device would hang the poller on a plain open) and
	 * reads nothing; only a regular file under the allow-list is ever opened for real. */
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EPERM;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real) - 1);
	if (n <= 0 || n >= (ssize_t)sizeof(real) - 1) {
		close(fd);
		return -EPERM;
	}
	real[n] = 0;
	if (!_path_allowed(o, real)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* Input i (a copied scalar of 1, 2, 4 or 8 bytes) as an integer; -EINVAL otherwise. */
static int _scalar(const struct serve_call *c, uint32_t i, long long *out)
{
	uint64_t len = i < c->rq.nr_in ? c->rq.args[i].len : 0;
	int64_t v8;
	int32_t v4;
	int16_t v2;
	int8_t v1;

	switch (len) {
	case 1: memcpy(&v1, c->scratch[i], 1); *out = v1; return 0;
	case 2: memcpy(&v2, c->scratch[i], 2); *out = v2; return 0;
	case 4: memcpy(&v4, c->scratch[i], 4); *out = v4; return 0;
	case 8: memcpy(&v8, c->scratch[i], 8); *out = v8; return 0;
	default: return -EINVAL;
	}
}

/* Long ops go to the workers: everything but noop and a small sgemm (decided on the
 * private copies of its sizes, so a guest cannot pass a big one off as small). The ML ops
 * (model loads and runs of torch, TF and TFLite, torch sgemm) and the image ops are long. */
static int _is_heavy(const struct serve_call *c)
{
	long long m, n, k, mn, mnk;

	if (c->ml)
		return 1;
	if (c->op == VACCEL_OP_NOOP)
		return 0;
	if (c->op != VACCEL_OP_BLAS_SGEMM)
		return 1;
	if (_scalar(c, 0, &m) || _scalar(c, 1, &n) || _scalar(c, 2, &k))
		return 0; /* malformed: the runtime refuses it at once */
	if (m < 0 || n < 0 || k < 0 || __builtin_mul_overflow(m, n, &mn) || __builtin_mul_overflow(mn, k, &mnk))
		return 1;
	return mnk > HEAVY_SGEMM_MNK;
}

/* The library a guest named for vaccel_exec, if the policy allows it: c->lib_fd. */
static int32_t _exec_check(struct serve_call *c)
{
	const struct vtr_arg *a = &c->rq.args[0];
	char lib[PATH_MAX];

	/* The path the policy checks is the path that gets loaded: a private copy. */
	if (a->len == 0 || a->len >= sizeof(lib))
		return -EINVAL;
	memcpy(lib, _at(c->g, a), a->len);
	lib[a->len] = 0;
	c->lib_fd = _exec_open(c->o, lib);
	if (c->lib_fd < 0) {
		char shown[128];
		int err = c->lib_fd;
		_glog(c->g, "vaccel_exec of '%s' refused: %s\n", _printable(lib, shown, sizeof(shown)),
		      err == -ENOENT ? "no such file" : "not under --exec-allow");
		return err == -ENOENT ? -ENOENT : -EPERM;
	}
	snprintf(c->lib, sizeof(c->lib), "/proc/self/fd/%d", c->lib_fd);
	c->read[1].buf = c->lib;
	c->read[1].size = strlen(c->lib) + 1;
	return 0;
}

/*
 * An ML op: session and route as for genop; the model its first argument names (every one
 * but torch sgemm) is bound here on the poller, so that the worker running it never reads
 * the guest's resource table and the resource stays while it runs (busy count).
 */
static int32_t _ml_prep(struct serve_call *c)
{
	int32_t ret = _bind(c);

	if (!ret)
		ret = _route(c);
	if (ret)
		return ret;
	if (serve_ml_uses_model(c->op)) {
		uint64_t h;

		if (c->rq.nr_args < 1 || c->rq.args[0].len != sizeof(h))
			return -EINVAL;
		memcpy(&h, _at(c->g, &c->rq.args[0]), sizeof(h)); /* read once: a private copy */
		c->r = _res_slot(c->g, h, c->rq.sqe.sess_id);
		if (!c->r)
			return -EINVAL;
	}
	c->heavy = _is_heavy(c);
	return 0;
}

static int32_t _vaccel_prep(struct serve_call *c)
{
	const struct vtr_req *rq = &c->rq;
	int32_t ret;

	c->op = rq->sqe.op;
	if (c->op < 0 || c->op >= VACCEL_OP_MAX)
		return -ENOTSUP;
	c->ml = serve_ml_handles(c->op);
	if (c->ml)
		return _ml_prep(c);
	c->nr_out = rq->nr_args - rq->nr_in;
	c->read[0] = (struct vaccel_arg){.buf = &c->op, .size = sizeof(c->op)};
	for (uint32_t i = 0; i < rq->nr_in; i++) {
		const struct vtr_arg *a = &rq->args[i];
		struct vaccel_arg *v = &c->read[1 + i];

		*v = (struct vaccel_arg){.size = a->len, .type = (vaccel_arg_type_t)a->type};
		if (a->len <= SCRATCH) {
			/* The whole slot is this request's: its bytes, then zeros (a 0-byte input
			 * points at zeros), never what an earlier request left. */
			memcpy(c->scratch[i], _at(c->g, a), a->len);
			memset(c->scratch[i] + a->len, 0, SCRATCH - a->len);
			v->buf = c->scratch[i];
		} else {
			v->buf = _at(c->g, a);
		}
	}
	for (uint32_t i = 0; i < c->nr_out; i++) {
		const struct vtr_arg *a = &rq->args[rq->nr_in + i];
		c->write[i] = (struct vaccel_arg){.buf = _at(c->g, a), .size = a->len,
						  .type = (vaccel_arg_type_t)a->type};
	}
	ret = _bind(c);
	if (!ret)
		ret = _route(c);
	if (ret)
		return ret;
	if (c->op == VACCEL_OP_EXEC && rq->nr_in >= 1) {
		ret = _exec_check(c);
		if (ret)
			return ret;
	} else if (c->op == VACCEL_OP_EXEC_WITH_RESOURCE) {
		if (c->r->from_guest_lib && !c->o->allow_guest_code) {
			_glog(c->g, "exec_with_resource of a library shipped by the guest refused: "
				    "start vaccel-agent with --allow-guest-code to permit it\n");
			return -EPERM;
		}
		c->res_id = c->r->res.id;
		c->read[1].buf = &c->res_id;
		c->read[1].size = sizeof(c->res_id);
	}
	c->heavy = _is_heavy(c);
	return 0;
}

static int32_t _vaccel_run(struct serve_call *c)
{
	if (c->ml) /* tensor records, not genop */
		return serve_ml(c->g, c->s, &c->rq, c->r ? &c->r->res : NULL);
	return _ret(vaccel_genop(c->s, c->read, (int)(1 + c->rq.nr_in), c->nr_out ? c->write : NULL,
				 (int)c->nr_out));
}

static int32_t _vaccel_done(struct serve_call *c, int32_t res)
{
	if (c->lib_fd >= 0)
		close(c->lib_fd);
	return res;
}

/* ---- dispatch ---- */

static const struct serve_op serve_ops[] = {
	[VTR_OP_NOP] = {.run = _nop},
	[VTR_OP_SESS_INIT] = {.run = _sess_init},
	[VTR_OP_SESS_RELEASE] = {.prep = _bind, .run = _sess_release},
	[VTR_OP_SESS_UPDATE] = {.prep = _bind, .run = _sess_update},
	[VTR_OP_RES_REGISTER] = {.prep = _res_prep, .run = _res_run, .done = _res_done},
	[VTR_OP_RES_UNREGISTER] = {.prep = _bind, .run = _res_unregister},
	[VTR_OP_VACCEL] = {.prep = _vaccel_prep, .run = _vaccel_run, .done = _vaccel_done},
};
/* A new opcode (appended before VTR_OP_MAX) must get its entry here. */
_Static_assert(sizeof(serve_ops) / sizeof(serve_ops[0]) == VTR_OP_MAX,
	       "serve_ops: one entry per enum vtr_opcode");

/* Busy counts keep a session and a resource alive while a worker uses them. */
static void _hold(struct serve_call *c, int take)
{
	if (c->held == take)
		return;
	c->held = take;
	if (c->gs)
		c->gs->busy += take ? 1u : (uint32_t)-1;
	if (c->r)
		c->r->busy += take ? 1u : (uint32_t)-1;
}

static int32_t _run(struct serve_call *c)
{
	c->res = serve_ops[c->rq.sqe.opcode].run(c);
	c->ran = 1;
	return c->res;
}

void serve_run(struct work_item *w)
{
	_run((struct serve_call *)w);
}

/* After run (or a failure, or never running): bookkeeping, statistics, the call freed. */
static int32_t _finish(struct serve_call *c, int32_t res)
{
	const struct serve_op *t = &serve_ops[c->rq.sqe.opcode];

	_hold(c, 0);
	if (t->done)
		res = t->done(c, res);
	c->g->stats.errors += res < 0;
	free(c);
	return res;
}

int32_t serve_finish(struct work_item *w, uint64_t *user_data)
{
	struct serve_call *c = (struct serve_call *)w;

	*user_data = c->rq.sqe.user_data;
	return _finish(c, c->ran ? c->res : -ECANCELED);
}

/*
 * vaccel_noop without arguments, what asynchronous batches are made of: the session is all
 * there is to check, so the validator's copy and the generic op path are skipped (unless
 * the noop is routed to another plugin). Results and counters are the generic path's.
 */
static int _noop_fast(struct guest *g, uint32_t sess_id, int32_t *res)
{
	struct guest_sess *gs = sess_id && sess_id <= g->max_sess && g->sess[sess_id - 1].used
					? &g->sess[sess_id - 1] : NULL;
	struct vaccel_session *s = gs ? &gs->sess : NULL;

	if (gs) {
		struct vaccel_plugin *p = route_plugin(s->plugin, VACCEL_OP_NOOP);
		int k = p && p != s->plugin ? route_plugin_index(p) : -1;
		if (k >= 0)
			s = gs->alt[k]; /* made by the generic path on first use */
		if (!s || !p)
			return 0;
	}
	*res = s ? _ret(vaccel_noop(s)) : -EINVAL;
	g->stats.requests++;
	g->stats.errors += *res < 0;
	return 1;
}

int32_t serve_request(struct guest *g, const struct agent_opts *o, const struct vtr_sqe *sqe, uint32_t q)
{
	struct serve_call *c;
	enum vtr_bad bad;
	int32_t res;

	/* sqe is already the poller's private copy: what is checked here is what is served. */
	if (sqe->opcode == VTR_OP_VACCEL && sqe->op == VACCEL_OP_NOOP && sqe->nr_args == 0 &&
	    _noop_fast(g, sqe->sess_id, &res))
		return res;
	c = malloc(sizeof(*c));
	g->stats.requests++;
	if (!c) {
		g->stats.errors++;
		return -ENOMEM;
	}
	bad = vtr_req_validate(sqe, g->base, &g->ranges, &c->rq);
	if (bad != VTR_REQ_OK) {
		g->stats.bad[bad]++;
		g->stats.errors++;
		agent_dbg("guest %u: request refused: %s\n", g->id, vtr_bad_str(bad));
		free(c);
		return vtr_bad_errno(bad);
	}
	c->w = (struct work_item){.g = g, .q = q};
	c->g = g;
	c->o = o;
	c->heavy = c->ml = c->ran = c->held = 0;
	c->gs = NULL;
	c->s = NULL;
	c->r = NULL;
	c->lib_fd = -1;
	const struct serve_op *t = &serve_ops[c->rq.sqe.opcode];
	res = t->prep ? t->prep(c) : 0;
	if (res == 0 && c->heavy) {
		/* Its kind, for the time it is expected to take (work.c): the request's
		 * opcode, the vAccel op and the resource it names (a model, a library). */
		c->w.kind = (uint64_t)c->rq.sqe.opcode << 48 | (uint64_t)(c->rq.sqe.op & 0xffff) << 32 |
			    (c->r ? (uint32_t)c->r->res.id : 0);
		_hold(c, 1);
		res = work_submit(&c->w);
		if (res == 0)
			return SERVE_QUEUED;
		_glog(g, "%u ops already queued or running on the workers (--max-queued): "
			 "request refused with EAGAIN\n", o->max_queued);
	} else if (res == 0) {
		res = _run(c);
	}
	return _finish(c, res);
}
