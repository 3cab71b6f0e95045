// Message framing over a unix stream socketpair: the wire format, fd passing, and every way a
// message can be broken (extra fds, truncation, EOF, silence, signals).
#include <gtest/gtest.h>

#include <dirent.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "tests/ivshmem/ivshmem_test_util.h"

namespace {

using namespace std::chrono_literals;
using ivs_test::EventFd;
using ivs_test::IsCloexec;
using ivs_test::SameEventFd;

struct Pair : testing::Test {
	int sv[2] = { -1, -1 };
	void SetUp() override { ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0); }
	void TearDown() override
	{
		for (int fd : sv)
			if (fd >= 0)
				close(fd);
	}
};

int CountOpenFds()
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

TEST_F(Pair, ValuesRoundTripAsLittleEndianInt64)
{
	const int64_t values[] = { 0, 1, -1, 65535, INT64_MAX, INT64_MIN, 0x0102030405060708 };
	for (int64_t v : values) {
		ASSERT_EQ(vivs_send(sv[0], v, -1), 0);
		int64_t got = 0;
		int fd = 99;
		ASSERT_EQ(vivs_recv(sv[1], &got, &fd, 1000), 0);
		EXPECT_EQ(got, v);
		EXPECT_EQ(fd, -1) << "no fd sent, none received";
	}
	ASSERT_EQ(vivs_send(sv[0], 0x0102030405060708, -1), 0);
	unsigned char raw[8];
	ASSERT_EQ(read(sv[1], raw, 8), 8);
	for (int i = 0; i < 8; i++)
		EXPECT_EQ(raw[i], 8 - i) << "byte " << i << ": the wire is little-endian";
}

TEST_F(Pair, FdArrivesCloexecAndIsTheSameObject)
{
	int e = EventFd();
	ASSERT_EQ(vivs_send(sv[0], 42, e), 0);
	int64_t v;
	int fd = -1;
	ASSERT_EQ(vivs_recv(sv[1], &v, &fd, 1000), 0);
	EXPECT_EQ(v, 42);
	ASSERT_GE(fd, 0);
	EXPECT_NE(fd, e);
	EXPECT_TRUE(IsCloexec(fd));
	EXPECT_TRUE(SameEventFd(e, fd));
	close(fd);
	close(e);
}

TEST_F(Pair, BackToBackMessagesKeepTheirOwnFds)
{
	int e1 = EventFd(), e2 = EventFd();
	ASSERT_EQ(vivs_send(sv[0], 1, e1), 0);
	ASSERT_EQ(vivs_send(sv[0], 2, -1), 0);
	ASSERT_EQ(vivs_send(sv[0], 3, e2), 0);
	int64_t v;
	int fd;
	ASSERT_EQ(vivs_recv(sv[1], &v, &fd, 1000), 0);
	EXPECT_EQ(v, 1);
	EXPECT_TRUE(SameEventFd(e1, fd));
	close(fd);
	ASSERT_EQ(vivs_recv(sv[1], &v, &fd, 1000), 0);
	EXPECT_EQ(v, 2);
	EXPECT_EQ(fd, -1) << "the next message's fd must not move forward";
	ASSERT_EQ(vivs_recv(sv[1], &v, &fd, 1000), 0);
	EXPECT_EQ(v, 3);
	EXPECT_TRUE(SameEventFd(e2, fd));
	close(fd);
	close(e1);
	close(e2);
}

TEST_F(Pair, TwoFdsInOneMessageIsEPROTOAndLeaksNothing)
{
	int e1 = EventFd(), e2 = EventFd();
	int before = CountOpenFds();
	uint64_t le = 7;
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		cmsghdr align;
	} ctl{};
	iovec iov = { &le, sizeof(le) };
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
	int two[2] = { e1, e2 };
	memcpy(CMSG_DATA(cm), two, sizeof(two));
	ASSERT_EQ(sendmsg(sv[0], &msg, 0), 8);
	int64_t v;
	int fd = 123;
	EXPECT_EQ(vivs_recv(sv[1], &v, &fd, 1000), -EPROTO);
	EXPECT_EQ(fd, -1);
	EXPECT_EQ(CountOpenFds(), before) << "both received fds must be closed";
	close(e1);
	close(e2);
}

TEST_F(Pair, TruncatedMessageIsEPROTO)
{
	ASSERT_EQ(write(sv[0], "abcd", 4), 4);
	ASSERT_EQ(shutdown(sv[0], SHUT_WR), 0);
	int64_t v;
	int fd;
	EXPECT_EQ(vivs_recv(sv[1], &v, &fd, 1000), -EPROTO) << "4 bytes then EOF";
}

TEST_F(Pair, HalfAMessageThenSilenceIsEPROTOOnTime)
{
	ASSERT_EQ(write(sv[0], "abc", 3), 3);
	int64_t v;
	int fd;
	auto t0 = std::chrono::steady_clock::now();
	EXPECT_EQ(vivs_recv(sv[1], &v, &fd, 100), -EPROTO);
	EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST_F(Pair, MessageSplitAcrossWritesIsReassembled)
{
	int e = EventFd();
	uint64_t le = 0x1122334455667788ull;
	// First 3 bytes carry the fd, the other 5 follow in a separate write.
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		cmsghdr align;
	} ctl{};
	iovec iov = { &le, 3 };
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &e, sizeof(int));
	ASSERT_EQ(sendmsg(sv[0], &msg, 0), 3);
	ASSERT_EQ(write(sv[0], reinterpret_cast<char *>(&le) + 3, 5), 5);
	int64_t v;
	int fd;
	ASSERT_EQ(vivs_recv(sv[1], &v, &fd, 1000), 0);
	EXPECT_EQ((uint64_t)v, 0x1122334455667788ull);
	EXPECT_TRUE(SameEventFd(e, fd));
	close(fd);
	close(e);
}

TEST_F(Pair, EofIsECONNRESETAndSilenceIsETIMEDOUT)
{
	int64_t v;
	int fd;
	auto t0 = std::chrono::steady_clock::now();
	EXPECT_EQ(vivs_recv(sv[1], &v, &fd, 50), -ETIMEDOUT);
	auto took = std::chrono::steady_clock::now() - t0;
	EXPECT_GE(took, 45ms);
	EXPECT_LT(took, 3s);
	EXPECT_EQ(vivs_recv(sv[1], &v, &fd, 0), -ETIMEDOUT) << "0 ms only looks";
	close(sv[0]);
	sv[0] = -1;
	EXPECT_EQ(vivs_recv(sv[1], &v, &fd, -1), -ECONNRESET) << "EOF with no timeout returns";
}

TEST_F(Pair, SendToAGoneClientIsEPIPEWithoutSIGPIPE)
{
	close(sv[1]);
	sv[1] = -1;
	// Without MSG_NOSIGNAL the default SIGPIPE action would kill the test here.
	EXPECT_EQ(vivs_send(sv[0], 1, -1), -EPIPE);
	EXPECT_EQ(vivs_send(-1, 1, -1), -EBADF);
}

void OnAlarm(int) {}

TEST_F(Pair, SignalsDoNotCutTheTimeoutShort)
{
	struct sigaction sa {}, old{};
	sa.sa_handler = OnAlarm;
	sa.sa_flags = 0; // no SA_RESTART: poll returns EINTR
	ASSERT_EQ(sigaction(SIGALRM, &sa, &old), 0);
	itimerval it{};
	it.it_value.tv_usec = 20000;
	ASSERT_EQ(setitimer(ITIMER_REAL, &it, nullptr), 0);
	int64_t v;
	int fd;
	auto t0 = std::chrono::steady_clock::now();
	EXPECT_EQ(vivs_recv(sv[1], &v, &fd, 150), -ETIMEDOUT) << "EINTR must be retried";
	auto took = std::chrono::steady_clock::now() - t0;
	EXPECT_GE(took, 140ms) << "the signal at 20 ms must not end the wait";
	EXPECT_LT(took, 3s) << "nor restart it from scratch forever";
	sigaction(SIGALRM, &old, nullptr);
}

} // namespace
