// The server socket: one live server per path, stale socket files reused, other files left
// alone; and the client's distinct errors for a missing, dead or forbidden socket.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "tests/ivshmem/ivshmem_test_util.h"

namespace {

using ivs_test::SockPath;

TEST(IvshmemListen, SecondServerOnALivePathIsEADDRINUSE)
{
	std::string path = SockPath("live");
	int a = vivs_listen(path.c_str(), 4);
	ASSERT_GE(a, 0) << vivs_strerror(a);
	EXPECT_EQ(vivs_listen(path.c_str(), 4), -EADDRINUSE);
	// The live server's socket file survived the attempt: a client still reaches it.
	vivs_client c;
	EXPECT_EQ(vivs_client_open(path.c_str(), &c, 50), -ETIMEDOUT)
		<< "connected (then timed out waiting for a greeting nobody sends)";
	int conn = vivs_accept(a, 1000);
	EXPECT_GE(conn, 0) << "the probe and the client queued on the first server";
	if (conn >= 0)
		close(conn);
	close(a);
	unlink(path.c_str());
}

TEST(IvshmemListen, StaleSocketFileIsReplaced)
{
	std::string path = SockPath("stale");
	int a = vivs_listen(path.c_str(), 4);
	ASSERT_GE(a, 0);
	close(a); // a dead server: its socket file stays behind
	struct stat st;
	ASSERT_EQ(stat(path.c_str(), &st), 0);
	ASSERT_TRUE(S_ISSOCK(st.st_mode));
	vivs_client c;
	EXPECT_EQ(vivs_client_open(path.c_str(), &c, 1000), -ECONNREFUSED);
	int b = vivs_listen(path.c_str(), 4);
	EXPECT_GE(b, 0) << "stale socket not reused: " << vivs_strerror(b);
	EXPECT_EQ(vivs_accept(b, 0), -ETIMEDOUT) << "nobody queued on the new server yet";
	close(b);
	unlink(path.c_str());
}

TEST(IvshmemListen, NonSocketFileIsLeftAlone)
{
	std::string path = SockPath("file");
	int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, "keep", 4), 4);
	close(fd);
	EXPECT_EQ(vivs_listen(path.c_str(), 4), -EEXIST);
	struct stat st;
	ASSERT_EQ(stat(path.c_str(), &st), 0) << "the file must still be there";
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(st.st_size, 4);
	unlink(path.c_str());
}

TEST(IvshmemListen, BadPaths)
{
	std::string longp(200, 'x');
	EXPECT_EQ(vivs_listen(longp.c_str(), 4), -ENAMETOOLONG);
	EXPECT_EQ(vivs_listen("", 4), -EINVAL);
	EXPECT_EQ(vivs_listen(nullptr, 4), -EINVAL);
	vivs_client c;
	EXPECT_EQ(vivs_client_open(longp.c_str(), &c, 100), -ENAMETOOLONG);
	EXPECT_EQ(vivs_listen("/nonexistent-dir-vivs/sock", 4), -ENOENT);
}

TEST(IvshmemClient, NoSuchSocketIsENOENT)
{
	std::string path = SockPath("missing");
	vivs_client c;
	int ret = vivs_client_open(path.c_str(), &c, 1000);
	EXPECT_EQ(ret, -ENOENT);
	EXPECT_NE(std::string(vivs_strerror(ret)).find("no ivshmem server socket"), std::string::npos);
	EXPECT_EQ(c.sock, -1);
}

// Connecting needs write permission on the socket file. Root passes every mode check through
// CAP_DAC_OVERRIDE, so the attempt runs in a child that drops that capability first (setuid
// to another user is not possible in Bazel's sandbox namespace).
TEST(IvshmemClient, ForbiddenSocketIsEACCES)
{
	std::string path = SockPath("forbidden");
	int ls = vivs_listen(path.c_str(), 4);
	ASSERT_GE(ls, 0);
	ASSERT_EQ(chmod(path.c_str(), 0), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		__user_cap_header_struct h{};
		__user_cap_data_struct d[2]{};
		h.version = _LINUX_CAPABILITY_VERSION_3;
		if (syscall(SYS_capget, &h, d))
			_exit(100);
		d[0].effective &= ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
		if (syscall(SYS_capset, &h, d))
			_exit(100);
		vivs_client c;
		int r = vivs_client_open(path.c_str(), &c, 1000);
		_exit(r < 0 && -r < 100 ? -r : 101);
	}
	int st = 0;
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_NE(WEXITSTATUS(st), 100) << "could not drop CAP_DAC_OVERRIDE";
	int ret = -WEXITSTATUS(st);
	EXPECT_EQ(ret, -EACCES) << vivs_strerror(ret);
	close(ls);
	unlink(path.c_str());
}

// A server that never accepts fills its backlog; connecting must still honour the timeout,
// and a second server must still see the first one as live.
TEST(IvshmemClient, FullBacklogTimesOutAndStillCountsAsLive)
{
	std::string path = SockPath("backlog");
	int ls = vivs_listen(path.c_str(), 0);
	ASSERT_GE(ls, 0);
	std::vector<int> queued;
	bool full = false;
	// Fill the backlog without the code under test (Linux queues backlog + 1).
	for (int i = 0; i < 8; i++) {
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		ASSERT_GE(s, 0);
		sockaddr_un sa{};
		sa.sun_family = AF_UNIX;
		strcpy(sa.sun_path, path.c_str());
		int r = connect(s, reinterpret_cast<sockaddr *>(&sa), sizeof(sa));
		int e = errno;
		queued.push_back(s);
		if (r < 0) {
			ASSERT_EQ(e, EAGAIN) << "expected a full backlog";
			full = true;
			break;
		}
	}
	ASSERT_TRUE(full) << "the backlog never filled; the test would prove nothing";
	vivs_client c;
	auto t0 = std::chrono::steady_clock::now();
	EXPECT_EQ(vivs_client_open(path.c_str(), &c, 100), -ETIMEDOUT);
	auto took = std::chrono::steady_clock::now() - t0;
	EXPECT_GE(took, std::chrono::milliseconds(90));
	EXPECT_LT(took, std::chrono::seconds(3)) << "connect must not block past the timeout";
	EXPECT_EQ(vivs_listen(path.c_str(), 4), -EADDRINUSE) << "a busy server is still alive";
	for (int s : queued)
		close(s);
	close(ls);
	unlink(path.c_str());
}

} // namespace
