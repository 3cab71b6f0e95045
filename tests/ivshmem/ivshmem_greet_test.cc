// A server thread greets a client over a real unix socket: IDs, the shared memory, the
// doorbells in both directions, later joins and leaves, and the server going away.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "tests/ivshmem/ivshmem_test_util.h"

namespace {

using ivs_test::EventFd;
using ivs_test::IsCloexec;
using ivs_test::IsOpen;
using ivs_test::MemFd;
using ivs_test::SameEventFd;
using ivs_test::SockPath;

// The agent's side of one connection: a region, its own doorbells (peer 0) and the guest's.
struct Agent {
	std::string path;
	int lsock = -1, conn = -1, shm = -1;
	unsigned n;
	vivs_peer host{};
	int guest_fds[VIVS_MAX_VECTORS];
	int greet_ret = -1;
	std::thread thread;

	explicit Agent(const char *name, unsigned nr_vectors) : path(SockPath(name)), n(nr_vectors)
	{
		lsock = vivs_listen(path.c_str(), 4);
		EXPECT_GE(lsock, 0) << vivs_strerror(lsock);
		shm = MemFd(1 << 16);
		host.id = VIVS_HOST_PEER;
		for (unsigned v = 0; v < n; v++) {
			host.fds[v] = EventFd();
			guest_fds[v] = EventFd();
		}
	}
	// Accepts one client (bounded) and greets it as guest id.
	void Serve(uint16_t id, unsigned send_vectors)
	{
		thread = std::thread([this, id, send_vectors] {
			conn = vivs_accept(lsock, 10000);
			if (conn >= 0)
				greet_ret = vivs_server_greet(conn, id, shm, &host, 1, guest_fds,
							      send_vectors);
		});
	}
	void Join()
	{
		if (thread.joinable())
			thread.join();
	}
	~Agent()
	{
		Join();
		for (unsigned v = 0; v < n; v++) {
			close(host.fds[v]);
			close(guest_fds[v]);
		}
		if (conn >= 0)
			close(conn);
		close(shm);
		close(lsock);
		unlink(path.c_str());
	}
};

TEST(IvshmemGreet, TwoVectorsGiveIdsSharedMemoryAndDoorbellsBothWays)
{
	Agent a("greet", 2);
	ASSERT_GE(a.lsock, 0);
	a.Serve(7, 2);
	vivs_client c;
	int ret = vivs_client_open(a.path.c_str(), &c, 5000);
	ASSERT_EQ(ret, 0) << a.path << ": " << vivs_strerror(ret);
	EXPECT_EQ(c.id, 7);
	ASSERT_GE(c.shm_fd, 0);
	ret = vivs_client_read_peers(&c, 2, 5000);
	ASSERT_EQ(ret, 0) << vivs_strerror(ret);
	a.Join();
	ASSERT_EQ(a.greet_ret, 0);

	// The shm fd is the same memory: a write through one mapping shows through the other.
	char *srv = static_cast<char *>(mmap(nullptr, 1 << 16, PROT_READ | PROT_WRITE, MAP_SHARED, a.shm, 0));
	char *cli = static_cast<char *>(mmap(nullptr, 1 << 16, PROT_READ | PROT_WRITE, MAP_SHARED, c.shm_fd, 0));
	ASSERT_NE(srv, MAP_FAILED);
	ASSERT_NE(cli, MAP_FAILED);
	strcpy(srv + 4096, "from host");
	EXPECT_STREQ(cli + 4096, "from host");
	strcpy(cli + 100, "from guest");
	EXPECT_STREQ(srv + 100, "from guest");
	munmap(srv, 1 << 16);
	munmap(cli, 1 << 16);

	// One other peer: the host, with its two doorbells in vector order.
	ASSERT_EQ(c.nr_peers, 1u);
	const vivs_peer *h = vivs_client_peer(&c, VIVS_HOST_PEER);
	ASSERT_NE(h, nullptr);
	EXPECT_EQ(vivs_client_peer(&c, 1), nullptr);
	for (unsigned v = 0; v < 2; v++) {
		EXPECT_TRUE(SameEventFd(h->fds[v], a.host.fds[v])) << "guest rings host vector " << v;
		EXPECT_TRUE(SameEventFd(a.host.fds[v], h->fds[v])) << "host vector " << v << " back";
		EXPECT_TRUE(SameEventFd(a.guest_fds[v], c.own_fds[v])) << "host rings guest vector " << v;
		EXPECT_TRUE(SameEventFd(c.own_fds[v], a.guest_fds[v])) << "guest vector " << v << " back";
		EXPECT_TRUE(IsCloexec(h->fds[v]));
		EXPECT_TRUE(IsCloexec(c.own_fds[v]));
	}
	EXPECT_EQ(h->fds[2], -1);
	EXPECT_EQ(c.own_fds[2], -1);
	EXPECT_TRUE(IsCloexec(c.shm_fd));
	// Vector 0 and 1 are different doorbells: ringing 0 leaves 1 quiet.
	uint64_t one = 1, got = 0;
	ASSERT_EQ(write(h->fds[0], &one, 8), 8);
	EXPECT_EQ(read(a.host.fds[1], &got, 8), -1) << "vector 1 must not see vector 0's ring";
	EXPECT_EQ(read(a.host.fds[0], &got, 8), 8);

	EXPECT_EQ(vivs_client_poll(&c), 0) << "nothing pending after the greeting";
	int fds[] = { c.sock, c.shm_fd, c.own_fds[0], c.own_fds[1], h->fds[0], h->fds[1] };
	vivs_client_close(&c);
	for (int fd : fds)
		EXPECT_FALSE(IsOpen(fd)) << "fd " << fd << " left open by close";
	EXPECT_EQ(c.sock, -1);
}

TEST(IvshmemGreet, JoinAndLeaveAreHandledByPollThenServerGoneIsECONNRESET)
{
	Agent a("join", 2);
	ASSERT_GE(a.lsock, 0);
	a.Serve(1, 2);
	vivs_client c;
	ASSERT_EQ(vivs_client_open(a.path.c_str(), &c, 5000), 0);
	ASSERT_EQ(vivs_client_read_peers(&c, 2, 5000), 0);
	a.Join();
	ASSERT_GE(a.conn, 0);

	vivs_peer p5{};
	p5.id = 5;
	p5.fds[0] = EventFd();
	p5.fds[1] = EventFd();
	ASSERT_EQ(vivs_server_announce(a.conn, &p5, 2), 0);
	// Local unix sockets deliver on send, so both messages are already pending.
	EXPECT_EQ(vivs_client_poll(&c), 1);
	EXPECT_EQ(vivs_client_poll(&c), 1);
	EXPECT_EQ(vivs_client_poll(&c), 0);
	const vivs_peer *q = vivs_client_peer(&c, 5);
	ASSERT_NE(q, nullptr) << "peer 5 joined";
	EXPECT_EQ(c.nr_peers, 2u);
	int q0 = q->fds[0], q1 = q->fds[1];
	EXPECT_TRUE(SameEventFd(q0, p5.fds[0]));
	EXPECT_TRUE(SameEventFd(q1, p5.fds[1]));

	ASSERT_EQ(vivs_server_announce_gone(a.conn, 5), 0);
	EXPECT_EQ(vivs_client_poll(&c), 1);
	EXPECT_EQ(vivs_client_peer(&c, 5), nullptr) << "peer 5 left";
	EXPECT_EQ(c.nr_peers, 1u);
	EXPECT_FALSE(IsOpen(q0)) << "a leaving peer's doorbells are closed";
	EXPECT_FALSE(IsOpen(q1));
	EXPECT_NE(vivs_client_peer(&c, VIVS_HOST_PEER), nullptr) << "the host stays";

	// A leave for a peer we never saw is harmless.
	ASSERT_EQ(vivs_server_announce_gone(a.conn, 999), 0);
	EXPECT_EQ(vivs_client_poll(&c), 1);
	EXPECT_EQ(c.nr_peers, 1u);

	close(a.conn);
	a.conn = -1;
	EXPECT_EQ(vivs_client_poll(&c), -ECONNRESET);
	close(p5.fds[0]);
	close(p5.fds[1]);
	vivs_client_close(&c);
}

TEST(IvshmemGreet, ExtraVectorsFromTheServerAreClosedLikeQemuDoes)
{
	Agent a("extra", 3);
	ASSERT_GE(a.lsock, 0);
	a.Serve(2, 3);
	vivs_client c;
	ASSERT_EQ(vivs_client_open(a.path.c_str(), &c, 5000), 0);
	ASSERT_EQ(vivs_client_read_peers(&c, 2, 5000), 0);
	a.Join();
	ASSERT_EQ(a.greet_ret, 0);
	const vivs_peer *h = vivs_client_peer(&c, VIVS_HOST_PEER);
	ASSERT_NE(h, nullptr);
	EXPECT_EQ(h->fds[2], -1) << "host vector 2 is beyond the region's 2 vectors";
	// The third own vector arrives after the greeting that we stopped reading.
	EXPECT_EQ(vivs_client_poll(&c), 1);
	EXPECT_EQ(c.own_fds[2], -1);
	EXPECT_EQ(vivs_client_poll(&c), 0);
	vivs_client_close(&c);
}

TEST(IvshmemGreet, GreetChecksItsArgumentsBeforeSendingAnything)
{
	int sv[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	int shm = MemFd(4096);
	vivs_peer host{};
	host.id = 3;
	for (int &f : host.fds)
		f = -1;
	host.fds[0] = EventFd();
	int own[VIVS_MAX_VECTORS + 1];
	for (int &f : own)
		f = host.fds[0];
	EXPECT_EQ(vivs_server_greet(sv[0], 3, shm, &host, 1, own, 1), -EINVAL) << "peer with our ID";
	EXPECT_EQ(vivs_server_greet(sv[0], 1, -1, &host, 1, own, 1), -EINVAL) << "no shm fd";
	EXPECT_EQ(vivs_server_greet(sv[0], 1, shm, &host, 1, own, VIVS_MAX_VECTORS + 1), -EINVAL);
	EXPECT_EQ(vivs_server_greet(sv[0], 1, shm, &host, 1, own, 2), -EINVAL)
		<< "host has no fd for vector 1";
	EXPECT_EQ(vivs_server_announce(sv[0], &host, 0), -EINVAL);
	int64_t v;
	int fd;
	EXPECT_EQ(vivs_recv(sv[1], &v, &fd, 0), -ETIMEDOUT) << "a refused greeting sends nothing";
	close(host.fds[0]);
	close(shm);
	close(sv[0]);
	close(sv[1]);
}

} // namespace
