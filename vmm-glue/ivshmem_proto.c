/* SPDX-License-Identifier: Apache-2.0 */
/* QEMU's ivshmem-server protocol: message framing, the server's greeting, our client. */
#include "vmm-glue/ivshmem_proto.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Room for several fds, so a message with too many is seen (and its fds closed), not cut. */
#define _MAX_FDS_SEEN 8
/* How long vivs_send waits to finish a message it has half sent. */
#define _SEND_REST_MS 5000

static int64_t _now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Deadline for timeout_ms: -1 means none. */
static int64_t _deadline(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : _now_ms() + timeout_ms;
}

/* Milliseconds left until deadline, for poll: -1 forever, 0 expired. */
static int _left_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - _now_ms();
	if (left <= 0)
		return 0;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

/* Waits for events on fd until deadline; 0, -ETIMEDOUT or -errno. Restarts on EINTR. */
static int _wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		int n = poll(&pfd, 1, _left_ms(deadline));

		if (n > 0)
			return (pfd.revents & POLLNVAL) ? -EBADF : 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int _fill_addr(const char *path, struct sockaddr_un *sa)
{
	if (!path || !*path)
		return -EINVAL;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	strcpy(sa->sun_path, path);
	return 0;
}

/*
 * Connects the non-blocking sock to sa by deadline. A unix socket says EAGAIN while the
 * server's backlog is full: retry briefly until the deadline. 0, -ETIMEDOUT or -errno.
 */
static int _connect(int sock, const struct sockaddr_un *sa, int64_t deadline)
{
	for (;;) {
		int ret;

		if (connect(sock, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return 0;
		switch (errno) {
		case EISCONN: /* an interrupted attempt that completed meanwhile */
			return 0;
		case EINTR:
			continue;
		case EAGAIN:
			if (_left_ms(deadline) == 0)
				return -ETIMEDOUT;
			usleep(5000);
			continue;
		case EINPROGRESS:
		case EALREADY: {
			socklen_t len = sizeof(ret);

			ret = _wait(sock, POLLOUT, deadline);
			if (ret)
				return ret;
			if (getsockopt(sock, SOL_SOCKET, SO_ERROR, &ret, &len) < 0)
				return -errno;
			return -ret;
		}
		default:
			return -errno;
		}
	}
}

int vivs_send(int sock, int64_t value, int fd)
{
	uint64_t le = htole64((uint64_t)value);
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	size_t sent = 0;

	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	while (sent < sizeof(le)) {
		ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/*
			 * A non-blocking socket mid-message: finish it, or the stream is garbled;
			 * but a client that stopped reading must not hold the server for long.
			 */
			if ((errno == EAGAIN || errno == EWOULDBLOCK) && sent) {
				int ret = _wait(sock, POLLOUT, _deadline(_SEND_REST_MS));

				if (ret)
					return ret;
				continue;
			}
			return -errno;
		}
		sent += (size_t)n;
		/* The fd went with the first byte; the rest of a short send carries none. */
		iov.iov_base = (char *)&le + sent;
		iov.iov_len = sizeof(le) - sent;
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
	}
	return 0;
}

/*
 * Takes the fds out of msg's control data: the first into *fd, any more closed.
 * Returns 0, or -EPROTO if there was more than one fd or anything but SCM_RIGHTS.
 */
static int _take_fds(struct msghdr *msg, int *fd)
{
	int bad = !!(msg->msg_flags & MSG_CTRUNC);

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		size_t nr;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		nr = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nr; i++) {
			int f;

			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*fd < 0 && !bad) {
				*fd = f;
			} else {
				close(f);
				bad = 1;
			}
		}
	}
	return bad ? -EPROTO : 0;
}

int vivs_recv(int sock, int64_t *value, int *fd, int timeout_ms)
{
	int64_t deadline = _deadline(timeout_ms);
	uint64_t le = 0;
	size_t got = 0;
	int ret = 0, bad = 0;

	*fd = -1;
	while (got < sizeof(le)) {
		union {
			char buf[CMSG_SPACE(_MAX_FDS_SEEN * sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { .iov_base = (char *)&le + got, .iov_len = sizeof(le) - got };
		struct msghdr msg = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		ssize_t n;

		ret = _wait(sock, POLLIN, deadline);
		if (ret) {
			/* Half a message followed by silence: the stream can't be trusted any more. */
			if (got && ret == -ETIMEDOUT)
				ret = -EPROTO;
			goto out;
		}
		/* Exactly the bytes still missing, so we never eat into the next message. */
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			ret = -errno;
			goto out;
		}
		if (_take_fds(&msg, fd))
			bad = 1;
		if (n == 0) {
			ret = got ? -EPROTO : -ECONNRESET;
			goto out;
		}
		got += (size_t)n;
	}
	if (bad) {
		ret = -EPROTO;
		goto out;
	}
	*value = (int64_t)le64toh(le);
	return 0;
out:
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	return ret;
}

int vivs_listen(const char *path, int backlog)
{
	struct sockaddr_un sa;
	struct stat st;
	int s, probe, ret;

	ret = _fill_addr(path, &sa);
	if (ret)
		return ret;
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		goto bound;
	if (errno != EADDRINUSE) {
		ret = -errno;
		goto err;
	}
	/* Something is at path. Only a socket nobody answers on is ours to replace. */
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		ret = -EEXIST;
		goto err;
	}
	/* Non-blocking: a live server with a full backlog answers EAGAIN instead of hanging us. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (probe < 0) {
		ret = -errno;
		goto err;
	}
	ret = connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
	close(probe);
	/* Connected, or a full backlog (EAGAIN): a server is alive there. */
	if (ret == 0 || ret == -EAGAIN) {
		ret = -EADDRINUSE;
		goto err;
	}
	if (ret != -ECONNREFUSED && ret != -ENOENT)
		goto err;
	if (ret == -ECONNREFUSED && unlink(path) < 0 && errno != ENOENT) {
		ret = -errno;
		goto err;
	}
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto err;
	}
bound:
	if (listen(s, backlog) < 0) {
		ret = -errno;
		goto err;
	}
	return s;
err:
	close(s);
	return ret;
}

int vivs_accept(int lsock, int timeout_ms)
{
	int64_t deadline = _deadline(timeout_ms);

	for (;;) {
		int ret = _wait(lsock, POLLIN, deadline);
		int fd;

		if (ret)
			return ret;
		fd = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		/* The client may have gone between poll and accept: wait for the next one. */
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
			return -errno;
	}
}

int vivs_server_announce(int sock, const struct vivs_peer *p, unsigned nr_vectors)
{
	if (!p || nr_vectors == 0 || nr_vectors > VIVS_MAX_VECTORS)
		return -EINVAL;
	for (unsigned v = 0; v < nr_vectors; v++)
		if (p->fds[v] < 0)
			return -EINVAL;
	for (unsigned v = 0; v < nr_vectors; v++) {
		int ret = vivs_send(sock, p->id, p->fds[v]);

		if (ret)
			return ret;
	}
	return 0;
}

int vivs_server_announce_gone(int sock, uint16_t id)
{
	return vivs_send(sock, id, -1);
}

int vivs_server_greet(int sock, uint16_t client_id, int shm_fd, const struct vivs_peer *others,
		      size_t nr_others, const int *client_fds, unsigned nr_vectors)
{
	int ret;

	/* Check everything first: a greeting cut short would leave QEMU half set up. */
	if (shm_fd < 0 || nr_vectors > VIVS_MAX_VECTORS || (nr_others && !others) ||
	    (nr_vectors && !client_fds))
		return -EINVAL;
	for (size_t i = 0; i < nr_others; i++) {
		if (others[i].id == client_id)
			return -EINVAL;
		for (unsigned v = 0; v < nr_vectors; v++)
			if (others[i].fds[v] < 0)
				return -EINVAL;
	}
	for (unsigned v = 0; v < nr_vectors; v++)
		if (client_fds[v] < 0)
			return -EINVAL;

	ret = vivs_send(sock, VIVS_PROTO_VERSION, -1);
	if (!ret)
		ret = vivs_send(sock, client_id, -1);
	if (!ret)
		ret = vivs_send(sock, -1, shm_fd);
	for (size_t i = 0; !ret && nr_vectors && i < nr_others; i++)
		ret = vivs_server_announce(sock, &others[i], nr_vectors);
	for (unsigned v = 0; !ret && v < nr_vectors; v++)
		ret = vivs_send(sock, client_id, client_fds[v]);
	return ret;
}

void vivs_client_init(struct vivs_client *c)
{
	memset(c, 0, sizeof(*c));
	c->sock = -1;
	c->shm_fd = -1;
	for (unsigned v = 0; v < VIVS_MAX_VECTORS; v++)
		c->own_fds[v] = -1;
}

static unsigned _nr_fds(const int *fds)
{
	unsigned n = 0;

	while (n < VIVS_MAX_VECTORS && fds[n] >= 0)
		n++;
	return n;
}

static struct vivs_peer *_peer(struct vivs_client *c, uint16_t id)
{
	for (size_t i = 0; i < c->nr_peers; i++)
		if (c->peers[i].id == id)
			return &c->peers[i];
	return NULL;
}

static void _close_fds(int *fds, unsigned n)
{
	for (unsigned v = 0; v < n; v++) {
		if (fds[v] >= 0)
			close(fds[v]);
		fds[v] = -1;
	}
}

/* Applies one post-shm message (value v, fd or -1); consumes fd. 0 or -errno. */
static int _client_handle(struct vivs_client *c, int64_t v, int fd)
{
	struct vivs_peer *p;
	unsigned n;

	if (v < 0 || v > VIVS_MAX_ID) {
		if (fd >= 0)
			close(fd);
		return -EPROTO;
	}
	if (v == c->id) {
		/* The server never announces us leaving to ourselves. */
		if (fd < 0)
			return -EPROTO;
		n = _nr_fds(c->own_fds);
		if (n < c->nr_vectors)
			c->own_fds[n] = fd;
		else
			close(fd); /* a vector we were not configured for */
		return 0;
	}
	p = _peer(c, (uint16_t)v);
	if (fd < 0) {
		/* A peer left (unknown IDs too: it may have left before we learned of it). */
		if (p) {
			_close_fds(p->fds, VIVS_MAX_VECTORS);
			*p = c->peers[--c->nr_peers];
		}
		return 0;
	}
	if (!p) {
		if (c->nr_peers == VIVS_MAX_PEERS) {
			close(fd);
			return -ENOSPC;
		}
		p = &c->peers[c->nr_peers++];
		p->id = (uint16_t)v;
		for (unsigned i = 0; i < VIVS_MAX_VECTORS; i++)
			p->fds[i] = -1;
	}
	n = _nr_fds(p->fds);
	if (n < c->nr_vectors)
		p->fds[n] = fd;
	else
		close(fd);
	return 0;
}

int vivs_client_open(const char *path, struct vivs_client *c, int timeout_ms)
{
	int64_t deadline = _deadline(timeout_ms);
	struct sockaddr_un sa;
	int64_t v;
	int fd, ret;

	vivs_client_init(c);
	ret = _fill_addr(path, &sa);
	if (ret)
		return ret;
	/* Non-blocking so a server with a full backlog can't hold connect past the timeout. */
	c->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->sock < 0) {
		ret = -errno;
		goto err;
	}
	ret = _connect(c->sock, &sa, deadline);
	if (ret)
		goto err;

	ret = vivs_recv(c->sock, &v, &fd, _left_ms(deadline));
	if (ret)
		goto err;
	if (fd >= 0) {
		close(fd);
		ret = -EPROTO;
		goto err;
	}
	if (v != VIVS_PROTO_VERSION) {
		ret = -EPROTONOSUPPORT;
		goto err;
	}

	ret = vivs_recv(c->sock, &v, &fd, _left_ms(deadline));
	if (ret)
		goto err;
	if (fd >= 0 || v < 0 || v > VIVS_MAX_ID) {
		if (fd >= 0)
			close(fd);
		ret = -EPROTO;
		goto err;
	}
	c->id = (uint16_t)v;

	ret = vivs_recv(c->sock, &v, &fd, _left_ms(deadline));
	if (ret)
		goto err;
	if (v != -1 || fd < 0) {
		if (fd >= 0)
			close(fd);
		ret = -EPROTO;
		goto err;
	}
	c->shm_fd = fd;
	return 0;
err:
	vivs_client_close(c);
	return ret;
}

int vivs_client_read_peers(struct vivs_client *c, unsigned nr_vectors, int timeout_ms)
{
	int64_t deadline = _deadline(timeout_ms);

	if (c->sock < 0 || nr_vectors > VIVS_MAX_VECTORS)
		return -EINVAL;
	c->nr_vectors = nr_vectors;
	/* Our own vectors close the greeting; peers announced before them come first. */
	while (_nr_fds(c->own_fds) < nr_vectors) {
		int64_t v;
		int fd, ret;

		ret = vivs_recv(c->sock, &v, &fd, _left_ms(deadline));
		if (ret)
			return ret;
		ret = _client_handle(c, v, fd);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < c->nr_peers; i++)
		if (_nr_fds(c->peers[i].fds) < nr_vectors)
			return -EPROTO;
	return 0;
}

int vivs_client_poll(struct vivs_client *c)
{
	int64_t v;
	int fd, ret;

	if (c->sock < 0)
		return -EINVAL;
	ret = vivs_recv(c->sock, &v, &fd, 0);
	if (ret == -ETIMEDOUT)
		return 0;
	if (ret)
		return ret;
	ret = _client_handle(c, v, fd);
	return ret ? ret : 1;
}

const struct vivs_peer *vivs_client_peer(const struct vivs_client *c, uint16_t id)
{
	return _peer((struct vivs_client *)c, id);
}

void vivs_client_close(struct vivs_client *c)
{
	if (c->sock >= 0)
		close(c->sock);
	if (c->shm_fd >= 0)
		close(c->shm_fd);
	_close_fds(c->own_fds, VIVS_MAX_VECTORS);
	for (size_t i = 0; i < c->nr_peers && i < VIVS_MAX_PEERS; i++)
		_close_fds(c->peers[i].fds, VIVS_MAX_VECTORS);
	vivs_client_init(c);
}

const char *vivs_strerror(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case -ENOENT:
		return "no ivshmem server socket at this path (is the agent running?)";
	case -ECONNREFUSED:
		return "nothing is listening on this socket (stale socket file of a dead agent?)";
	case -EACCES:
		return "no permission to connect to this socket";
	case -ENAMETOOLONG:
		return "socket path is too long for a unix socket";
	case -EPROTONOSUPPORT:
		return "server speaks an ivshmem protocol version other than 0";
	case -EPROTO:
		return "garbled ivshmem message (bad ID, missing or extra fd)";
	case -ECONNRESET:
		return "ivshmem server closed the connection";
	case -ETIMEDOUT:
		return "timed out waiting for the ivshmem server";
	case -EADDRINUSE:
		return "another ivshmem server is listening on this socket";
	case -EEXIST:
		return "path exists and is not a socket; not replacing it";
	case -ENOSPC:
		return "too many ivshmem peers announced";
	default:
		return strerror(-err);
	}
}
