// SPDX-License-Identifier: Apache-2.0
// Log sink: stderr or VACCEL_LOG_FILE, one line per message.
#include "rt.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int vaccel_log_threshold = VACCEL_LOG_ERROR;

static pthread_mutex_t rt_log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *rt_log_file; /* NULL: stderr */

static const char *const rt_level_names[VACCEL_LOG_MAX] = {
	[VACCEL_LOG_ERROR] = "ERROR",
	[VACCEL_LOG_WARN] = "WARN",
	[VACCEL_LOG_INFO] = "INFO",
	[VACCEL_LOG_DEBUG] = "DEBUG",
};

/* Always 0: an unusable path falls back to stderr. */
int rt_log_open(vaccel_log_level_t level, const char *path)
{
	FILE *f = NULL;

	if (path) {
		f = fopen(path, "a");
		/* A bad log path must not stop the runtime: fall back to
		 * stderr and say so there. */
		if (!f)
			fprintf(stderr,
				"[vaccel] ERROR: cannot open log file %s: %s; "
				"logging to stderr\n",
				path, strerror(errno));
		else
			setvbuf(f, NULL, _IOLBF, 0);
	}
	pthread_mutex_lock(&rt_log_lock);
	if (rt_log_file)
		fclose(rt_log_file);
	rt_log_file = f;
	pthread_mutex_unlock(&rt_log_lock);
	__atomic_store_n(&vaccel_log_threshold, (int)level, __ATOMIC_RELAXED);
	return 0;
}

void rt_log_close(void)
{
	pthread_mutex_lock(&rt_log_lock);
	if (rt_log_file)
		fclose(rt_log_file);
	rt_log_file = NULL;
	pthread_mutex_unlock(&rt_log_lock);
	__atomic_store_n(&vaccel_log_threshold, (int)VACCEL_LOG_ERROR,
			 __ATOMIC_RELAXED);
}

int vaccel_log_init(void)
{
	return VACCEL_OK;
}

int vaccel_log_shutdown(void)
{
	return VACCEL_OK;
}

void vaccel_log_write(vaccel_log_level_t level, const char *fmt, ...)
{
	char msg[1024];
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y.%m.%d-%H:%M:%S", &tm);

	if ((int)level < VACCEL_LOG_ERROR || level >= VACCEL_LOG_MAX)
		level = VACCEL_LOG_ERROR;

	/* One locked write per line so concurrent threads don't interleave. */
	pthread_mutex_lock(&rt_log_lock);
	FILE *out = rt_log_file ? rt_log_file : stderr;
	fprintf(out, "%s.%02ld - <%s> %s\n", stamp, ts.tv_nsec / 10000000,
		rt_level_names[level], msg);
	fflush(out);
	pthread_mutex_unlock(&rt_log_lock);
}
