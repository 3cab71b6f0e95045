// SPDX-License-Identifier: Apache-2.0
// Calls vaccel_noop N times on one session and reports the time per call.
// With VACCEL_PROFILING_ENABLED=1 it also shows the profiling region.
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vaccel.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: noop [-n ITERATIONS] [ITERATIONS]\n"
		"Run vaccel_noop ITERATIONS times (default 1) and print the\n"
		"mean time per call. Plugins come from VACCEL_PLUGINS, e.g.\n"
		"  VACCEL_PLUGINS=backends/noop/libvaccel-noop.so "
		"bazel run //examples:noop -- 100000\n"
		"Set VACCEL_PROFILING_ENABLED=1 to record a profiling region.\n");
}

static int parse_count(const char *s, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < 1)
		return -1;
	*out = v;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "iterations", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long iter = 1;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_count(optarg, &iter)) {
				fprintf(stderr, "noop: bad iteration count '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "noop: option '%s' needs a value\n",
				argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "noop: unknown option '%s' (try --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc && parse_count(argv[optind++], &iter)) {
		fprintf(stderr, "noop: bad iteration count '%s'\n",
			argv[optind - 1]);
		return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "noop: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}

	struct vaccel_session sess;
	int ret = vaccel_session_init(&sess, 0);
	if (ret) {
		fprintf(stderr,
			"noop: could not create a session (%s); is "
			"VACCEL_PLUGINS set?\n",
			strerror(ret));
		return 1;
	}
	printf("session %" PRId64 " on plugin %s\n", sess.id,
	       sess.plugin->info->name);

	struct vaccel_prof_region region = VACCEL_PROF_REGION_INIT("noop");
	uint64_t t0 = now_ns();
	for (long i = 0; i < iter; i++) {
		vaccel_prof_region_start(&region);
		ret = vaccel_noop(&sess);
		vaccel_prof_region_stop(&region);
		if (ret) {
			fprintf(stderr, "noop: vaccel_noop failed: %s\n",
				strerror(ret));
			break;
		}
	}
	uint64_t t1 = now_ns();
	if (!ret)
		printf("%ld calls, %.1f ns per call\n", iter,
		       (double)(t1 - t0) / (double)iter);
	if (vaccel_prof_enabled())
		printf("profiling region '%s': %zu entries, %" PRIu64
		       " ns total\n",
		       region.name, region.nr_entries,
		       vaccel_prof_region_total_ns(&region));
	vaccel_prof_region_release(&region);
	vaccel_session_release(&sess);
	return ret ? 1 : 0;
}
