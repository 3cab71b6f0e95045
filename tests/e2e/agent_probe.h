// Small probes of a running agent for tests: /proc figures, raw socket clients, waiting.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace e2e {

inline double NowS()
{
	timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

// A "Key:   N kB" line of /proc/PID/status (VmRSS, RssShmem, ...), or -1.
inline long StatusKb(pid_t pid, const std::string &key)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/status");
	std::string line;
	while (std::getline(f, line))
		if (line.rfind(key + ":", 0) == 0)
			return std::stol(line.substr(key.size() + 1));
	return -1;
}

// A raw client of a unix socket (blocking or not); -1 if the connect failed.
inline int RawConnect(const std::string &path, bool nonblock = false)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	sockaddr_un a{};
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path.c_str());
	if (s < 0 || connect(s, (sockaddr *)&a, sizeof(a)) != 0) {
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

// Lines of log that contain what.
inline size_t CountLines(const std::string &log, const std::string &what)
{
	size_t n = 0;
	for (size_t at = 0; (at = log.find(what, at)) != std::string::npos; at += what.size())
		n++;
	return n;
}

} // namespace e2e
