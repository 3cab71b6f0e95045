/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vaccel-agent: the host side of the shared-memory transport. Listens on a unix socket,
 * speaks QEMU's ivshmem-server protocol to every client (guest processes and QEMU), gives
 * each its own region, and serves its requests on this host's vAccel plugins.
 *
 * The main loop never waits on a client: sockets are non-blocking, a new client costs a
 * bounded amount of work (its region is created sparse, the greeting fits in the socket
 * buffer or the client is refused), at most --max-handshakes clients are taken per turn,
 * and control clients are served in steps (ctl.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "runtime/agent/agent.h"
#include "vmm-glue/ivshmem_proto.h"

#define HEARTBEAT_MS 250     /* host_heartbeat of every region ticks this often */
#define CLIENT_JUNK_MAX 4096 /* bytes a client may send (it should send none) before it is dropped */

static double _now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void _load_plugins(const struct agent_opts *o)
{
	if (o->plugins) {
		/* --plugins replaces what the library's constructor loaded from the environment. */
		vaccel_cleanup();
		unsetenv("VACCEL_PLUGINS");
		unsetenv("VACCEL_BACKENDS");
		vaccel_bootstrap();
		if (vaccel_plugin_parse_and_load(o->plugins))
			agent_log("some plugins in '%s' did not load (see above)\n", o->plugins);
	}
	for (size_t i = 0; i < vaccel_plugin_count(); i++)
		if (vaccel_plugin_at(i)->info->is_virtio)
			agent_log("warning: plugin '%s' is a transport plugin; the agent serves guests "
				  "with local plugins only\n", vaccel_plugin_at(i)->info->name);
	if (vaccel_plugin_count() == 0)
		agent_log("warning: no host plugins loaded (--plugins or VACCEL_PLUGINS); guests' ops "
			  "will fail\n");
}

/* Every guest holds about a dozen fds (socket, region, doorbells): lift the soft limit. */
static void _raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static struct poller *_least_loaded(struct poller *pollers, int n)
{
	struct poller *p = &pollers[0];

	for (int i = 1; i < n; i++)
		if (__atomic_load_n(&pollers[i].nr_guests, __ATOMIC_RELAXED) <
		    __atomic_load_n(&p->nr_guests, __ATOMIC_RELAXED))
			p = &pollers[i];
	return p;
}

/* New clients: at most max_handshakes per turn, each a bounded amount of work. */
static void _accept_clients(int lsock, const struct agent_opts *o, struct poller *pollers,
			    struct agent_clients *t, struct agent_ratelimit *rl)
{
	for (uint32_t k = 0; k < o->max_handshakes; k++) {
		int s = accept4(lsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct guest *g;
		int id, ret;

		if (s < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
				agent_rlog(rl, "cannot accept a client: %s\n", strerror(errno));
			return;
		}
		/* Closed guests count until their poller has released them, so connecting
		 * and closing in a loop cannot pile up regions. */
		id = guest_live_count() < o->max_guests && t->n < AGENT_MAX_CLIENTS ? clients_next_id(t)
										      : -1;
		if (id < 0) {
			agent_rlog(rl, "refusing a client: %u guests already exist (--max-guests)\n",
				   o->max_guests);
			close(s);
			continue;
		}
		struct poller *p = _least_loaded(pollers, o->nr_pollers);
		ret = guest_create(o, (uint16_t)id, s, NULL, &g);
		if (ret) {
			agent_rlog(rl, "guest %d: handshake failed: %s\n", id,
				   ret == -EAGAIN ? "its socket takes no more (it does not read)"
						  : strerror(-ret));
			close(s);
			continue;
		}
		clients_add(t, g);
		agent_rlog(rl, "guest %d connected (poller %d)\n", id, p->idx);
		poller_add(p, g);
	}
}

/* A guest's socket has news: EOF (it left) or bytes it should not send. 1 if it is gone. */
static int _client_event(struct agent_client *c)
{
	char buf[512];
	ssize_t n = recv(c->sock, buf, sizeof(buf), MSG_DONTWAIT);

	if (n > 0) {
		c->junk += (uint32_t)n;
		return c->junk > CLIENT_JUNK_MAX; /* a client that talks too much is dropped */
	}
	return !(n < 0 && (errno == EAGAIN || errno == EINTR));
}

int main(int argc, char **argv)
{
	static struct agent_opts o;
	static struct poller pollers[AGENT_MAX_POLLERS];
	static struct agent_clients t = {.next_id = 1};
	static struct agent_ctl ctl;
	static struct pollfd pfd[2 + CTL_POLLFDS + AGENT_MAX_CLIENTS];
	struct agent_ratelimit rl = {0};
	char ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int lsock, sfd, ret;
	double t_hb = 0;

	if (argc > 1 && !strcmp(argv[1], "stat"))
		return agent_stat_main(argc - 1, argv + 1);
	ret = agent_opts_parse(argc, argv, &o);
	if (ret)
		return ret > 0 ? 0 : 2;
	agent_verbose = o.verbose;
	_raise_nofile();
	_load_plugins(&o);
	if (route_init(&o))
		return 2;
	ret = work_start(&o);
	if (ret) {
		agent_log("cannot start the worker threads: %s\n", strerror(-ret));
		return 1;
	}
	sfd = agent_signals_init();
	if (sfd < 0) {
		agent_log("cannot create the signal pipe: %s\n", strerror(-sfd));
		return 1;
	}
	/* The control server's eventfd first: pollers ring it with their stat answers. */
	ret = ctl_open(&ctl, pollers, o.nr_pollers, &o);
	if (ret) {
		agent_log("cannot set up the control server: %s\n", strerror(-ret));
		return 1;
	}
	for (int i = 0; i < o.nr_pollers; i++) {
		ret = poller_start(&pollers[i], &o, i, o.cpus[i], ctl.notify);
		if (ret) {
			agent_log("cannot start poller %d: %s\n", i, strerror(-ret));
			return 1;
		}
	}
	/* ivshmem-plain regions: guests without a socket, served until the agent stops. They
	 * sit in the client table with socket -1 (poll ignores it) so their IDs stay taken. */
	for (int i = 0; i < o.nr_plain; i++) {
		struct poller *p = &pollers[i % o.nr_pollers];
		struct guest *g;
		int id = clients_next_id(&t);

		ret = id < 0 ? id : guest_create(&o, (uint16_t)id, -1, o.plain_regions[i], &g);
		if (ret) {
			agent_log("cannot serve plain region %s: %s\n", o.plain_regions[i], strerror(-ret));
			return 1;
		}
		clients_add(&t, g);
		agent_log("guest %d: serving ivshmem-plain region %s (%llu bytes, poller %d)\n", id,
			  o.plain_regions[i], (unsigned long long)vshm_region_size(g->reg), p->idx);
		poller_add(p, g);
	}
	lsock = vivs_listen(o.socket_path, 128);
	if (lsock < 0) {
		agent_log("cannot listen on %s: %s\n", o.socket_path, strerror(-lsock));
		return 1;
	}
	/* accept() in a loop must stop when nobody waits, not block the main loop. */
	fcntl(lsock, F_SETFL, O_NONBLOCK);
	/* The control socket for `vaccel-agent stat`: optional, the agent works without it. */
	ret = agent_ctl_path(o.socket_path, ctl_path, sizeof(ctl_path));
	if (ret == 0)
		ret = ctl_listen(&ctl, ctl_path);
	if (ret < 0)
		agent_log("no control socket %s.ctl (%s); `vaccel-agent stat` will not answer\n",
			  o.socket_path, strerror(-ret));
	agent_log("listening on %s (%d poller(s), %u queue pairs per guest, pool %s)\n", o.socket_path,
		  o.nr_pollers, o.qps, o.pool_spec);

	for (;;) {
		const size_t base = 2 + CTL_POLLFDS;

		pfd[0] = (struct pollfd){.fd = lsock, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = sfd, .events = POLLIN};
		ctl_pollfds(&ctl, &pfd[2]);
		for (size_t i = 0; i < t.n; i++)
			pfd[base + i] = (struct pollfd){.fd = t.cl[i].sock, .events = POLLIN};
		/* The heartbeat a VM's guest watches (it has no socket to see us go): ticked
		 * here, not by pollers, so a long request does not look like a dead agent. */
		if (_now_s() - t_hb >= HEARTBEAT_MS / 1000.0) {
			for (size_t i = 0; i < t.n; i++)
				vshm_region_host_heartbeat(t.cl[i].g->reg);
			t_hb = _now_s();
		}
		if (poll(pfd, base + t.n, HEARTBEAT_MS) < 0) {
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
		ctl_handle(&ctl, &pfd[2], t.n);
		/* Closed clients first, so their slots are free for new ones. Walking down keeps
		 * the pollfd indices of entries not yet looked at. */
		for (size_t i = t.n; i-- > 0;) {
			if (!pfd[base + i].revents || !_client_event(&t.cl[i]))
				continue;
			poller_remove(t.cl[i].g->poller, t.cl[i].g);
			clients_del(&t, i);
		}
		if (pfd[0].revents & POLLIN)
			_accept_clients(lsock, &o, pollers, &t, &rl);
	}
	close(lsock);
	unlink(o.socket_path);
	ctl_close(&ctl);
	for (int i = 0; i < o.nr_pollers; i++)
		poller_stop(&pollers[i]);
	work_stop(); /* idle by now: each poller waited for its guests' ops */
	agent_log("stopped\n");
	return 0;
}
