/* SPDX-License-Identifier: Apache-2.0 */
/* `vaccel-agent stat`: asks a running agent for its live state over PATH.ctl. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime/agent/agent.h"

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

int agent_ctl_path(const char *sock, char *out, size_t n)
{
	if ((size_t)snprintf(out, n, "%s.ctl", sock) >= n ||
	    strlen(out) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int agent_stat_main(int argc, char **argv)
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
	if (agent_ctl_path(sock, sa.sun_path, sizeof(sa.sun_path))) {
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
