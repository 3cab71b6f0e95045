/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vaccel-agent: the host side of the shared-memory transport. Listens on a unix socket,
 * speaks QEMU's ivshmem-server protocol to every client (guest processes and QEMU), gives
 * each its own region, and serves its requests on this host's vAccel plugins.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "runtime/agent/agent.h"
#include "vmm-glue/ivshmem_proto.h"

#define MAX_CLIENTS 1024

volatile int agent_verbose;

static int sig_pipe[2] = {-1, -1};

/* Async-signal-safe: one byte naming the signal; the main loop does the rest. */
static void _on_signal(int signo)
{
	int saved = errno;
	unsigned char b = (unsigned char)signo;

	if (write(sig_pipe[1], &b, 1) < 0) {
		/* the pipe is full: a stop is already pending */
	}
	errno = saved;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vaccel-agent [options]\n"
		"The host agent of vAccel's shared-memory transport: an ivshmem server that gives each\n"
		"guest (a local process or a QEMU ivshmem-doorbell device) its own region and serves its\n"
		"requests on this host's plugins.\n"
		"  -s, --socket PATH        unix socket to listen on (default $VACCEL_SHM_SOCKET or\n"
		"                           /tmp/vaccel-agent.sock)\n"
		"  -p, --plugins LIST       host plugins, ':'-separated (default $VACCEL_PLUGINS)\n"
		"      --cpus LIST          CPUs of the poller threads, one poller each (default 0)\n"
		"      --qps N              queue pairs per guest (default 8, max %u)\n"
		"      --sq-entries N       submission ring entries (default 256)\n"
		"      --cq-entries N       completion ring entries = in-flight limit (default 256)\n"
		"      --pool SPEC          buffer pool classes, SIZE:COUNT,... (default %s)\n"
		"      --spin-us N          poller busy-polls this long before it sleeps (default 50)\n"
		"      --region-dir DIR     file-backed regions in DIR (for QEMU memory-backend-file)\n"
		"      --plain-region FILE  serve a region in FILE for a VM with ivshmem-plain (QEMU maps\n"
		"                           it with memory-backend-file,share=on): no socket, no\n"
		"                           doorbells, the poller polls it. Created if missing, reused\n"
		"                           in place if it exists. Repeat for more VMs (up to 8)\n"
		"      --plain-poll-us N    longest sleep between polls of plain regions when idle\n"
		"                           (default 10000; the first sleeps are 50 us)\n"
		"      --huge               back regions with huge pages when available\n"
		"      --exec-allow PATHS   ':'-separated libraries or folders vaccel_exec may load\n"
		"                           (default: none, vaccel_exec is refused)\n"
		"      --allow-guest-code   let exec_with_resource run libraries shipped by a guest\n"
		"      --max-guests N       (default 64)   --max-sessions N  per guest (default 64)\n"
		"      --max-resources N    per guest (default 64)\n"
		"      --max-resource-mb N  bytes of resources per guest (default 256)\n"
		"      --route OP=PLUGIN    send op OP (upstream's name in lower case: exec, blas_sgemm,\n"
		"                           noop, ...) to plugin PLUGIN (its name: blas, exec, ...).\n"
		"                           Without it an op goes to the guest session's own plugin if\n"
		"                           that implements it, else to the first in --plugins order\n"
		"                           that does. Repeatable; `vaccel-agent stat` shows the table\n"
		"      --workers N          threads for long ops (sgemm above 32^3, exec, resource\n"
		"                           registration...), shared fairly between guests by the\n"
		"                           time their ops take (default: the CPU count, at least 2)\n"
		"      --worker-cpus LIST   pin the workers to these CPUs, e.g. 1 or 0,1 (default: none)\n"
		"      --worker-nice N      the workers' nice value, 0 to 19 (default 10: a poller that\n"
		"                           shares a CPU with a worker gets it back at once)\n"
		"      --max-queued N       a guest's ops queued or running on the workers; beyond it a\n"
		"                           long op completes with EAGAIN (VACCEL_EAGAIN) (default 64)\n"
		"  -v, --verbose            log refused requests\n"
		"  -h, --help\n"
		"SIGTERM or SIGINT: stop accepting, finish what is in flight, exit 0.\n"
		"The agent also listens on PATH.ctl, where `vaccel-agent stat --socket PATH` asks for\n"
		"its live state (see `vaccel-agent stat --help`).\n",
		AGENT_MAX_QPS, VSHM_POOL_DEFAULT_SPEC);
}

static int _num(const char *s, const char *flag, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);

	if (errno || *end || end == s || v < lo || v > hi) {
		fprintf(stderr, "vaccel-agent: %s wants a number from %ld to %ld, got '%s'\n", flag, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* A ','-separated CPU list into out[max]; -1 after a message on a bad one. */
static int _cpu_list(const char *arg, const char *flag, int *out, int max, int *nr)
{
	char *save, *dup = strdup(arg), *tok;
	long v;

	*nr = 0;
	for (tok = dup ? strtok_r(dup, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
		if (*nr == max || _num(tok, flag, -1, 4095, &v)) {
			free(dup);
			return -1;
		}
		out[(*nr)++] = (int)v;
	}
	free(dup);
	if (!*nr) {
		fprintf(stderr, "vaccel-agent: %s wants a list like 0 or 0,1\n", flag);
		return -1;
	}
	return 0;
}

static int _parse(int argc, char **argv, struct agent_opts *o)
{
	enum { O_CPUS = 1000, O_QPS, O_SQ, O_CQ, O_POOL, O_SPIN, O_RDIR, O_HUGE, O_EXEC, O_GCODE,
	       O_MAXG, O_MAXS, O_MAXR, O_MAXRB, O_PLAIN, O_PLAINPOLL, O_ROUTE, O_WORKERS, O_WCPUS,
	       O_MAXQ, O_WNICE };
	static const struct option lo[] = {
		{"socket", required_argument, 0, 's'}, {"plugins", required_argument, 0, 'p'},
		{"cpus", required_argument, 0, O_CPUS}, {"qps", required_argument, 0, O_QPS},
		{"sq-entries", required_argument, 0, O_SQ}, {"cq-entries", required_argument, 0, O_CQ},
		{"pool", required_argument, 0, O_POOL}, {"spin-us", required_argument, 0, O_SPIN},
		{"region-dir", required_argument, 0, O_RDIR}, {"huge", no_argument, 0, O_HUGE},
		{"exec-allow", required_argument, 0, O_EXEC}, {"allow-guest-code", no_argument, 0, O_GCODE},
		{"max-guests", required_argument, 0, O_MAXG}, {"max-sessions", required_argument, 0, O_MAXS},
		{"max-resources", required_argument, 0, O_MAXR},
		{"max-resource-mb", required_argument, 0, O_MAXRB},
		{"plain-region", required_argument, 0, O_PLAIN},
		{"plain-poll-us", required_argument, 0, O_PLAINPOLL},
		{"route", required_argument, 0, O_ROUTE}, {"workers", required_argument, 0, O_WORKERS},
		{"worker-cpus", required_argument, 0, O_WCPUS}, {"max-queued", required_argument, 0, O_MAXQ},
		{"worker-nice", required_argument, 0, O_WNICE},
		{"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	const char *env_sock = getenv("VACCEL_SHM_SOCKET");
	long v;
	int c;

	*o = (struct agent_opts){
		.socket_path = env_sock && *env_sock ? env_sock : "/tmp/vaccel-agent.sock",
		.nr_pollers = 1, .qps = 8, .sq_entries = 256, .cq_entries = 256,
		.pool_spec = VSHM_POOL_DEFAULT_SPEC, .spin_us = 50, .max_guests = 64,
		.max_sessions = 64, .max_resources = 64, .max_resource_bytes = 256ull << 20,
		.plain_poll_us = 10000, .max_queued = 64, .worker_nice = 10,
	};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	o->nr_workers = ncpu < 2 ? 2 : ncpu > AGENT_MAX_WORKERS ? AGENT_MAX_WORKERS : (int)ncpu;
	opterr = 0; /* one line of our own for a bad flag */
	while ((c = getopt_long(argc, argv, "s:p:vh", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->socket_path = optarg; break;
		case 'p': o->plugins = optarg; break;
		case 'v': o->verbose = 1; break;
		case 'h': usage(stdout); exit(0);
		case O_CPUS:
			if (_cpu_list(optarg, "--cpus", o->cpus, 16, &o->nr_pollers))
				return -1;
			break;
		case O_WCPUS:
			if (_cpu_list(optarg, "--worker-cpus", o->worker_cpus, AGENT_MAX_WORKERS,
				      &o->nr_worker_cpus))
				return -1;
			break;
		case O_ROUTE:
			if (o->nr_routes == AGENT_MAX_ROUTES || !strchr(optarg, '=')) {
				fprintf(stderr, "vaccel-agent: --route wants OP=PLUGIN, e.g. exec=exec (at most %d), "
					"got '%s'\n", AGENT_MAX_ROUTES, optarg);
				return -1;
			}
			o->routes[o->nr_routes++] = optarg;
			break;
		case O_WORKERS: if (_num(optarg, "--workers", 1, AGENT_MAX_WORKERS, &v)) return -1; o->nr_workers = (int)v; break;
		case O_WNICE: if (_num(optarg, "--worker-nice", 0, 19, &v)) return -1; o->worker_nice = (int)v; break;
		case O_MAXQ: if (_num(optarg, "--max-queued", 1, 1 << 20, &v)) return -1; o->max_queued = (uint32_t)v; break;
		case O_QPS: if (_num(optarg, "--qps", 1, AGENT_MAX_QPS, &v)) return -1; o->qps = (uint32_t)v; break;
		case O_SQ:
		case O_CQ:
			if (_num(optarg, c == O_SQ ? "--sq-entries" : "--cq-entries", 2, 1 << 16, &v))
				return -1;
			if (v & (v - 1)) {
				fprintf(stderr, "vaccel-agent: ring entries must be a power of two, got %ld\n", v);
				return -1;
			}
			*(c == O_SQ ? &o->sq_entries : &o->cq_entries) = (uint32_t)v;
			break;
		case O_POOL: o->pool_spec = optarg; break;
		case O_SPIN: if (_num(optarg, "--spin-us", 0, 10000000, &v)) return -1; o->spin_us = (uint64_t)v; break;
		case O_RDIR: o->region_dir = optarg; break;
		case O_PLAIN:
			if (o->nr_plain == 8 || !*optarg) {
				fprintf(stderr, "vaccel-agent: --plain-region wants a file path (at most 8)\n");
				return -1;
			}
			o->plain_regions[o->nr_plain++] = optarg;
			break;
		case O_PLAINPOLL: if (_num(optarg, "--plain-poll-us", 1, 1000000, &v)) return -1; o->plain_poll_us = (uint64_t)v; break;
		case O_HUGE: o->huge = 1; break;
		case O_EXEC: o->exec_allow = optarg; break;
		case O_GCODE: o->allow_guest_code = 1; break;
		case O_MAXG: if (_num(optarg, "--max-guests", 1, 65535, &v)) return -1; o->max_guests = (uint32_t)v; break;
		case O_MAXS: if (_num(optarg, "--max-sessions", 1, 65536, &v)) return -1; o->max_sessions = (uint32_t)v; break;
		case O_MAXR: if (_num(optarg, "--max-resources", 1, 65536, &v)) return -1; o->max_resources = (uint32_t)v; break;
		case O_MAXRB: if (_num(optarg, "--max-resource-mb", 1, 1 << 20, &v)) return -1; o->max_resource_bytes = (uint64_t)v << 20; break;
		default:
			fprintf(stderr, "vaccel-agent: unknown option or missing value: '%s' (see --help)\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vaccel-agent: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	return 0;
}

#define HEARTBEAT_MS 250 /* host_heartbeat of every region ticks this often */

struct client {
	int sock;
	struct guest *g;
};

static int _next_id(const struct client *cl, size_t n, uint16_t *next)
{
	for (int tries = 0; tries < 65535; tries++) {
		uint16_t id = *next;
		int used = 0;

		*next = *next == 65535 ? 1 : *next + 1;
		for (size_t i = 0; i < n && !used; i++)
			used = cl[i].g && cl[i].g->id == id;
		if (!used)
			return id;
	}
	return -1;
}

/* ---- live state: PATH.ctl and `vaccel-agent stat` ---- */

#define STAT_TIMEOUT_MS 2000

static void _stat_usage(FILE *f)
{
	fprintf(f,
		"usage: vaccel-agent stat [--socket PATH]\n"
		"Prints a running agent's live state, asked over its control socket PATH.ctl:\n"
		"per poller thread, its passes with work against all passes (busy_pct), sleeps, time\n"
		"asleep, wake-ups (by a guest's doorbell, or by the agent itself: hand-overs, stat);\n"
		"the totals of guests that left; per guest region, requests served and errors\n"
		"(refused by the validator, by kind, and failed in the runtime), completions by\n"
		"result; per queue pair, requests, errors and ring occupancy as the host sees it\n"
		"(SQ entries not yet taken, CQ entries not yet reaped). Asking wakes a sleeping\n"
		"poller once (a control wake-up). Also the routing table (which plugin serves each\n"
		"op), the worker threads (ops queued and running, busy time) and, per guest, its\n"
		"ops on the workers and its share of their time.\n"
		"  -s, --socket PATH  the agent's socket (default $VACCEL_SHM_SOCKET or\n"
		"                     /tmp/vaccel-agent.sock)\n"
		"  -h, --help\n");
}

static int _ctl_path(const char *sock, char *out, size_t n)
{
	if ((size_t)snprintf(out, n, "%s.ctl", sock) >= n ||
	    strlen(out) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

static int _stat_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"socket", required_argument, 0, 's'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *env = getenv("VACCEL_SHM_SOCKET");
	const char *sock = env && *env ? env : "/tmp/vaccel-agent.sock";
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[4096];
	int c, fd;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:h", lo, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'h': _stat_usage(stdout); return 0;
		default:
			fprintf(stderr, "vaccel-agent stat: unknown option or missing value: '%s' (see --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vaccel-agent stat: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	if (_ctl_path(sock, sa.sun_path, sizeof(sa.sun_path))) {
		fprintf(stderr, "vaccel-agent stat: socket path too long: %s\n", sock);
		return 2;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "vaccel-agent stat: no agent answers on %s: %s\n", sa.sun_path, strerror(errno));
		return 1;
	}
	/* The agent answers once and closes. */
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send(fd, "stat\n", 5, MSG_NOSIGNAL) != 5) {
		fprintf(stderr, "vaccel-agent stat: cannot ask %s: %s\n", sa.sun_path, strerror(errno));
		close(fd);
		return 1;
	}
	size_t total = 0;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "vaccel-agent stat: reading %s: %s\n", sa.sun_path, strerror(errno));
			close(fd);
			return 1;
		}
		fwrite(buf, 1, (size_t)n, stdout);
		total += (size_t)n;
	}
	close(fd);
	if (total == 0) {
		fprintf(stderr, "vaccel-agent stat: the agent closed without an answer\n");
		return 1;
	}
	return fflush(stdout) ? 1 : 0;
}

static double _now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Writes all of buf to a control client; gives up on an error or a client that stalls. */
static void _send_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		n -= (size_t)w;
	}
}

/* The routing table and the workers' state (route.c, work.c). */
static void _send_extra(int fd)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	route_stat(f);
	work_stat(f);
	if (!fclose(f))
		_send_all(fd, text, len);
	free(text);
}

/* One control client: its live state, then close. The main thread is blocked meanwhile
 * (at most STAT_TIMEOUT_MS per poller), which only delays accepting new guests. */
static void _serve_ctl(int lctl, const struct agent_opts *o, struct poller *pollers, size_t nr_clients,
		       double t_start)
{
	int fd = accept4(lctl, NULL, NULL, SOCK_CLOEXEC);
	char line[256];

	if (fd < 0)
		return;
	struct timeval tv = {.tv_sec = 1};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* The request ("stat\n"); read so that closing does not reset the connection. */
	if (recv(fd, line, sizeof(line), 0) <= 0) {
		close(fd);
		return;
	}
	snprintf(line, sizeof(line),
		 "vaccel-agent pid %d socket %s pollers %d guests_connected %zu up_s %.3f\n", (int)getpid(),
		 o->socket_path, o->nr_pollers, nr_clients, _now_s() - t_start);
	_send_all(fd, line, strlen(line));
	_send_extra(fd);
	for (int i = 0; i < o->nr_pollers; i++) {
		char *text = poller_stat(&pollers[i], STAT_TIMEOUT_MS);
		if (text) {
			_send_all(fd, text, strlen(text));
			free(text);
		} else {
			snprintf(line, sizeof(line), "poller %d: no answer within %d ms (busy in a long request?)\n",
				 i, STAT_TIMEOUT_MS);
			_send_all(fd, line, strlen(line));
		}
	}
	close(fd);
}

int main(int argc, char **argv)
{
	struct agent_opts o;
	struct poller pollers[16];
	static struct client cl[MAX_CLIENTS];
	size_t ncl = 0;
	uint16_t next_id = 1;
	sigset_t mask;
	int lsock, lctl = -1, sfd, ret;
	char ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	double t_start = _now_s(), t_hb = 0;

	if (argc > 1 && !strcmp(argv[1], "stat"))
		return _stat_main(argc - 1, argv + 1);
	if (_parse(argc, argv, &o))
		return 2;
	agent_verbose = o.verbose;
	if (o.plugins) {
		/* --plugins replaces what the library's constructor loaded from the environment. */
		vaccel_cleanup();
		unsetenv("VACCEL_PLUGINS");
		unsetenv("VACCEL_BACKENDS");
		vaccel_bootstrap();
		ret = vaccel_plugin_parse_and_load(o.plugins);
		if (ret)
			agent_log("some plugins in '%s' did not load (see above)\n", o.plugins);
	}
	for (size_t i = 0; i < vaccel_plugin_count(); i++)
		if (vaccel_plugin_at(i)->info->is_virtio)
			agent_log("warning: plugin '%s' is a transport plugin; the agent serves guests "
				  "with local plugins only\n", vaccel_plugin_at(i)->info->name);
	if (vaccel_plugin_count() == 0)
		agent_log("warning: no host plugins loaded (--plugins or VACCEL_PLUGINS); guests' ops "
			  "will fail\n");
	if (route_init(&o))
		return 2;
	ret = work_start(&o);
	if (ret) {
		agent_log("cannot start the worker threads: %s\n", strerror(-ret));
		return 1;
	}

	/*
	 * SIGTERM/SIGINT reach the main loop through a self-pipe written by the handler. A
	 * blocked-signal scheme (signalfd) is not enough: plugin libraries start threads of
	 * their own (OpenBLAS, even from the runtime's constructor before main) that do not
	 * block anything, and the kernel may deliver the signal to one of them.
	 */
	(void)mask;
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		agent_log("cannot create the signal pipe: %s\n", strerror(errno));
		return 1;
	}
	struct sigaction sa = {.sa_handler = _on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = sig_pipe[0];

	for (int i = 0; i < o.nr_pollers; i++) {
		ret = poller_start(&pollers[i], &o, i, o.cpus[i]);
		if (ret) {
			agent_log("cannot start poller %d: %s\n", i, strerror(-ret));
			return 1;
		}
	/* ivshmem-plain regions: guests without a socket, served until the agent stops. They
	 * sit in the client table with socket -1 (poll ignores it) so their IDs stay taken. */
	for (int i = 0; i < o.nr_plain; i++) {
		struct poller *p = &pollers[i % o.nr_pollers];
		struct guest *g;
		int id = _next_id(cl, ncl, &next_id);

		ret = id < 0 ? -ENOSPC : guest_create(&o, (uint16_t)id, -1, p->bell, o.plain_regions[i], &g);
		if (ret) {
			agent_log("cannot serve plain region %s: %s\n", o.plain_regions[i], strerror(-ret));
			return 1;
		}
		cl[ncl++] = (struct client){.sock = -1, .g = g};
		agent_log("guest %d: serving ivshmem-plain region %s (%llu bytes, poller %d)\n", id,
			  o.plain_regions[i], (unsigned long long)vshm_region_size(g->reg), p->idx);
		poller_add(p, g);
	}
	lsock = vivs_listen(o.socket_path, 64);
	if (lsock < 0) {
		agent_log("cannot listen on %s: %s\n", o.socket_path, strerror(-lsock));
		return 1;
	}
	/* The control socket for `vaccel-agent stat`: optional, the agent works without it. */
	ret = _ctl_path(o.socket_path, ctl_path, sizeof(ctl_path));
	if (ret == 0)
		ret = lctl = vivs_listen(ctl_path, 8);
	if (ret < 0) {
		agent_log("no control socket %s.ctl (%s); `vaccel-agent stat` will not answer\n",
			  o.socket_path, strerror(-ret));
		lctl = -1;
	}
	}
	agent_log("listening on %s (%d poller(s), %u queue pairs per guest, pool %s)\n", o.socket_path,
		  o.nr_pollers, o.qps, o.pool_spec);

	for (;;) {
		static struct pollfd pfd[MAX_CLIENTS + 3];
		pfd[0] = (struct pollfd){.fd = lsock, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = sfd, .events = POLLIN};
		for (size_t i = 0; i < ncl; i++)
			pfd[2 + i] = (struct pollfd){.fd = cl[i].sock, .events = POLLIN};
		/* Last, so the clients' indices stay 2 + i; fd -1 is ignored by poll. */
		pfd[2 + ncl] = (struct pollfd){.fd = lctl, .events = POLLIN};
		/* The heartbeat a VM's guest watches (it has no socket to see us go): ticked
		 * here, not by pollers, so a long request does not look like a dead agent. */
		if (_now_s() - t_hb >= HEARTBEAT_MS / 1000.0) {
			for (size_t i = 0; i < ncl; i++)
				vshm_region_host_heartbeat(cl[i].g->reg);
			t_hb = _now_s();
		}
		if (poll(pfd, 3 + ncl, HEARTBEAT_MS) < 0) {
			if (errno == EINTR)
				continue;
			agent_log("poll: %s\n", strerror(errno));
			break;
		}
		if (pfd[1].revents) {
			unsigned char signo = 0;
			if (read(sfd, &signo, 1) == 1) {
				agent_log("signal %u: finishing in-flight requests and exiting\n", signo);
				break;
			}
		}
		if (lctl >= 0 && (pfd[2 + ncl].revents & POLLIN))
			_serve_ctl(lctl, &o, pollers, ncl, t_start);
		/* Closed clients first, so their slots are free for new ones. */
		for (size_t i = 0; i < ncl;) {
			if (!pfd[2 + i].revents) {
				i++;
				continue;
			}
			char buf[64];
			ssize_t n = recv(cl[i].sock, buf, sizeof(buf), MSG_DONTWAIT);
			if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR))) {
				i++; /* clients send nothing in this protocol: ignore it */
				continue;
			}
			poller_remove(cl[i].g->poller, cl[i].g);
			cl[i] = cl[--ncl];
			pfd[2 + i] = pfd[2 + ncl];
		}
		if (pfd[0].revents & POLLIN) {
			int s = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
			if (s < 0) {
				if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
					usleep(10000); /* out of fds: let pollers retire guests */
				continue;
			}
			/* Closed guests count until their poller has released them, so connecting
			 * and closing in a loop cannot pile up regions. */
			int id = guest_live_count() < o.max_guests && ncl < MAX_CLIENTS
					 ? _next_id(cl, ncl, &next_id)
					 : -1;
			if (id < 0) {
				agent_log("refusing a client: %u guests already exist (--max-guests)\n",
					  o.max_guests);
				close(s);
				continue;
			}
			struct poller *p = &pollers[0];
			for (int i = 1; i < o.nr_pollers; i++)
				if (pollers[i].nr_guests < p->nr_guests)
					p = &pollers[i];
			struct guest *g;
			ret = guest_create(&o, (uint16_t)id, s, p->bell, NULL, &g);
			if (ret) {
				close(s);
				continue;
			}
			cl[ncl++] = (struct client){.sock = s, .g = g};
			agent_log("guest %d connected (poller %d)\n", id, p->idx);
			poller_add(p, g);
		}
	}
	close(lsock);
	unlink(o.socket_path);
	if (lctl >= 0) {
		close(lctl);
		unlink(ctl_path);
	}
	for (int i = 0; i < o.nr_pollers; i++)
		poller_stop(&pollers[i]);
	work_stop(); /* idle by now: each poller waited for its guests' ops */
	agent_log("stopped\n");
	return 0;
}
