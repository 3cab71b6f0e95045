// SPDX-License-Identifier: Apache-2.0
// Every public struct has upstream's layout (v0.8.0 API, ebc23b1), so a
// plugin or program built against upstream's headers works with our
// library and the reverse. The expected numbers were read from upstream's
// headers (x86-64, gcc): sizeof/alignof of each struct and offsetof/sizeof
// of each field; layout_probe.c measures ours in C.
#include "layout_probe.h"
#include <gtest/gtest.h>
#include <cstring>
#include <string>
#include <vaccel.h>

namespace {

struct fact {
	const char *type;
	const char *field;
	size_t a;
	size_t b;
};

const fact upstream[] = {
	{ "vaccel_arg", nullptr, 32, 8 },
	{ "vaccel_arg", "buf", 0, 8 },
	{ "vaccel_arg", "size", 8, 8 },
	{ "vaccel_arg", "type", 16, 4 },
	{ "vaccel_arg", "custom_type_id", 20, 4 },
	{ "vaccel_arg", "owned", 24, 1 },
	{ "vaccel_arg_array", nullptr, 40, 8 },
	{ "vaccel_arg_array", "args", 0, 8 },
	{ "vaccel_arg_array", "count", 8, 8 },
	{ "vaccel_arg_array", "capacity", 16, 8 },
	{ "vaccel_arg_array", "position", 24, 8 },
	{ "vaccel_arg_array", "owned", 32, 1 },
	{ "vaccel_arg_list", nullptr, 32, 8 },
	{ "vaccel_arg_list", "size", 0, 4 },
	{ "vaccel_arg_list", "list", 8, 8 },
	{ "vaccel_arg_list", "curr_idx", 16, 4 },
	{ "vaccel_arg_list", "idcs_allocated_space", 24, 8 },
	{ "vaccel_blob", nullptr, 56, 8 },
	{ "vaccel_blob", "type", 0, 4 },
	{ "vaccel_blob", "name", 8, 8 },
	{ "vaccel_blob", "path", 16, 8 },
	{ "vaccel_blob", "path_owned", 24, 1 },
	{ "vaccel_blob", "data", 32, 8 },
	{ "vaccel_blob", "data_owned", 40, 1 },
	{ "vaccel_blob", "size", 48, 8 },
	{ "vaccel_config", nullptr, 32, 8 },
	{ "vaccel_config", "plugins", 0, 8 },
	{ "vaccel_config", "log_level", 8, 4 },
	{ "vaccel_config", "log_file", 16, 8 },
	{ "vaccel_config", "profiling_enabled", 24, 1 },
	{ "vaccel_config", "version_ignore", 25, 1 },
	{ "vaccel_list_entry", nullptr, 16, 8 },
	{ "vaccel_list_entry", "next", 0, 8 },
	{ "vaccel_list_entry", "prev", 8, 8 },
	{ "vaccel_op", nullptr, 24, 8 },
	{ "vaccel_op", "type", 0, 4 },
	{ "vaccel_op", "func", 8, 8 },
	{ "vaccel_op", "owner", 16, 8 },
	{ "vaccel_plugin_info", nullptr, 96, 8 },
	{ "vaccel_plugin_info", "name", 0, 8 },
	{ "vaccel_plugin_info", "version", 8, 8 },
	{ "vaccel_plugin_info", "vaccel_version", 16, 8 },
	{ "vaccel_plugin_info", "init", 24, 8 },
	{ "vaccel_plugin_info", "fini", 32, 8 },
	{ "vaccel_plugin_info", "is_virtio", 40, 1 },
	{ "vaccel_plugin_info", "type", 44, 4 },
	{ "vaccel_plugin_info", "session_init", 48, 8 },
	{ "vaccel_plugin_info", "session_release", 56, 8 },
	{ "vaccel_plugin_info", "session_update", 64, 8 },
	{ "vaccel_plugin_info", "resource_register", 72, 8 },
	{ "vaccel_plugin_info", "resource_unregister", 80, 8 },
	{ "vaccel_plugin_info", "resource_sync", 88, 8 },
	{ "vaccel_plugin", nullptr, 224, 8 },
	{ "vaccel_plugin", "dl_handle", 0, 8 },
	{ "vaccel_plugin", "entry", 8, 16 },
	{ "vaccel_plugin", "ops", 24, 192 },
	{ "vaccel_plugin", "info", 216, 8 },
	{ "vaccel_prof_sample", nullptr, 16, 8 },
	{ "vaccel_prof_sample", "start", 0, 8 },
	{ "vaccel_prof_sample", "time", 8, 8 },
	{ "vaccel_prof_region", nullptr, 40, 8 },
	{ "vaccel_prof_region", "name", 0, 8 },
	{ "vaccel_prof_region", "name_owned", 8, 1 },
	{ "vaccel_prof_region", "nr_entries", 16, 8 },
	{ "vaccel_prof_region", "samples", 24, 8 },
	{ "vaccel_prof_region", "size", 32, 8 },
	{ "vaccel_resource", nullptr, 152, 8 },
	{ "vaccel_resource", "id", 0, 8 },
	{ "vaccel_resource", "remote_id", 8, 8 },
	{ "vaccel_resource", "type", 16, 4 },
	{ "vaccel_resource", "path_type", 20, 4 },
	{ "vaccel_resource", "paths", 24, 8 },
	{ "vaccel_resource", "nr_paths", 32, 8 },
	{ "vaccel_resource", "rundir", 40, 8 },
	{ "vaccel_resource", "blobs", 48, 8 },
	{ "vaccel_resource", "nr_blobs", 56, 8 },
	{ "vaccel_resource", "entry", 64, 16 },
	{ "vaccel_resource", "sessions", 80, 16 },
	{ "vaccel_resource", "sessions_lock", 96, 40 },
	{ "vaccel_resource", "refcount", 136, 4 },
	{ "vaccel_resource", "plugin_priv", 144, 8 },
	{ "vaccel_session", nullptr, 4264, 8 },
	{ "vaccel_session", "id", 0, 8 },
	{ "vaccel_session", "remote_id", 8, 8 },
	{ "vaccel_session", "hint", 16, 4 },
	{ "vaccel_session", "is_virtio", 20, 1 },
	{ "vaccel_session", "rundir", 21, 4096 },
	{ "vaccel_session", "entry", 4120, 16 },
	{ "vaccel_session", "resources", 4136, 48 },
	{ "vaccel_session", "resource_counts", 4184, 24 },
	{ "vaccel_session", "resources_lock", 4208, 40 },
	{ "vaccel_session", "plugin", 4248, 8 },
	{ "vaccel_session", "priv", 4256, 8 },
	{ "vaccel_tf_buffer", nullptr, 16, 8 },
	{ "vaccel_tf_buffer", "data", 0, 8 },
	{ "vaccel_tf_buffer", "size", 8, 8 },
	{ "vaccel_tf_node", nullptr, 16, 8 },
	{ "vaccel_tf_node", "name", 0, 8 },
	{ "vaccel_tf_node", "id", 8, 4 },
	{ "vaccel_tf_tensor", nullptr, 40, 8 },
	{ "vaccel_tf_tensor", "data", 0, 8 },
	{ "vaccel_tf_tensor", "size", 8, 8 },
	{ "vaccel_tf_tensor", "owned", 16, 1 },
	{ "vaccel_tf_tensor", "nr_dims", 20, 4 },
	{ "vaccel_tf_tensor", "dims", 24, 8 },
	{ "vaccel_tf_tensor", "data_type", 32, 4 },
	{ "vaccel_tf_status", nullptr, 16, 8 },
	{ "vaccel_tf_status", "code", 0, 1 },
	{ "vaccel_tf_status", "message", 8, 8 },
	{ "vaccel_tflite_tensor", nullptr, 40, 8 },
	{ "vaccel_tflite_tensor", "data", 0, 8 },
	{ "vaccel_tflite_tensor", "size", 8, 8 },
	{ "vaccel_tflite_tensor", "owned", 16, 1 },
	{ "vaccel_tflite_tensor", "nr_dims", 20, 4 },
	{ "vaccel_tflite_tensor", "dims", 24, 8 },
	{ "vaccel_tflite_tensor", "data_type", 32, 4 },
	{ "vaccel_torch_buffer", nullptr, 16, 8 },
	{ "vaccel_torch_buffer", "data", 0, 8 },
	{ "vaccel_torch_buffer", "size", 8, 8 },
	{ "vaccel_torch_tensor", nullptr, 48, 8 },
	{ "vaccel_torch_tensor", "data", 0, 8 },
	{ "vaccel_torch_tensor", "size", 8, 8 },
	{ "vaccel_torch_tensor", "owned", 16, 1 },
	{ "vaccel_torch_tensor", "nr_dims", 24, 8 },
	{ "vaccel_torch_tensor", "dims", 32, 8 },
	{ "vaccel_torch_tensor", "data_type", 40, 4 },
};

const layout_fact *Find(const char *type, const char *field)
{
	for (size_t i = 0; i < layout_ours_count; i++) {
		const layout_fact &f = layout_ours[i];
		if (strcmp(f.type, type) != 0)
			continue;
		if ((!field && !f.field) ||
		    (field && f.field && strcmp(field, f.field) == 0))
			return &f;
	}
	return nullptr;
}

bool Torch(const char *type)
{
	return strstr(type, "torch") != nullptr;
}

TEST(Layout, EveryStructAndFieldAsUpstream)
{
	bool have_torch = Find("vaccel_torch_tensor", nullptr) != nullptr;
	for (const fact &u : upstream) {
		std::string what = std::string(u.type) +
				   (u.field ? std::string(".") + u.field : "");
		if (Torch(u.type) && !have_torch)
			continue; /* torch.h is another change's */
		const layout_fact *o = Find(u.type, u.field);
		ASSERT_NE(o, nullptr) << what << " is missing";
		EXPECT_EQ(o->a, u.a)
			<< what << (u.field ? " offset" : " size");
		EXPECT_EQ(o->b, u.b)
			<< what << (u.field ? " size" : " alignment");
	}
}

TEST(Layout, NoFieldOfOursBeyondUpstreams)
{
	for (size_t i = 0; i < layout_ours_count; i++) {
		bool known = false;
		for (const fact &u : upstream)
			known |= strcmp(u.type, layout_ours[i].type) == 0 &&
				 ((!u.field && !layout_ours[i].field) ||
				  (u.field && layout_ours[i].field &&
				   strcmp(u.field, layout_ours[i].field) == 0));
		EXPECT_TRUE(known) << layout_ours[i].type << "."
				   << (layout_ours[i].field ?
					       layout_ours[i].field :
					       "");
	}
}

TEST(Layout, EnumBoundsAsUpstream)
{
	EXPECT_EQ(VACCEL_OP_MAX, 24);
	EXPECT_EQ(VACCEL_ARG_MAX, 30);
	EXPECT_EQ(VACCEL_RESOURCE_MAX, 3);
	EXPECT_EQ(VACCEL_BLOB_MAX, 3);
	EXPECT_EQ(VACCEL_PATH_MAX, 3);
	EXPECT_EQ(VACCEL_LOG_MAX, 5);
	EXPECT_EQ(VACCEL_PLUGIN_MAX, 0x10000);
	EXPECT_EQ(VACCEL_ENUM_STR_MAX, 128);
	EXPECT_EQ(VACCEL_OP_TORCH_MODEL_RUN, 15);
	EXPECT_EQ(VACCEL_OP_BLAS_SGEMM, 17);
	EXPECT_EQ(VACCEL_ARG_CUSTOM, 29);
	EXPECT_EQ(VACCEL_TF_UINT64, 23);
	EXPECT_EQ(VACCEL_TFLITE_INT4, 18);
	EXPECT_EQ(VACCEL_PLUGIN_REMOTE, 0x4000);
}

} // namespace
