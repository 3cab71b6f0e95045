/* SPDX-License-Identifier: Apache-2.0 */
/*
 * QEMU's ivshmem-server protocol (docs/specs/ivshmem-spec.txt), both ends.
 *
 * One unix stream socket per client; only the server talks. Each message is one sendmsg of
 * an 8-byte little-endian int64, with at most one fd (SCM_RIGHTS). On connect the server
 * sends, in order:
 *   0                      protocol version
 *   ID                     the client's own peer ID (0..65535)
 *   -1 + shm fd            the shared memory
 *   P x N, each + eventfd  for every other peer P: its doorbells for vectors 0..N-1
 *   ID x N, each + eventfd the client's own doorbells, vectors 0..N-1
 * Later: a peer ID with an fd is one vector of a peer that joins (N messages per peer),
 * a peer ID without an fd is a peer that left.
 *
 * In this project the host agent is the server, gives each guest its own region, and is
 * itself the one other peer every guest sees (VIVS_HOST_PEER, whose N eventfds are the host
 * poller's doorbells: the guest rings host vector q for queue pair q). Guests get IDs >= 1.
 * Clients are QEMU's ivshmem-doorbell device and our own guest processes (struct
 * vivs_client below).
 *
 * Functions return 0 (or an fd) or -errno, as documented on each.
 */
#ifndef VIVS_IVSHMEM_PROTO_H
#define VIVS_IVSHMEM_PROTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VIVS_PROTO_VERSION 0
#define VIVS_MAX_VECTORS 64u
#define VIVS_MAX_PEERS 16u   /* other peers a vivs_client tracks */
#define VIVS_MAX_ID 0xffffu  /* IDs are 16 bits: the doorbell register has 16 bits for them */
#define VIVS_HOST_PEER 0u    /* the agent's own peer ID */

/* A peer and its doorbells. In a vivs_client, vectors not received yet are -1. */
struct vivs_peer {
	uint16_t id;
	int fds[VIVS_MAX_VECTORS];
};

/* The client's view. Every fd here is owned by the struct (vivs_client_close closes them). */
struct vivs_client {
	int sock;
	uint16_t id;                    /* our own peer ID */
	int shm_fd;                     /* the region */
	unsigned nr_vectors;            /* N, set by vivs_client_read_peers */
	int own_fds[VIVS_MAX_VECTORS];  /* our doorbells (peers ring these), -1 until received */
	size_t nr_peers;
	struct vivs_peer peers[VIVS_MAX_PEERS];
};

/*
 * Sends one message: value, and fd unless fd < 0. Never raises SIGPIPE. Returns 0, -EPIPE or
 * -ECONNRESET (the client left), -EAGAIN (non-blocking socket full, nothing sent),
 * -ETIMEDOUT (half sent and the client stopped reading: drop the connection), -EBADF, or
 * -errno of sendmsg.
 */
int vivs_send(int sock, int64_t value, int fd);

/*
 * Receives one message. *fd is the received fd (O_CLOEXEC, owned by the caller) or -1.
 * timeout_ms < 0 waits forever, 0 only takes what is already there. Returns 0, -ECONNRESET
 * (EOF before a message), -EPROTO (a truncated message, more than one fd, or other control
 * data), -ETIMEDOUT, or -errno of poll/recvmsg. On error no fd is left open.
 */
int vivs_recv(int sock, int64_t *value, int *fd, int timeout_ms);

/*
 * Server: a listening unix stream socket at path (CLOEXEC). A socket file left by a dead
 * server is replaced. Returns the fd, -EADDRINUSE (a server is live there), -EEXIST (path
 * exists and is not a socket: left alone), -ENAMETOOLONG, -EINVAL, or -errno.
 */
int vivs_listen(const char *path, int backlog);

/* Server: the next client (CLOEXEC), waiting up to timeout_ms (< 0: forever). Returns the fd,
 * -ETIMEDOUT or -errno of accept. */
int vivs_accept(int lsock, int timeout_ms);

/*
 * Server: the whole greeting for a new client: version, client_id, shm_fd, every peer in
 * others (nr_vectors fds each), then the client's own nr_vectors fds. Arguments are checked
 * before anything is sent. Returns 0, -EINVAL (bad fd, too many vectors, a peer with the
 * client's ID) or an error of vivs_send.
 */
int vivs_server_greet(int sock, uint16_t client_id, int shm_fd, const struct vivs_peer *others,
		      size_t nr_others, const int *client_fds, unsigned nr_vectors);
/* Server: peer p joined (nr_vectors >= 1 messages). Returns 0, -EINVAL or a vivs_send error. */
int vivs_server_announce(int sock, const struct vivs_peer *p, unsigned nr_vectors);
/* Server: peer id left. Returns 0 or a vivs_send error. */
int vivs_server_announce_gone(int sock, uint16_t id);

/*
 * Client: connects to the server at path and reads the version, the own ID and the shm fd,
 * all within timeout_ms (< 0: forever; a full server backlog counts too). c is initialised
 * in every case; on failure it holds no fds. c->sock is non-blocking (poll it for POLLIN). Returns 0, -ENOENT (no socket at path), -ECONNREFUSED (nobody listening),
 * -EACCES (no permission), -ENAMETOOLONG, -EPROTONOSUPPORT (version is not 0), -EPROTO
 * (garbled greeting, e.g. no shm fd), -ECONNRESET (server closed), -ETIMEDOUT, or -errno.
 */
int vivs_client_open(const char *path, struct vivs_client *c, int timeout_ms);

/*
 * Client, after mapping the region (which tells it N): reads the rest of the greeting until
 * it holds its own N doorbells; every peer announced before them must then have N too.
 * Extra vectors beyond N are closed, as QEMU does. Returns 0, -EINVAL (N too large, not
 * open), -EPROTO (bad ID, or a peer with fewer than N vectors), -ENOSPC (more than
 * VIVS_MAX_PEERS peers), or an error of vivs_recv.
 */
int vivs_client_read_peers(struct vivs_client *c, unsigned nr_vectors, int timeout_ms);

/*
 * Client, after vivs_client_read_peers: handles one pending join/leave message without
 * blocking. Returns 0 (nothing pending), 1 (handled one), -ECONNRESET (server gone),
 * -EPROTO, -ENOSPC, -EINVAL (not open) or -errno.
 */
int vivs_client_poll(struct vivs_client *c);

/* The peer with this ID, or NULL. Its fds are -1 for vectors not received yet. */
const struct vivs_peer *vivs_client_peer(const struct vivs_client *c, uint16_t id);

/* A client with nothing open (socket and fds -1): safe to close. */
void vivs_client_init(struct vivs_client *c);

/* Closes the socket and every fd received; c can be opened again. */
void vivs_client_close(struct vivs_client *c);

/* What an error of this file means, worded for a message that also names the socket path. */
const char *vivs_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* VIVS_IVSHMEM_PROTO_H */
