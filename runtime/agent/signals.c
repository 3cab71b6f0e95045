/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SIGTERM/SIGINT reach the main loop through a self-pipe written by the handler. A
 * blocked-signal scheme (signalfd) is not enough: plugin libraries start threads of their
 * own (OpenBLAS, even from the runtime's constructor before main) that do not block
 * anything, and the kernel may deliver the signal to one of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "runtime/agent/agent.h"

static int sig_pipe[2] = {-1, -1};

/* Async-signal-safe: one byte naming the signal; the main loop does the rest. */
static void _on_signal(int signo)
{
	int saved = errno;
	unsigned char b = (unsigned char)signo;

	if (write(sig_pipe[1], &b, 1) < 0) {
		/* the pipe is full: a stop is already pending */
	}
	errno = saved;
}

int agent_signals_init(void)
{
	struct sigaction sa = {.sa_handler = _on_signal};

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return sig_pipe[0];
}
