// SPDX-License-Identifier: Apache-2.0
// Upstream-style program: load a TF model (any registered MODEL resource)
// and print the plugin's status. Usage: tf_load <model_file> <word>, the
// word expected in the status message.
#include "vaccel.h"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char *argv[])
{
	struct vaccel_session sess;
	struct vaccel_resource model;
	struct vaccel_tf_status status = { 0 };
	int ret;

	if (argc != 3) {
		fprintf(stderr, "Usage: %s <model_file> <word>\n",
			argv[0]);
		return VACCEL_EINVAL;
	}
	ret = vaccel_session_init(&sess, 0);
	if (ret)
		return ret;
	ret = vaccel_resource_init(&model, argv[1], VACCEL_RESOURCE_MODEL);
	if (ret)
		goto release_session;
	ret = vaccel_resource_register(&model, &sess);
	if (ret)
		goto release_resource;
	ret = vaccel_tf_model_load(&sess, &model, &status);
	if (ret) {
		fprintf(stderr, "Could not load model: %d\n", ret);
		goto release_resource;
	}
	printf("status code:%u message:%s\n", status.code, status.message);
	if (status.code != 0 || !status.message ||
	    !strstr(status.message, argv[2])) {
		fprintf(stderr, "unexpected status (want \"%s\" in it)\n",
			argv[2]);
		ret = 1;
	}
	vaccel_tf_status_release(&status);
release_resource:
	vaccel_resource_release(&model); /* unregisters it too */
release_session:
	vaccel_session_release(&sess);
	return ret;
}
