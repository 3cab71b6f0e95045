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

static void *_at(const struct guest *g, const struct vtr_arg *a)
{
	return (char *)g->base + a->off;
}

static struct vaccel_session *_sess(struct guest *g, uint32_t id)
{
	if (id == 0 || id > g->max_sess || !g->sess[id - 1].used)
		return NULL;
	return &g->sess[id - 1].sess;
}

/* vAccel's positive error codes become the completion's -errno. */
static int32_t _ret(int vaccel_ret)
{
	return vaccel_ret > 0 ? -vaccel_ret : vaccel_ret;
}

static int32_t _sess_init(struct guest *g, const struct vtr_req *rq)
{
	for (uint32_t i = 0; i < g->max_sess; i++) {
		if (g->sess[i].used)
			continue;
		/* The host picks a local plugin: the guest's REMOTE bit means nothing here. */
		int ret = vaccel_session_init(&g->sess[i].sess, rq->sqe.op & ~(uint32_t)VACCEL_PLUGIN_REMOTE);
		if (ret)
			return _ret(ret);
		g->sess[i].used = 1;
		return (int32_t)(i + 1);
	}
	_glog(g, "session limit (%u) reached\n", g->max_sess);
	return -EMFILE;
}

static int32_t _sess_release(struct guest *g, const struct vtr_req *rq)
{
	struct vaccel_session *s = _sess(g, rq->sqe.sess_id);

	if (!s)
		return -EINVAL;
	/* Its resources go with it: the guest could not name them any more. */
	for (uint32_t i = 0; i < g->max_res; i++) {
		struct guest_res *r = &g->res[i];
		if (r->used && r->sess_slot == rq->sqe.sess_id) {
			vaccel_resource_unregister(&r->res, s);
			vaccel_resource_release(&r->res);
			g->res_bytes -= r->bytes;
			memset(r, 0, sizeof(*r));
		}
	}
	int ret = vaccel_session_release(s);
	g->sess[rq->sqe.sess_id - 1].used = 0;
	return _ret(ret);
}

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

static int32_t _res_register(struct guest *g, const struct agent_opts *o, const struct vtr_req *rq)
{
	struct vaccel_session *s = _sess(g, rq->sqe.sess_id);
	uint32_t type = rq->sqe.op;
	char name[NAME_MAX + 1];
	struct guest_res *r = NULL;
	int ret;

	if (!s)
		return -EINVAL;
	if (type >= VACCEL_RESOURCE_MAX || rq->nr_in != 2 || rq->nr_args != 2)
		return rq->nr_in > 2 ? -ENOTSUP : -EINVAL; /* one file per resource for now */
	const struct vtr_arg *fname = &rq->args[0], *bytes = &rq->args[1];
	if (bytes->len > o->max_resource_bytes - g->res_bytes || g->res_bytes > o->max_resource_bytes) {
		_glog(g, "resource bytes limit (%llu) reached\n", (unsigned long long)o->max_resource_bytes);
		return -ENOSPC;
	}
	if (_file_name(g, fname, name, sizeof(name)))
		return -EINVAL;
	for (uint32_t i = 0; i < g->max_res && !r; i++)
		if (!g->res[i].used)
			r = &g->res[i];
	if (!r) {
		_glog(g, "resource limit (%u) reached\n", g->max_res);
		return -EMFILE;
	}
	/* Shipped once; later calls name the resource by its handle. The runtime copies the
	 * bytes (file and memory); a guest that changes them meanwhile spoils only its own. */
	ret = vaccel_resource_init_from_buf(&r->res, _at(g, bytes), bytes->len,
					    (vaccel_resource_type_t)type, name, false);
	if (ret)
		return _ret(ret);
	ret = vaccel_resource_register(&r->res, s);
	if (ret) {
		vaccel_resource_release(&r->res);
		return _ret(ret);
	}
	r->used = 1;
	r->bytes = bytes->len;
	r->from_guest_lib = type == VACCEL_RESOURCE_LIB;
	r->sess_slot = rq->sqe.sess_id;
	g->res_bytes += bytes->len;
	return (int32_t)(r - g->res + 1);
}

static int32_t _res_unregister(struct guest *g, const struct vtr_req *rq)
{
	struct vaccel_session *s = _sess(g, rq->sqe.sess_id);
	uint32_t h = rq->sqe.op;

	if (!s || h == 0 || h > g->max_res || !g->res[h - 1].used || g->res[h - 1].sess_slot != rq->sqe.sess_id)
		return -EINVAL;
	struct guest_res *r = &g->res[h - 1];
	vaccel_resource_unregister(&r->res, s);
	vaccel_resource_release(&r->res);
	g->res_bytes -= r->bytes;
	memset(r, 0, sizeof(*r));
	return 0;
}

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

static int32_t _vaccel_op(struct guest *g, const struct agent_opts *o, const struct vtr_req *rq)
{
	struct vaccel_session *s = _sess(g, rq->sqe.sess_id);
	struct vaccel_arg read[1 + VTR_MAX_ARGS], write[VTR_MAX_ARGS];
	uint8_t scratch[VTR_MAX_ARGS][SCRATCH] __attribute__((aligned(8)));
	char lib[PATH_MAX];
	int64_t op = rq->sqe.op, res_id;
	uint32_t nr_out = rq->nr_args - rq->nr_in;
	int lib_fd = -1;

	if (!s)
		return -EINVAL;
	if (op < 0 || op >= VACCEL_OP_MAX)
		return -ENOTSUP;
	if (op == VACCEL_OP_NOOP && rq->nr_args == 0)
		return _ret(vaccel_noop(s)); /* nothing to unpack: skip genop */
	if (serve_ml_handles(op))
		return serve_ml(g, s, rq); /* tensor records, not genop */
	memset(read, 0, sizeof(read[0]) * (1 + rq->nr_in));
	read[0].buf = &op;
	read[0].size = sizeof(op);
	for (uint32_t i = 0; i < rq->nr_in; i++) {
		const struct vtr_arg *a = &rq->args[i];
		struct vaccel_arg *v = &read[1 + i];

		v->size = a->len;
		v->type = (vaccel_arg_type_t)a->type;
		if (a->len <= SCRATCH) {
			memcpy(scratch[i], _at(g, a), a->len);
			v->buf = scratch[i];
		} else {
			v->buf = _at(g, a);
		}
	}
	for (uint32_t i = 0; i < nr_out; i++) {
		const struct vtr_arg *a = &rq->args[rq->nr_in + i];
		write[i] = (struct vaccel_arg){.buf = _at(g, a), .size = a->len, .type = (vaccel_arg_type_t)a->type};
	}

	if (op == VACCEL_OP_EXEC && rq->nr_in >= 1) {
		/* The path the policy checks is the path that gets loaded: a private copy. */
		const struct vtr_arg *a = &rq->args[0];
		if (a->len == 0 || a->len >= sizeof(lib))
			return -EINVAL;
		memcpy(lib, _at(g, a), a->len);
		lib[a->len] = 0;
		lib_fd = _exec_open(o, lib);
		if (lib_fd < 0) {
			char shown[128];
			_glog(g, "vaccel_exec of '%s' refused: %s\n", _printable(lib, shown, sizeof(shown)),
			      lib_fd == -ENOENT ? "no such file" : "not under --exec-allow");
			return lib_fd == -ENOENT ? -ENOENT : -EPERM;
		}
		snprintf(lib, sizeof(lib), "/proc/self/fd/%d", lib_fd);
		read[1].buf = lib;
		read[1].size = strlen(lib) + 1;
	} else if (op == VACCEL_OP_EXEC_WITH_RESOURCE && rq->nr_in >= 1) {
		uint64_t h = 0;
		if (rq->args[0].len != sizeof(h))
			return -EINVAL;
		memcpy(&h, scratch[0], sizeof(h));
		if (h == 0 || h > g->max_res || !g->res[h - 1].used ||
		    g->res[h - 1].sess_slot != rq->sqe.sess_id)
			return -EINVAL;
		if (g->res[h - 1].from_guest_lib && !o->allow_guest_code) {
			_glog(g, "exec_with_resource of a library shipped by the guest refused: "
				 "start vaccel-agent with --allow-guest-code to permit it\n");
			return -EPERM;
		}
		res_id = g->res[h - 1].res.id;
		read[1].buf = &res_id;
		read[1].size = sizeof(res_id);
	}
	int32_t ret = _ret(vaccel_genop(s, read, (int)(1 + rq->nr_in), nr_out ? write : NULL, (int)nr_out));
	if (lib_fd >= 0)
		close(lib_fd);
	return ret;
}

/*
 * vaccel_noop without arguments, what asynchronous batches are made of: the session is all
 * there is to check, so the validator's copy and the generic op path are skipped. Results
 * and counters are those the generic path gives.
 */
static int32_t _noop(struct guest *g, uint32_t sess_id)
{
	struct vaccel_session *s = _sess(g, sess_id);
	int32_t res = s ? _ret(vaccel_noop(s)) : -EINVAL;

	g->stats.requests++;
	g->stats.errors += res < 0;
	return res;
}

int32_t serve_request(struct guest *g, const struct agent_opts *o, const struct vtr_sqe *sqe)
{
	struct vtr_req rq;
	enum vtr_bad bad;
	int32_t res;

	/* sqe is already the poller's private copy: what is checked here is what is served. */
	if (sqe->opcode == VTR_OP_VACCEL && sqe->op == VACCEL_OP_NOOP && sqe->nr_args == 0)
		return _noop(g, sqe->sess_id);
	bad = vtr_req_validate(sqe, g->base, &g->ranges, &rq);
	g->stats.requests++;
	if (bad != VTR_REQ_OK) {
		g->stats.bad[bad]++;
		g->stats.errors++;
		agent_dbg("guest %u: request refused: %s\n", g->id, vtr_bad_str(bad));
		return vtr_bad_errno(bad);
	}
	switch (rq.sqe.opcode) {
	case VTR_OP_NOP:
		return 0;
	case VTR_OP_SESS_INIT:
		res = _sess_init(g, &rq);
		break;
	case VTR_OP_SESS_RELEASE:
		res = _sess_release(g, &rq);
		break;
	case VTR_OP_SESS_UPDATE: {
		struct vaccel_session *s = _sess(g, rq.sqe.sess_id);
		res = s ? _ret(vaccel_session_update(s, rq.sqe.op & ~(uint32_t)VACCEL_PLUGIN_REMOTE)) : -EINVAL;
		break;
	}
	case VTR_OP_RES_REGISTER:
		res = _res_register(g, o, &rq);
		break;
	case VTR_OP_RES_UNREGISTER:
		res = _res_unregister(g, &rq);
		break;
	case VTR_OP_VACCEL:
		res = _vaccel_op(g, o, &rq);
		break;
	default:
		res = -ENOSYS;
	}
	if (res < 0)
		g->stats.errors++;
	return res;
}
