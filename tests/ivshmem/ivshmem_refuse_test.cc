// A client facing a bad or silent server: every refusal has its own code and nothing hangs.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <future>
#include <thread>

#include "tests/ivshmem/ivshmem_test_util.h"

namespace {

using namespace std::chrono_literals;
using ivs_test::EventFd;
using ivs_test::IsOpen;
using ivs_test::MemFd;
using ivs_test::SockPath;

// A server that accepts one client (bounded), runs script on the connection, then closes it.
class Scripted {
public:
	Scripted(const char *name, std::function<void(int conn)> script) : path_(SockPath(name))
	{
		lsock_ = vivs_listen(path_.c_str(), 4);
		EXPECT_GE(lsock_, 0) << vivs_strerror(lsock_);
		thread_ = std::thread([this, script] {
			int conn = vivs_accept(lsock_, 10000);
			if (conn < 0)
				return;
			script(conn);
			close(conn);
		});
	}
	~Scripted()
	{
		thread_.join();
		close(lsock_);
		unlink(path_.c_str());
	}
	const char *path() const { return path_.c_str(); }

private:
	std::string path_;
	int lsock_;
	std::thread thread_;
};

// Sends the first three greeting messages correctly.
void SendHead(int conn, uint16_t id, int shm)
{
	EXPECT_EQ(vivs_send(conn, 0, -1), 0);
	EXPECT_EQ(vivs_send(conn, id, -1), 0);
	EXPECT_EQ(vivs_send(conn, -1, shm), 0);
}

int OpenAndCheckClosed(const char *path, int timeout_ms = 5000)
{
	vivs_client c;
	int ret = vivs_client_open(path, &c, timeout_ms);
	if (ret) {
		EXPECT_EQ(c.sock, -1) << "a failed open holds no socket";
		EXPECT_EQ(c.shm_fd, -1);
	} else {
		vivs_client_close(&c);
	}
	return ret;
}

TEST(IvshmemRefuse, VersionOtherThanZero)
{
	Scripted s("ver", [](int conn) { vivs_send(conn, 1, -1); });
	EXPECT_EQ(OpenAndCheckClosed(s.path()), -EPROTONOSUPPORT);
}

TEST(IvshmemRefuse, MissingShmFd)
{
	Scripted s("noshm", [](int conn) {
		vivs_send(conn, 0, -1);
		vivs_send(conn, 1, -1);
		vivs_send(conn, -1, -1);
	});
	EXPECT_EQ(OpenAndCheckClosed(s.path()), -EPROTO);
}

TEST(IvshmemRefuse, ShmMessageWithoutMinusOne)
{
	int shm = MemFd(4096);
	Scripted s("notminus1", [shm](int conn) {
		vivs_send(conn, 0, -1);
		vivs_send(conn, 1, -1);
		vivs_send(conn, 2, shm);
	});
	EXPECT_EQ(OpenAndCheckClosed(s.path()), -EPROTO);
	close(shm);
}

TEST(IvshmemRefuse, IdOutOfRangeOrWithAnFd)
{
	{
		Scripted s("bigid", [](int conn) {
			vivs_send(conn, 0, -1);
			vivs_send(conn, 70000, -1);
		});
		EXPECT_EQ(OpenAndCheckClosed(s.path()), -EPROTO);
	}
	int e = EventFd();
	Scripted s("idfd", [e](int conn) {
		vivs_send(conn, 0, -1);
		vivs_send(conn, 1, e);
	});
	EXPECT_EQ(OpenAndCheckClosed(s.path()), -EPROTO);
	close(e);
}

TEST(IvshmemRefuse, ServerClosingEarlyIsECONNRESETNotAHang)
{
	{
		Scripted s("close0", [](int) {});
		EXPECT_EQ(OpenAndCheckClosed(s.path(), -1), -ECONNRESET) << "no timeout: EOF must end it";
	}
	Scripted s("close1", [](int conn) { vivs_send(conn, 0, -1); });
	EXPECT_EQ(OpenAndCheckClosed(s.path(), -1), -ECONNRESET);
}

TEST(IvshmemRefuse, ServerClosingDuringPeersIsECONNRESET)
{
	int shm = MemFd(4096);
	int e = EventFd();
	Scripted s("closepeers", [shm, e](int conn) {
		SendHead(conn, 1, shm);
		vivs_send(conn, 0, e); // host vector 0 of 2, then nothing
	});
	vivs_client c;
	ASSERT_EQ(vivs_client_open(s.path(), &c, 5000), 0);
	EXPECT_EQ(vivs_client_read_peers(&c, 2, -1), -ECONNRESET);
	vivs_client_close(&c);
	close(e);
	close(shm);
}

TEST(IvshmemRefuse, SilentServerTimesOutWithinBounds)
{
	std::promise<void> done;
	std::shared_future<void> done_f = done.get_future().share();
	Scripted s("silent", [done_f](int conn) {
		// Keep the connection open and quiet until the client has given up (bounded).
		done_f.wait_for(10s);
		(void)conn;
	});
	auto t0 = std::chrono::steady_clock::now();
	EXPECT_EQ(OpenAndCheckClosed(s.path(), 100), -ETIMEDOUT);
	auto took = std::chrono::steady_clock::now() - t0;
	EXPECT_GE(took, 90ms);
	EXPECT_LT(took, 3s) << "timeout not honoured";
	done.set_value();
}

TEST(IvshmemRefuse, MissingPeerVectorsTimeOutOrAreEPROTO)
{
	int shm = MemFd(4096);
	int e = EventFd();
	std::promise<void> done;
	std::shared_future<void> done_f = done.get_future().share();
	{
		// The head, then silence: read_peers gives up on time.
		Scripted s("nopeers", [&, done_f](int conn) {
			SendHead(conn, 1, shm);
			done_f.wait_for(10s);
		});
		vivs_client c;
		ASSERT_EQ(vivs_client_open(s.path(), &c, 5000), 0);
		auto t0 = std::chrono::steady_clock::now();
		EXPECT_EQ(vivs_client_read_peers(&c, 2, 100), -ETIMEDOUT);
		EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
		done.set_value();
		vivs_client_close(&c);
	}
	{
		// Host peer with one vector where the region says two.
		Scripted s("fewvec", [&](int conn) {
			SendHead(conn, 1, shm);
			vivs_send(conn, 0, e);
			vivs_send(conn, 1, e);
			vivs_send(conn, 1, e);
		});
		vivs_client c;
		ASSERT_EQ(vivs_client_open(s.path(), &c, 5000), 0);
		EXPECT_EQ(vivs_client_read_peers(&c, 2, 5000), -EPROTO);
		vivs_client_close(&c);
	}
	{
		Scripted s("negpeer", [&](int conn) {
			SendHead(conn, 1, shm);
			vivs_send(conn, -5, e);
		});
		vivs_client c;
		ASSERT_EQ(vivs_client_open(s.path(), &c, 5000), 0);
		EXPECT_EQ(vivs_client_read_peers(&c, 1, 5000), -EPROTO);
		vivs_client_close(&c);
	}
	{
		// "We left", said to ourselves.
		Scripted s("selfgone", [&](int conn) {
			SendHead(conn, 1, shm);
			vivs_send(conn, 1, -1);
		});
		vivs_client c;
		ASSERT_EQ(vivs_client_open(s.path(), &c, 5000), 0);
		EXPECT_EQ(vivs_client_read_peers(&c, 1, 5000), -EPROTO);
		vivs_client_close(&c);
	}
	close(e);
	close(shm);
}

TEST(IvshmemRefuse, TooManyPeersIsENOSPC)
{
	int shm = MemFd(4096);
	int e = EventFd();
	Scripted s("manypeers", [&](int conn) {
		SendHead(conn, 1000, shm);
		for (unsigned p = 0; p <= VIVS_MAX_PEERS; p++)
			vivs_send(conn, p, e);
	});
	vivs_client c;
	ASSERT_EQ(vivs_client_open(s.path(), &c, 5000), 0);
	EXPECT_EQ(vivs_client_read_peers(&c, 1, 5000), -ENOSPC);
	EXPECT_EQ(c.nr_peers, VIVS_MAX_PEERS);
	vivs_client_close(&c);
	close(e);
	close(shm);
}

TEST(IvshmemRefuse, ReadPeersArgumentsAreChecked)
{
	vivs_client c;
	EXPECT_EQ(vivs_client_open("", &c, 100), -EINVAL);
	EXPECT_EQ(vivs_client_read_peers(&c, 1, 100), -EINVAL) << "not open";
	EXPECT_EQ(vivs_client_poll(&c), -EINVAL);
	int shm = MemFd(4096);
	Scripted s("args", [&](int conn) { SendHead(conn, 1, shm); });
	ASSERT_EQ(vivs_client_open(s.path(), &c, 5000), 0);
	EXPECT_EQ(vivs_client_read_peers(&c, VIVS_MAX_VECTORS + 1, 100), -EINVAL);
	vivs_client_close(&c);
	close(shm);
}

} // namespace
