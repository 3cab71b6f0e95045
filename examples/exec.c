// SPDX-License-Identifier: Apache-2.0
// Calls a function of a shared library through the exec plugin, either by
// path (vaccel_exec) or as a registered LIB resource
// (vaccel_exec_with_resource). The default library is libmytestlib.so and
// the default function mytestfunc, which doubles an int.
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vaccel.h>

#define DEFAULT_LIB "examples/libmytestlib.so"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: exec [--lib PATH] [--func NAME] [--input INT] "
		"[--resource]\n"
		"Call int NAME(in, nr_in, out, nr_out) from PATH with one int\n"
		"input and print the int output. --resource passes the library\n"
		"as a registered LIB resource. Defaults: --lib " DEFAULT_LIB
		" --func mytestfunc --input 10.\n"
		"  VACCEL_PLUGINS=backends/exec/libvaccel-exec.so "
		"bazel run //examples:exec -- --input 21\n");
}

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "lib", required_argument, NULL, 'l' },
		{ "func", required_argument, NULL, 'f' },
		{ "input", required_argument, NULL, 'i' },
		{ "resource", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *lib = DEFAULT_LIB;
	const char *func = "mytestfunc";
	int input = 10, use_res = 0, c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":l:f:i:rh", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'l':
			lib = optarg;
			break;
		case 'f':
			func = optarg;
			break;
		case 'i':
			input = (int)strtol(optarg, &end, 10);
			if (!*optarg || *end) {
				fprintf(stderr, "exec: bad input '%s'\n", optarg);
				return 2;
			}
			break;
		case 'r':
			use_res = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "exec: option '%s' needs a value\n",
				argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "exec: unknown option '%s' (try --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "exec: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (access(lib, R_OK) != 0) {
		fprintf(stderr, "exec: cannot read library '%s'\n", lib);
		return 1;
	}

	struct vaccel_session sess;
	int ret = vaccel_session_init(&sess, 0);
	if (ret) {
		fprintf(stderr,
			"exec: could not create a session (%s); is "
			"VACCEL_PLUGINS set?\n",
			strerror(ret));
		return 1;
	}

	int output = 0;
	struct vaccel_arg read[1] = { { .buf = &input,
					.size = sizeof(input),
					.type = VACCEL_ARG_INT32 } };
	struct vaccel_arg write[1] = { { .buf = &output,
					 .size = sizeof(output),
					 .type = VACCEL_ARG_INT32 } };
	struct vaccel_resource res;
	if (use_res) {
		ret = vaccel_resource_init(&res, lib, VACCEL_RESOURCE_LIB);
		if (!ret)
			ret = vaccel_resource_register(&res, &sess);
		if (ret) {
			fprintf(stderr, "exec: resource for %s: %s\n", lib,
				strerror(ret));
			vaccel_session_release(&sess);
			return 1;
		}
		ret = vaccel_exec_with_resource(&sess, &res, func, read, 1,
						write, 1);
		vaccel_resource_unregister(&res, &sess);
		vaccel_resource_release(&res);
	} else {
		ret = vaccel_exec(&sess, lib, func, read, 1, write, 1);
	}
	if (ret)
		fprintf(stderr, "exec: %s:%s failed: %d (%s)\n", lib, func, ret,
			strerror(ret));
	else
		printf("%s(%d) = %d\n", func, input, output);
	vaccel_session_release(&sess);
	return ret ? 1 : 0;
}
