// The worker tests' handle on an op running in the agent: tests/e2e/work_testlib.c's
// work_block writes a byte to BASE.started when it starts and waits for one on
// BASE.release, so a test knows by state, not by time, that the op is still running.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>

#include "agent_util.h"

namespace e2e {

class BlockedOp {
      public:
	explicit BlockedOp(const std::string &base) : base_(base)
	{
		mkfifo((base + ".started").c_str(), 0600);
		mkfifo((base + ".release").c_str(), 0600);
		// Non-blocking: open now; no writer yet is not a hang-up for a FIFO.
		started_fd_ = open((base + ".started").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	}
	~BlockedOp()
	{
		if (started_fd_ >= 0)
			close(started_fd_);
	}
	const std::string &path() const { return base_; }
	// true once an op has started (one byte per op), within timeout_s.
	bool WaitStarted(int timeout_s = 30)
	{
		time_t end = time(nullptr) + timeout_s;
		while (time(nullptr) <= end) {
			char c;
			if (read(started_fd_, &c, 1) == 1)
				return true;
			pollfd p = {started_fd_, POLLIN, 0};
			poll(&p, 1, 200);
		}
		return false;
	}
	// Lets one running op go: waits (up to timeout_s) for it to open BASE.release.
	bool Release(int timeout_s = 30)
	{
		time_t end = time(nullptr) + timeout_s;
		while (time(nullptr) <= end) {
			int fd = open((base_ + ".release").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
			if (fd >= 0) {
				char c = 'r';
				ssize_t n = write(fd, &c, 1);
				close(fd);
				if (n != 1)
					fprintf(stderr, "BlockedOp::Release: write: %s\n", strerror(errno));
				return n == 1;
			}
			usleep(10000); // ENXIO: the op has not opened its end yet; look again
		}
		return false;
	}

      private:
	std::string base_;
	int started_fd_ = -1;
};

inline std::string ReadFile(const std::string &path)
{
	std::ifstream f(path);
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

// Polls a log-like text until it contains what (up to timeout_s), through agent_util's WaitFor.
template <typename F> bool WaitFor(F text, const std::string &what, int timeout_s = 30)
{
	return WaitFor([&] { return text().find(what) != std::string::npos; }, (double)timeout_s);
}

} // namespace e2e
