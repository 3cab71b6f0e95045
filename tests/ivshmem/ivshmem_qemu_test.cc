// Interoperability with the real client: QEMU's ivshmem-doorbell device takes our greeting
// (it realises only after the version, ID and shm fd it expects), maps our memfd as BAR2,
// and survives a peer joining and leaving. No guest runs (-S): this checks the protocol, not
// the doorbells, which need guest code (the VM tests).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "tests/ivshmem/ivshmem_test_util.h"

namespace {

using namespace std::chrono_literals;
using ivs_test::EventFd;
using ivs_test::MemFd;
using ivs_test::SockPath;

const char kQemu[] = "/usr/bin/qemu-system-x86_64";

// Waits for pid up to limit, then kills it; returns the wait status (or -1 if killed).
int WaitBounded(pid_t pid, std::chrono::seconds limit)
{
	auto end = std::chrono::steady_clock::now() + limit;
	int st = 0;
	while (std::chrono::steady_clock::now() < end) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		std::this_thread::sleep_for(20ms);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

TEST(IvshmemQemu, DoorbellDeviceAcceptsOurGreetingAndMapsTheRegion)
{
	ASSERT_EQ(access(kQemu, X_OK), 0) << kQemu << " missing: tools/setup installs qemu-system-x86";
	std::string path = SockPath("qemu");
	std::string out = path + ".out";
	int ls = vivs_listen(path.c_str(), 4);
	ASSERT_GE(ls, 0) << vivs_strerror(ls);
	const size_t kRegion = 1 << 20; // ivshmem wants a power of two
	int shm = MemFd(kRegion);
	vivs_peer host{};
	host.id = VIVS_HOST_PEER;
	int own[2];
	for (int v = 0; v < 2; v++) {
		host.fds[v] = EventFd();
		own[v] = EventFd();
	}

	int in[2];
	ASSERT_EQ(pipe2(in, O_CLOEXEC), 0);
	std::string chardev = "socket,path=" + path + ",id=ivs";
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (o < 0 || dup2(in[0], 0) < 0 || dup2(o, 1) < 0 || dup2(o, 2) < 0)
			_exit(126);
		execl(kQemu, kQemu, "-S", "-M", "q35", "-accel", "tcg", "-m", "64", "-display",
		      "none", "-nodefaults", "-monitor", "stdio", "-chardev", chardev.c_str(),
		      "-device", "ivshmem-doorbell,chardev=ivs,vectors=2", (char *)nullptr);
		_exit(127);
	}
	close(in[0]);

	// QEMU blocks in device realisation until it has the version, its ID and the shm fd.
	int conn = vivs_accept(ls, 30000);
	EXPECT_GE(conn, 0) << "QEMU never connected: " << vivs_strerror(conn);
	if (conn >= 0) {
		EXPECT_EQ(vivs_server_greet(conn, 1, shm, &host, 1, own, 2), 0);
		vivs_peer p7{};
		p7.id = 7;
		p7.fds[0] = EventFd();
		p7.fds[1] = EventFd();
		EXPECT_EQ(vivs_server_announce(conn, &p7, 2), 0);
		EXPECT_EQ(vivs_server_announce_gone(conn, 7), 0);
		close(p7.fds[0]);
		close(p7.fds[1]);
	}
	const char cmds[] = "info pci\nquit\n";
	EXPECT_EQ(write(in[1], cmds, sizeof(cmds) - 1), (ssize_t)sizeof(cmds) - 1);
	close(in[1]);
	int st = WaitBounded(pid, 30s);

	std::ifstream f(out);
	std::stringstream ss;
	ss << f.rdbuf();
	std::string log = ss.str();
	EXPECT_NE(st, -1) << "QEMU did not quit; output:\n" << log;
	EXPECT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		<< "QEMU failed (status " << st << "):\n" << log;
	size_t dev = log.find("1af4:1110");
	ASSERT_NE(dev, std::string::npos) << "no ivshmem device in info pci:\n" << log;
	// BAR2 is the shared memory; HMP prints its size - 2 in brackets.
	EXPECT_NE(log.find("BAR2: 64 bit prefetchable memory at", dev), std::string::npos) << log;
	EXPECT_NE(log.find("[0x000ffffe]", dev), std::string::npos)
		<< "BAR2 should be our 1 MiB memfd:\n" << log;
	// QEMU's errors about the device quote its option string.
	EXPECT_EQ(log.find("-device ivshmem-doorbell"), std::string::npos) << "QEMU complained:\n"
									    << log;

	if (conn >= 0)
		close(conn);
	for (int v = 0; v < 2; v++) {
		close(host.fds[v]);
		close(own[v]);
	}
	close(shm);
	close(ls);
	unlink(path.c_str());
	unlink(out.c_str());
}

} // namespace
