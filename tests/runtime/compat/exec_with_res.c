// SPDX-License-Identifier: Apache-2.0
// Upstream-style program: exec_with_resource with a LIB resource made from
// a path and another made from the file's bytes.
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vaccel.h>

static int read_file(const char *path, unsigned char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return VACCEL_ENOENT;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	*buf = malloc((size_t)n);
	if (!*buf) {
		fclose(f);
		return VACCEL_ENOMEM;
	}
	*len = fread(*buf, 1, (size_t)n, f);
	fclose(f);
	return *len == (size_t)n ? VACCEL_OK : VACCEL_EIO;
}

int main(int argc, char *argv[])
{
	if (argc != 3) {
		vaccel_error("usage: %s path_shared_object iterations",
			     argv[0]);
		return 1;
	}

	int input;
	int output1 = 0;
	int output2 = 0;
	struct vaccel_resource resource;

	int ret = vaccel_resource_init(&resource, argv[1], VACCEL_RESOURCE_LIB);
	if (ret) {
		vaccel_error("Could not create shared object resource: %s",
			     strerror(ret));
		exit(1);
	}

	struct vaccel_session sess;
	ret = vaccel_session_init(&sess, 0);
	if (ret) {
		vaccel_error("Could not create session");
		exit(1);
	}
	printf("Initialized session with id: %" PRId64 "\n", sess.id);

	ret = vaccel_resource_register(&resource, &sess);
	if (ret) {
		vaccel_error("Could not register shared object to session");
		exit(1);
	}

	struct vaccel_resource resource2;
	size_t len;
	unsigned char *buff;
	ret = read_file(argv[1], &buff, &len);
	if (ret) {
		vaccel_error("Could not read shared object file");
		exit(1);
	}

	ret = vaccel_resource_init_from_buf(&resource2, buff, len,
					    VACCEL_RESOURCE_LIB, "lib.so",
					    false);
	if (ret) {
		vaccel_error("Could not create resource from buffer: %s",
			     strerror(ret));
		exit(1);
	}

	ret = vaccel_resource_register(&resource2, &sess);
	if (ret) {
		vaccel_error("Could not register object 2 to session");
		exit(1);
	}

	input = 10;
	struct vaccel_arg read[1] = { { .size = sizeof(input), .buf = &input } };
	struct vaccel_arg write[1] = {
		{ .size = sizeof(output1), .buf = &output1 },
	};

	for (int i = 0; i < atoi(argv[2]); ++i) {
		ret = vaccel_exec_with_resource(&sess, &resource, "mytestfunc",
						read, 1, write, 1);
		if (ret) {
			vaccel_error("Could not run op: %d", ret);
			goto close_session;
		}
	}
	printf("output1: %d\n", output1);

	struct vaccel_arg read_2[1] = { { .size = sizeof(input),
					  .buf = &input } };
	struct vaccel_arg write_2[1] = {
		{ .size = sizeof(output2), .buf = &output2 },
	};

	for (int i = 0; i < atoi(argv[2]); ++i) {
		ret = vaccel_exec_with_resource(&sess, &resource2, "mytestfunc",
						read_2, 1, write_2, 1);
		if (ret) {
			vaccel_error("Could not run op: %d", ret);
			goto close_session;
		}
	}
	printf("output2: %d\n", output2);

close_session:
	if (vaccel_resource_unregister(&resource, &sess) ||
	    vaccel_resource_unregister(&resource2, &sess)) {
		vaccel_error("Could not unregister resources from session");
		exit(1);
	}
	if (vaccel_resource_release(&resource) ||
	    vaccel_resource_release(&resource2)) {
		vaccel_error("Could not destroy resources");
		exit(1);
	}
	if (vaccel_session_release(&sess)) {
		vaccel_error("Could not close session");
		exit(1);
	}
	free(buff);

	if (ret == 0 && (output1 != 20 || output2 != 20)) {
		fprintf(stderr, "expected outputs 20 and 20, got %d and %d\n",
			output1, output2);
		return 1;
	}
	return ret;
}
