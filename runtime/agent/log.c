/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rate-limited log lines. Anything a guest (or a client of the socket) can trigger at will
 * goes through a limiter: at most AGENT_LOG_BURST lines a second per limiter, then one line
 * saying how many were dropped. A limiter belongs to one thread (a guest's is used by the
 * thread that owns the guest), so it needs no lock.
 */
#include <stdarg.h>
#include <time.h>

#include "runtime/agent/agent.h"

volatile int agent_verbose;

/* 1: print now; 0: dropped. Says how many the last second dropped when a new one starts. */
static int _admit(long *sec, uint32_t *count, uint32_t *dropped, const char *who)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec != *sec) {
		if (*dropped)
			agent_log("%s%u more messages dropped (rate limit)\n", who, *dropped);
		*sec = now.tv_sec;
		*count = 0;
		*dropped = 0;
	}
	if ((*count)++ >= AGENT_LOG_BURST) {
		(*dropped)++;
		return 0;
	}
	return 1;
}

void agent_rlog(struct agent_ratelimit *rl, const char *fmt, ...)
{
	va_list ap;

	if (!_admit(&rl->sec, &rl->count, &rl->dropped, ""))
		return;
	fputs("vaccel-agent: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void agent_glog(struct guest *g, const char *fmt, ...)
{
	char who[32];
	va_list ap;

	snprintf(who, sizeof(who), "guest %u: ", g->id);
	if (!_admit(&g->log_sec, &g->log_count, &g->log_dropped, who))
		return;
	fprintf(stderr, "vaccel-agent: %s", who);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}
