/* SPDX-License-Identifier: Apache-2.0 */
/* vaccel-agent's command line: --help and the options into struct agent_opts. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/agent/agent.h"

void agent_usage(FILE *f)
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
		"      --max-guests N       guests connected at once (default 1024)\n"
		"      --max-sessions N     per guest (default 64)\n"
		"      --max-resources N    per guest (default 64)\n"
		"      --max-resource-mb N  bytes of resources per guest (default 256)\n"
		"      --max-handshakes N   new clients taken per turn of the main loop (default 32)\n"
		"      --route OP=PLUGIN    send op OP (upstream's name in lower case: exec, blas_sgemm,\n"
		"                           noop, ...) to plugin PLUGIN (its name: blas, exec, ...).\n"
		"                           Without it an op goes to the guest session's own plugin if\n"
		"                           that implements it, else to the first in --plugins order\n"
		"                           that does. Repeatable; `vaccel-agent stat` shows the table\n"
		"      --workers N          threads for long ops (sgemm above 32^3, exec, ML model runs,\n"
		"                           resource registration...), shared fairly between guests by\n"
		"                           the time their ops take (default: the CPU count, at least 2)\n"
		"      --worker-cpus LIST   pin the workers to these CPUs, e.g. 1 or 0,1 (default: none)\n"
		"      --worker-nice N|idle the workers' priority: idle (default: SCHED_IDLE, they run\n"
		"                           when nothing else wants the CPU, and a poller or guest that\n"
		"                           wakes takes it back at once), or a nice value 0 to 19 (more\n"
		"                           CPU for long ops on a busy host; a worker then holds a CPU it\n"
		"                           shares for up to a scheduler tick)\n"
		"      --inline-us N        a long op of a guest whose ops take N us or less on average\n"
		"                           runs on the poller itself when its guests all wait (no hand-\n"
		"                           over to a worker); a run still going after 2N to 4N us is\n"
		"                           left to finish at the workers' priority while a second\n"
		"                           poller thread serves on (default 200; 0: all go to workers;\n"
		"                           else at least 20). A guest alone on its poller has every\n"
		"                           long op run there (solo runs) until another comes\n"
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

/* 0: run; 1: --help was printed; -1: a bad option (said on stderr). */
int agent_opts_parse(int argc, char **argv, struct agent_opts *o)
{
	enum { O_CPUS = 1000, O_QPS, O_SQ, O_CQ, O_POOL, O_SPIN, O_RDIR, O_HUGE, O_EXEC, O_GCODE,
	       O_MAXG, O_MAXS, O_MAXR, O_MAXRB, O_PLAIN, O_PLAINPOLL, O_MAXHS,
	       O_ROUTE, O_WORKERS, O_WCPUS, O_MAXQ, O_WNICE, O_INLINE };
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
		{"max-handshakes", required_argument, 0, O_MAXHS},
		{"route", required_argument, 0, O_ROUTE}, {"workers", required_argument, 0, O_WORKERS},
		{"worker-cpus", required_argument, 0, O_WCPUS}, {"max-queued", required_argument, 0, O_MAXQ},
		{"worker-nice", required_argument, 0, O_WNICE},
		{"inline-us", required_argument, 0, O_INLINE},
		{"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	const char *env_sock = getenv("VACCEL_SHM_SOCKET");
	long v;
	int c;

	*o = (struct agent_opts){
		.socket_path = env_sock && *env_sock ? env_sock : "/tmp/vaccel-agent.sock",
		.nr_pollers = 1, .qps = 8, .sq_entries = 256, .cq_entries = 256,
		.pool_spec = VSHM_POOL_DEFAULT_SPEC, .spin_us = 50, .max_guests = 1024, .max_handshakes = 32,
		.max_sessions = 64, .max_resources = 64, .max_resource_bytes = 256ull << 20,
		.plain_poll_us = 10000, .max_queued = 64, .worker_nice = -1,
		.inline_us = 200,
	};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	o->nr_workers = ncpu < 2 ? 2 : ncpu > AGENT_MAX_WORKERS ? AGENT_MAX_WORKERS : (int)ncpu;
	opterr = 0; /* one line of our own for a bad flag */
	while ((c = getopt_long(argc, argv, "s:p:vh", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->socket_path = optarg; break;
		case 'p': o->plugins = optarg; break;
		case 'v': o->verbose = 1; break;
		case 'h': agent_usage(stdout); return 1;
		case O_CPUS:
			if (_cpu_list(optarg, "--cpus", o->cpus, AGENT_MAX_POLLERS, &o->nr_pollers))
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
		case O_WNICE:
			if (!strcmp(optarg, "idle")) { o->worker_nice = -1; break; }
			if (_num(optarg, "--worker-nice", 0, 19, &v)) {
				agent_log("--worker-nice also takes 'idle' (the default)\n");
				return -1;
			}
			o->worker_nice = (int)v;
			break;
		case O_INLINE:
			if (_num(optarg, "--inline-us", 0, 1000000, &v))
				return -1;
			if (v && v < 20) {
				fprintf(stderr, "vaccel-agent: --inline-us is 0 (off) or 20 to 1000000, got %ld "
					"(the watchdog would tick every %ld us)\n", v, 2 * v);
				return -1;
			}
			o->inline_us = (uint32_t)v;
			break;
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
		case O_MAXG: if (_num(optarg, "--max-guests", 1, AGENT_MAX_CLIENTS - 8, &v)) return -1; o->max_guests = (uint32_t)v; break;
		case O_MAXHS: if (_num(optarg, "--max-handshakes", 1, 1024, &v)) return -1; o->max_handshakes = (uint32_t)v; break;
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
