/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control server on PATH.ctl (`vaccel-agent stat`). Runs in the main loop without ever
 * waiting on anything: clients are non-blocking sockets with a deadline, at most
 * CTL_MAX_CLIENTS at a time; the pollers' answers come back through an eventfd the main
 * loop polls (poller_stat_ask / poller_stat_take).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runtime/agent/agent.h"
#include "vmm-glue/ivshmem_proto.h"

#define CTL_CLIENT_MS 5000 /* a client asks and reads its answer within this, or is dropped */
#define CTL_STAT_MS 2000   /* pollers answer within this, or the answer says they did not */

enum { CTL_FREE, CTL_READ, CTL_WAIT, CTL_SEND };

static double _now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int ctl_open(struct agent_ctl *c, struct poller *pollers, int nr_pollers, const struct agent_opts *o)
{
	memset(c, 0, sizeof(*c));
	c->lsock = -1;
	c->pollers = pollers;
	c->nr_pollers = nr_pollers;
	c->o = o;
	c->t_start = _now_s();
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		c->cl[i].fd = -1;
	c->notify = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return c->notify < 0 ? -errno : 0;
}

int ctl_listen(struct agent_ctl *c, const char *path)
{
	int s = vivs_listen(path, 8);

	if (s < 0)
		return s;
	fcntl(s, F_SETFL, O_NONBLOCK); /* accept() in a loop must not block the main loop */
	c->lsock = s;
	snprintf(c->path, sizeof(c->path), "%s", path);
	return 0;
}

static void _drop(struct ctl_client *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	free(cl->out);
	*cl = (struct ctl_client){.fd = -1};
}

void ctl_close(struct agent_ctl *c)
{
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		_drop(&c->cl[i]);
	for (int i = 0; i < AGENT_MAX_POLLERS; i++) {
		free(c->texts[i]);
		c->texts[i] = NULL;
	}
	if (c->lsock >= 0) {
		close(c->lsock);
		unlink(c->path);
	}
	if (c->notify >= 0)
		close(c->notify);
	c->lsock = c->notify = -1;
}

size_t ctl_pollfds(const struct agent_ctl *c, struct pollfd *pfd)
{
	size_t n = 0;

	pfd[n++] = (struct pollfd){.fd = c->lsock, .events = POLLIN};
	pfd[n++] = (struct pollfd){.fd = c->notify, .events = POLLIN};
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		const struct ctl_client *cl = &c->cl[i];
		short ev = cl->state == CTL_READ ? POLLIN : cl->state == CTL_SEND ? POLLOUT : 0;
		pfd[n++] = (struct pollfd){.fd = ev ? cl->fd : -1, .events = ev};
	}
	return n;
}

static void _accept(struct agent_ctl *c, double now)
{
	/* Bounded per turn: the table's size. */
	for (int k = 0; k < CTL_MAX_CLIENTS; k++) {
		int fd = accept4(c->lsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct ctl_client *cl = NULL;

		if (fd < 0)
			return;
		for (int i = 0; i < CTL_MAX_CLIENTS && !cl; i++)
			if (c->cl[i].state == CTL_FREE)
				cl = &c->cl[i];
		if (!cl) {
			agent_rlog(&c->rl, "control socket: %d clients already; closing a new one\n",
				   CTL_MAX_CLIENTS);
			close(fd);
			continue;
		}
		*cl = (struct ctl_client){.fd = fd, .state = CTL_READ, .deadline = now + CTL_CLIENT_MS / 1e3};
	}
}

/* Starts a round of stat answers unless one runs already. */
static void _ask(struct agent_ctl *c, double now)
{
	if (c->round)
		return;
	c->round = 1;
	c->round_deadline = now + CTL_STAT_MS / 1e3;
	for (int i = 0; i < c->nr_pollers; i++) {
		free(c->texts[i]);
		c->texts[i] = NULL;
		poller_stat_ask(&c->pollers[i]);
	}
}

/* The round is over (every poller answered, or the deadline passed): answers for all. */
static void _answer(struct agent_ctl *c, size_t guests)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f) {
		fprintf(f, "vaccel-agent pid %d socket %s pollers %d guests_connected %zu up_s %.3f\n",
			(int)getpid(), c->o->socket_path, c->nr_pollers, guests, _now_s() - c->t_start);
		/* The routing table (built once at start) and the workers' counters (held under
		 * work.c's lock for a few lines at most): neither can block the main loop. */
		route_stat(f);
		work_stat(f);
		for (int i = 0; i < c->nr_pollers; i++) {
			if (c->texts[i])
				fputs(c->texts[i], f);
			else
				fprintf(f, "poller %d: no answer within %d ms (busy in a long request?)\n", i,
					CTL_STAT_MS);
		}
		if (fclose(f)) {
			free(text);
			text = NULL;
		}
	}
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *cl = &c->cl[i];
		if (cl->state != CTL_WAIT)
			continue;
		cl->out = text ? strdup(text) : NULL;
		if (!cl->out) {
			_drop(cl);
			continue;
		}
		cl->out_len = strlen(cl->out);
		cl->out_off = 0;
		cl->state = CTL_SEND;
	}
	free(text);
	c->round = 0;
}

void ctl_handle(struct agent_ctl *c, const struct pollfd *pfd, size_t guests)
{
	double now = _now_s();

	if (pfd[0].revents & POLLIN)
		_accept(c, now);
	if (pfd[1].revents & POLLIN) {
		uint64_t cnt;
		if (read(c->notify, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
			agent_log("control socket: reading its eventfd: %s\n", strerror(errno));
	}
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *cl = &c->cl[i];
		short rev = pfd[2 + i].fd == cl->fd ? pfd[2 + i].revents : 0;

		if (cl->state == CTL_FREE)
			continue;
		if (now > cl->deadline) {
			_drop(cl);
			continue;
		}
		if (cl->state == CTL_READ && rev) {
			char line[256];
			ssize_t n = recv(cl->fd, line, sizeof(line), MSG_DONTWAIT);
			if (n > 0) {
				/* The request ("stat\n"); anything else gets the same answer. */
				cl->state = CTL_WAIT;
				_ask(c, now);
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				_drop(cl);
			}
		} else if (cl->state == CTL_SEND && rev) {
			ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
					 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				cl->out_off += (size_t)n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) || cl->out_off == cl->out_len)
				_drop(cl);
		}
	}
	if (c->round) {
		int all = 1;
		for (int i = 0; i < c->nr_pollers; i++) {
			if (!c->texts[i])
				c->texts[i] = poller_stat_take(&c->pollers[i]);
			all &= c->texts[i] != NULL;
		}
		if (all || now > c->round_deadline)
			_answer(c, guests);
	}
}
