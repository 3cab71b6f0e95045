#include "agent_util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

namespace e2e {

std::string Runfile(const char *name)
{
	const char *v = getenv(name);
	return v ? v : "";
}

// Unix socket paths are limited to 108 bytes and Bazel's TEST_TMPDIR is longer: sockets go
// in a short folder of this process's own under /tmp.
static std::string SockDir()
{
	static std::string dir;
	if (dir.empty()) {
		char tmpl[] = "/tmp/vaccel-e2e-XXXXXX";
		dir = mkdtemp(tmpl) ? tmpl : "/tmp";
	}
	return dir;
}

std::string SockPath(const std::string &name)
{
	return SockDir() + "/" + name;
}

std::string Abs(const std::string &p)
{
	char *r = realpath(p.c_str(), nullptr);
	std::string s = r ? r : p;
	free(r);
	return s;
}

std::string TmpPath(const std::string &name)
{
	const char *t = getenv("TEST_TMPDIR");
	return std::string(t ? t : "/tmp") + "/" + name;
}

static double Now()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

bool WaitFor(const std::function<bool()> &cond, double timeout_s)
{
	for (double end = Now() + timeout_s;; usleep(2000)) {
		if (cond())
			return true;
		if (Now() > end)
			return false;
	}
}

std::string ReadLine(int fd, double timeout_s)
{
	std::string line;
	WaitFor(
		[&] {
			pollfd p{fd, POLLIN, 0};
			char c;
			while (poll(&p, 1, 0) == 1) {
				if (read(fd, &c, 1) != 1 || c == '\n')
					return true; // a whole line, or the writer is gone
				line += c;
			}
			return false;
		},
		timeout_s);
	return line;
}

size_t Count(const std::string &s, const std::string &what)
{
	size_t n = 0;
	for (size_t at = 0; (at = s.find(what, at)) != std::string::npos; at++)
		n++;
	return n;
}

pid_t Spawn(const std::vector<std::string> &argv, const std::vector<std::string> &env,
	    const std::string &out_path)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	for (const auto &e : env)
		putenv(strdup(e.c_str()));
	std::vector<char *> av;
	for (const auto &a : argv)
		av.push_back(const_cast<char *>(a.c_str()));
	av.push_back(nullptr);
	execv(av[0], av.data());
	fprintf(stderr, "exec %s: %s\n", av[0], strerror(errno));
	_exit(127);
}

int Wait(pid_t pid, int timeout_s)
{
	double end = Now() + timeout_s;
	int st;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (r < 0)
			return -1;
		if (Now() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		usleep(2000);
	}
}

int Run(const std::vector<std::string> &argv, const std::vector<std::string> &env, int timeout_s,
	std::string *output)
{
	static int n;
	std::string out = TmpPath("run-" + std::to_string(getpid()) + "-" + std::to_string(n++) + ".log");
	int rc = Wait(Spawn(argv, env, out), timeout_s);
	if (output) {
		std::ifstream f(out);
		std::stringstream ss;
		ss << f.rdbuf();
		*output = ss.str();
	}
	return rc;
}

Agent::Agent(const std::vector<std::string> &args, const std::string &tag, const std::string &socket,
	     const std::vector<std::string> &env)
{
	static int n;
	socket_ = socket.empty() ? SockPath(tag + "-" + std::to_string(n) + ".sock") : socket;
	log_ = TmpPath(tag + "-" + std::to_string(getpid()) + "-" + std::to_string(n++) + ".log");
	std::vector<std::string> argv = {Runfile("AGENT"), "--socket", socket_};
	argv.insert(argv.end(), args.begin(), args.end());
	std::vector<std::string> all_env = {"OPENBLAS_NUM_THREADS=1", "VACCEL_PLUGINS="};
	all_env.insert(all_env.end(), env.begin(), env.end());
	pid_ = Spawn(argv, all_env, log_);
	// The agent logs this after listen(); probing with a connect instead would make it
	// build a whole region for a client that leaves at once.
	ok_ = WaitFor(
		[&] {
			int st;
			if (waitpid(pid_, &st, WNOHANG) == pid_) {
				pid_ = -1;
				return true; // died at start: ok_ is false, Log() says why
			}
			return Log().find("listening on") != std::string::npos;
		},
		30);
	ok_ = ok_ && pid_ > 0;
}

int Agent::Stop()
{
	if (pid_ < 0)
		return -1;
	kill(pid_, SIGTERM);
	int rc = Wait(pid_, 20);
	pid_ = -1;
	return rc;
}

Agent::~Agent()
{
	if (pid_ > 0) {
		kill(pid_, SIGKILL);
		waitpid(pid_, nullptr, 0);
	}
}

bool Agent::WaitLog(const std::string &what, size_t n, double timeout_s) const
{
	return WaitFor([&] { return Count(Log(), what) >= n; }, timeout_s);
}

std::string Agent::Log() const
{
	std::ifstream f(log_);
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

} // namespace e2e
