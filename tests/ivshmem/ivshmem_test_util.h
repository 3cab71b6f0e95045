// Helpers for the ivshmem protocol tests: socket paths, eventfds, a memfd, fd checks.
#ifndef TESTS_IVSHMEM_IVSHMEM_TEST_UTIL_H
#define TESTS_IVSHMEM_IVSHMEM_TEST_UTIL_H

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "vmm-glue/ivshmem_proto.h"

namespace ivs_test {

// Bazel's $TEST_TMPDIR is usually longer than a unix socket path may be (108 bytes), so the
// sockets are reached through a short symlink in /tmp that points into $TEST_TMPDIR: the
// files live under $TEST_TMPDIR and the paths stay short.
class SockDir {
public:
	static const std::string &Get()
	{
		static SockDir d;
		return d.path_;
	}
	~SockDir()
	{
		if (!link_.empty())
			unlink(link_.c_str());
		if (!top_.empty())
			rmdir(top_.c_str());
	}

private:
	SockDir()
	{
		const char *t = getenv("TEST_TMPDIR");
		std::string tmp = t ? t : "/tmp";
		if (tmp.size() + 32 < sizeof(sockaddr_un{}.sun_path)) {
			path_ = tmp;
			return;
		}
		char top[] = "/tmp/vivs-XXXXXX";
		if (!mkdtemp(top)) {
			perror("mkdtemp");
			abort();
		}
		top_ = top;
		link_ = top_ + "/t";
		if (symlink(tmp.c_str(), link_.c_str()) < 0) {
			perror("symlink");
			abort();
		}
		path_ = link_;
	}
	std::string path_, top_, link_;
};

// A fresh socket path, unique within this test binary.
inline std::string SockPath(const std::string &name)
{
	static int seq;
	return SockDir::Get() + "/" + std::to_string(getpid()) + "-" + std::to_string(++seq) +
	       "-" + name;
}

inline int EventFd()
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	EXPECT_GE(fd, 0);
	return fd;
}

// One write on a and one read on b of the same eventfd (two descriptors of one object).
inline bool SameEventFd(int a, int b)
{
	uint64_t one = 1, got = 0;
	if (write(a, &one, sizeof(one)) != (ssize_t)sizeof(one))
		return false;
	if (read(b, &got, sizeof(got)) != (ssize_t)sizeof(got))
		return false;
	return got == 1;
}

inline bool IsCloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);
	return fl >= 0 && (fl & FD_CLOEXEC);
}

inline bool IsOpen(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

inline int MemFd(size_t size)
{
	int fd = memfd_create("ivs-test", MFD_CLOEXEC);
	EXPECT_GE(fd, 0);
	EXPECT_EQ(ftruncate(fd, (off_t)size), 0);
	return fd;
}

} // namespace ivs_test

#endif
