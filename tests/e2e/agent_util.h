// Starting a real vaccel-agent for a test: its socket under $TEST_TMPDIR, its plugins from
// runfiles; stopping it checks that SIGTERM makes it exit 0.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace e2e {

// Path of a runfile given in environment variable `name` (set by the BUILD file).
std::string Runfile(const char *name);
std::string TmpPath(const std::string &name);
// The absolute path of p (runfiles are relative to the test's directory).
std::string Abs(const std::string &p);
// A unix socket path (short enough for sun_path).
std::string SockPath(const std::string &name);

class Agent {
      public:
	// Starts vaccel-agent with --socket and the given extra arguments; waits until the
	// agent logs that it listens (up to 30 s).
	// socket: a path to listen on (e.g. an earlier agent's, to restart it); default: new.
	// env: extra NAME=VALUE entries for the agent's environment.
	explicit Agent(const std::vector<std::string> &args, const std::string &tag = "agent",
		       const std::string &socket = "", const std::vector<std::string> &env = {});
	~Agent();
	bool ok() const { return ok_; }
	const std::string &socket() const { return socket_; }
	pid_t pid() const { return pid_; }
	// SIGTERM and wait; returns the exit status (or 128+signal, -1 on timeout).
	int Stop();
	// The agent's stderr so far.
	std::string Log() const;
	// Polls the log until it holds `what` at least n times (or timeout_s passes); the
	// event a test means, instead of a sleep that assumes how long the agent takes.
	bool WaitLog(const std::string &what, size_t n = 1, double timeout_s = 30) const;

      private:
	pid_t pid_ = -1;
	bool ok_ = false;
	std::string socket_, log_;
};

// Runs a program with extra environment; returns its exit status (or 128+signal), killing
// it after timeout_s.
int Run(const std::vector<std::string> &argv, const std::vector<std::string> &env, int timeout_s,
	std::string *output = nullptr);

// Starts a program without waiting; Wait() collects it.
pid_t Spawn(const std::vector<std::string> &argv, const std::vector<std::string> &env,
	    const std::string &out_path);
int Wait(pid_t pid, int timeout_s);

// Polls cond every few milliseconds until it holds (true) or timeout_s passes (false).
bool WaitFor(const std::function<bool()> &cond, double timeout_s);
// Reads one line (without its newline) from fd within timeout_s; what came before EOF,
// an error or the deadline otherwise.
std::string ReadLine(int fd, double timeout_s);
// Occurrences of what in s.
size_t Count(const std::string &s, const std::string &what);

} // namespace e2e
