// SPDX-License-Identifier: Apache-2.0
// Upstream's semantics of the argument, session, resource, blob and config
// helpers (v0.8.0 API, its src/ and test/ as the specification), each edge
// case where this runtime used to differ.
#include "test_util.h"
#include <cstring>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

using rt_test::Boot;
using rt_test::Path;
using rt_test::TmpPath;

namespace {

bool AnyValid(const void *, size_t, uint32_t)
{
	return true;
}

TEST(UpstreamArg, InitAcceptsNullBufferAndRejectsZeroSize)
{
	struct vaccel_arg a;
	ASSERT_EQ(vaccel_arg_init(&a, nullptr, 8, VACCEL_ARG_RAW, 0),
		  VACCEL_OK)
		<< "NULL buf: size zeroed bytes";
	ASSERT_NE(a.buf, nullptr);
	EXPECT_TRUE(a.owned);
	EXPECT_EQ(memcmp(a.buf, "\0\0\0\0\0\0\0\0", 8), 0);
	EXPECT_EQ(vaccel_arg_release(&a), VACCEL_OK);
	EXPECT_EQ(a.type, VACCEL_ARG_MAX) << "release resets the type";

	int v = 3;
	EXPECT_EQ(vaccel_arg_init(&a, &v, 0, VACCEL_ARG_RAW, 0),
		  VACCEL_EINVAL)
		<< "a buffer of size 0";
	EXPECT_EQ(vaccel_arg_init_from_buf(&a, &v, 0, VACCEL_ARG_RAW, 0),
		  VACCEL_EINVAL);
	EXPECT_EQ(vaccel_arg_init_from_buf(&a, nullptr, 4, VACCEL_ARG_RAW, 0),
		  VACCEL_EINVAL);
	EXPECT_EQ(vaccel_arg_init_from_buf(&a, nullptr, 0, VACCEL_ARG_RAW, 0),
		  VACCEL_OK);
}

TEST(UpstreamArgArray, OwnedMeansTheArgsStorage)
{
	struct vaccel_arg_array arr;
	ASSERT_EQ(vaccel_arg_array_init(&arr, 0), VACCEL_OK);
	EXPECT_TRUE(arr.owned);
	EXPECT_EQ(arr.capacity, 8u) << "upstream's default capacity";
	EXPECT_EQ(vaccel_arg_array_release(&arr), VACCEL_OK);
	EXPECT_FALSE(arr.owned);
	EXPECT_EQ(vaccel_arg_array_release(&arr), VACCEL_EINVAL)
		<< "released twice: args is NULL";

	struct vaccel_arg args[1] = {};
	ASSERT_EQ(vaccel_arg_array_wrap(&arr, args, 1), VACCEL_OK);
	EXPECT_FALSE(arr.owned) << "wrapped storage is the caller's";
}

TEST(UpstreamArgArray, SizeZeroAndNullValidatorsRejected)
{
	struct vaccel_arg_array arr;
	ASSERT_EQ(vaccel_arg_array_init(&arr, 1), VACCEL_OK);
	char b[4] = "abc";
	EXPECT_EQ(vaccel_arg_array_add_buffer(&arr, b, 0), VACCEL_EINVAL);
	EXPECT_EQ(vaccel_arg_array_add_buffer(&arr, nullptr, 4),
		  VACCEL_EINVAL);
	int32_t i32[2] = { 1, 2 };
	EXPECT_EQ(vaccel_arg_array_add_int32_array(&arr, i32, 0),
		  VACCEL_EINVAL);
	EXPECT_EQ(vaccel_arg_array_add_int32(&arr, nullptr), VACCEL_EINVAL);
	EXPECT_EQ(vaccel_arg_array_add_custom(&arr, 1, b, 4, nullptr),
		  VACCEL_EINVAL)
		<< "NULL validator";
	EXPECT_EQ(vaccel_arg_array_add_serialized(&arr, VACCEL_ARG_RAW, 0, b,
						  4, nullptr),
		  VACCEL_EINVAL)
		<< "NULL serializer";
	bool bad = false;
	memset(&bad, 2, 1);
	EXPECT_EQ(vaccel_arg_array_add_bool(&arr, &bad), VACCEL_EINVAL)
		<< "a bool must hold 0 or 1";
	EXPECT_EQ(vaccel_arg_array_add_raw(&arr, b, 0), VACCEL_EINVAL);
	EXPECT_EQ(vaccel_arg_array_count(&arr), 0u);

	ASSERT_EQ(vaccel_arg_array_add_custom(&arr, 1, b, 4, AnyValid),
		  VACCEL_OK);
	void *out;
	size_t size;
	EXPECT_EQ(vaccel_arg_array_get_custom(&arr, 1, &out, &size, nullptr),
		  VACCEL_EINVAL);
	EXPECT_EQ(vaccel_arg_array_set_custom(&arr, 1, b, 4, nullptr),
		  VACCEL_EINVAL);
	EXPECT_EQ(vaccel_arg_array_get_custom(&arr, 1, &out, nullptr,
					      AnyValid),
		  VACCEL_OK)
		<< "size is optional";
	EXPECT_EQ(out, b);
	ASSERT_EQ(vaccel_arg_array_add_custom(&arr, 1, b, 4, AnyValid),
		  VACCEL_OK);
	EXPECT_GT(arr.capacity, 1u) << "an owned array grows";
	vaccel_arg_array_release(&arr);
}

TEST(UpstreamArgArray, GetArrayAcceptsNullCount)
{
	struct vaccel_arg_array arr;
	ASSERT_EQ(vaccel_arg_array_init(&arr, 0), VACCEL_OK);
	float f[3] = { 1, 2, 3 };
	ASSERT_EQ(vaccel_arg_array_add_float_array(&arr, f, 3), VACCEL_OK);
	float *got = nullptr;
	EXPECT_EQ(vaccel_arg_array_get_float_array(&arr, &got, nullptr),
		  VACCEL_OK);
	EXPECT_EQ(got, f);
	EXPECT_EQ(vaccel_arg_array_get_float_array(&arr, &got, nullptr),
		  VACCEL_ERANGE);
	vaccel_arg_array_release(&arr);
}

TEST(UpstreamArgArray, RangePositionAndRemaining)
{
	int v[3] = { 1, 2, 3 };
	struct vaccel_arg_array src, dst;
	ASSERT_EQ(vaccel_arg_array_init(&src, 0), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_init(&dst, 0), VACCEL_OK);
	for (int &x : v)
		ASSERT_EQ(vaccel_arg_array_add_int32(&src, &x), VACCEL_OK);

	EXPECT_EQ(vaccel_arg_array_add_range(&dst, &src, 3, 0, false),
		  VACCEL_ERANGE)
		<< "start past the end";
	EXPECT_EQ(vaccel_arg_array_add_range(&dst, &src, 1, 3, false),
		  VACCEL_ERANGE);
	EXPECT_EQ(vaccel_arg_array_add_range(&dst, &src, 1, SIZE_MAX, false),
		  VACCEL_ERANGE)
		<< "no overflow in start + count";
	EXPECT_EQ(vaccel_arg_array_add_range(&dst, &src, 1, 0, false),
		  VACCEL_OK);
	EXPECT_EQ(vaccel_arg_array_count(&dst), 0u);

	vaccel_arg_array_set_position(&src, 99);
	EXPECT_EQ(vaccel_arg_array_position(&src), 3u)
		<< "set_position clamps to the count";
	EXPECT_EQ(vaccel_arg_array_add_remaining(&dst, &src, true), VACCEL_OK)
		<< "nothing remaining is not an error";
	vaccel_arg_array_set_position(&src, 1);
	struct vaccel_arg *rest;
	size_t n;
	ASSERT_EQ(vaccel_arg_array_get_remaining(&src, &rest, &n), VACCEL_OK);
	EXPECT_EQ(n, 2u);
	EXPECT_EQ(rest, &src.args[1]);
	EXPECT_EQ(vaccel_arg_array_position(&src), 1u)
		<< "get_remaining does not move the position";
	vaccel_arg_array_set_position(&src, 3);
	ASSERT_EQ(vaccel_arg_array_get_remaining(&src, &rest, &n), VACCEL_OK);
	EXPECT_EQ(n, 0u);
	EXPECT_EQ(rest, nullptr);
	vaccel_arg_array_release(&src);
	vaccel_arg_array_release(&dst);
}

TEST(UpstreamArgArray, ClearWithNullArgsDoesNotCrash)
{
	struct vaccel_arg_array arr = {};
	arr.args = nullptr;
	arr.count = 5;
	arr.position = 2;
	vaccel_arg_array_clear(&arr); // used to walk args[0..4]
	EXPECT_EQ(arr.count, 5u) << "nothing to clear without args";
	vaccel_arg_array_clear(nullptr);
}

TEST(UpstreamArgArray, SetChecksAndStringPadding)
{
	char out[8];
	memset(out, 'x', sizeof(out));
	struct vaccel_arg args[2] = {
		{ out, sizeof(out), VACCEL_ARG_STRING, 0, false },
		{ nullptr, 0, VACCEL_ARG_RAW, 0, false },
	};
	struct vaccel_arg_array arr;
	ASSERT_EQ(vaccel_arg_array_wrap(&arr, args, 2), VACCEL_OK);
	char hi[] = "hi";
	ASSERT_EQ(vaccel_arg_array_set_string(&arr, hi), VACCEL_OK);
	EXPECT_STREQ(out, "hi");
	EXPECT_EQ(out[7], '\0') << "the rest of the output is zeroed";
	EXPECT_EQ(vaccel_arg_array_set_raw(&arr, nullptr, 0), VACCEL_OK)
		<< "an empty RAW output takes an empty value";
	int extra = 1;
	EXPECT_EQ(vaccel_arg_array_add_int32(&arr, &extra), VACCEL_ERANGE);
}

TEST(UpstreamArgList, DeprecatedListApi)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	EXPECT_EQ(vaccel_args_init(0), nullptr);
	struct vaccel_arg_list *l = vaccel_args_init(3);
	ASSERT_NE(l, nullptr);
	int in = 7, out = 0;
	EXPECT_EQ(vaccel_add_serial_arg(l, &in, 0), VACCEL_EINVAL);
	ASSERT_EQ(vaccel_add_serial_arg(l, &in, sizeof(in)), VACCEL_OK);
	ASSERT_EQ(vaccel_expect_serial_arg(l, &out, sizeof(out)), VACCEL_OK);
	ASSERT_EQ(vaccel_expect_nonserial_arg(l, 16), VACCEL_OK);
	EXPECT_EQ(vaccel_add_serial_arg(l, &in, sizeof(in)), VACCEL_EINVAL)
		<< "full";
	EXPECT_EQ(l->curr_idx, 3);
	EXPECT_EQ(*(int *)vaccel_extract_serial_arg(l->list, 0), 7);
	EXPECT_EQ(vaccel_extract_serial_arg(l->list, -1), nullptr);
	int v = 9;
	EXPECT_EQ(vaccel_write_serial_arg(l->list, 1, &v), VACCEL_OK);
	EXPECT_EQ(out, 9);
	EXPECT_EQ(l->idcs_allocated_space[2], 1);
	EXPECT_EQ(vaccel_delete_args(l), VACCEL_OK)
		<< "frees the zeroed output (ASan checks)";
#pragma GCC diagnostic pop
}

class UpstreamSession : public ::testing::Test {
protected:
	void SetUp() override
	{
		ASSERT_EQ(Boot(Path("PLUGIN_NOOP")), VACCEL_OK);
		ASSERT_EQ(vaccel_session_init(&s_, 0), VACCEL_OK);
		path_ = TmpPath("res.bin");
		std::ofstream(path_) << "model bytes";
	}
	void TearDown() override
	{
		vaccel_session_release(&s_);
		unlink(path_.c_str());
	}
	struct vaccel_session s_;
	std::string path_;
};

TEST_F(UpstreamSession, GetByIdAndPerTypeLists)
{
	struct vaccel_session *found = nullptr;
	ASSERT_EQ(vaccel_session_get_by_id(&found, s_.id), VACCEL_OK);
	EXPECT_EQ(found, &s_);
	EXPECT_EQ(vaccel_session_get_by_id(&found, s_.id + 1000),
		  VACCEL_ENOENT);

	struct vaccel_resource m1, m2, d;
	ASSERT_EQ(vaccel_resource_init(&m1, path_.c_str(),
				       VACCEL_RESOURCE_MODEL),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_resource_init(&m2, path_.c_str(),
				       VACCEL_RESOURCE_MODEL),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_resource_init(&d, path_.c_str(), VACCEL_RESOURCE_DATA),
		  VACCEL_OK);
	EXPECT_EQ(d.path_type, VACCEL_PATH_LOCAL_FILE);
	ASSERT_EQ(vaccel_resource_register(&d, &s_), VACCEL_OK);
	ASSERT_EQ(vaccel_resource_register(&m1, &s_), VACCEL_OK);
	ASSERT_EQ(vaccel_resource_register(&m2, &s_), VACCEL_OK);
	EXPECT_EQ(s_.resource_counts[VACCEL_RESOURCE_MODEL], 2u);
	EXPECT_EQ(s_.resource_counts[VACCEL_RESOURCE_DATA], 1u);

	struct vaccel_resource *r = nullptr;
	ASSERT_EQ(vaccel_session_resource_by_type(&s_, &r,
						  VACCEL_RESOURCE_MODEL),
		  VACCEL_OK);
	EXPECT_EQ(r, &m1) << "the first registered of that type";
	EXPECT_EQ(vaccel_session_resource_by_type(&s_, &r,
						  VACCEL_RESOURCE_LIB),
		  VACCEL_ENOENT);
	struct vaccel_resource **all = nullptr;
	size_t n = 99;
	EXPECT_EQ(vaccel_session_resources_by_type(&s_, &all, &n,
						   VACCEL_RESOURCE_LIB),
		  VACCEL_ENOENT);
	EXPECT_EQ(n, 0u);
	ASSERT_EQ(vaccel_session_resources_by_type(&s_, &all, &n,
						   VACCEL_RESOURCE_MODEL),
		  VACCEL_OK);
	ASSERT_EQ(n, 2u);
	EXPECT_EQ(all[0], &m1);
	EXPECT_EQ(all[1], &m2);
	free(all);
	ASSERT_EQ(vaccel_resource_get_all_by_type(&all, &n,
						  VACCEL_RESOURCE_DATA),
		  VACCEL_OK);
	EXPECT_GE(n, 1u);
	free(all);
	EXPECT_EQ(vaccel_session_resource_by_id(&s_, &r, d.id), VACCEL_OK);
	EXPECT_EQ(r, &d);
	EXPECT_EQ(vaccel_session_resource_by_id(&s_, &r, 0), VACCEL_EINVAL);

	for (auto *res : { &m1, &m2, &d }) {
		EXPECT_EQ(vaccel_resource_unregister(res, &s_), VACCEL_OK);
		EXPECT_EQ(vaccel_resource_release(res), VACCEL_OK);
	}
}

TEST_F(UpstreamSession, UpdateReleaseAndRundir)
{
	std::string dir = s_.rundir;
	ASSERT_FALSE(dir.empty());
	EXPECT_EQ(access(dir.c_str(), W_OK), 0) << "the session's own rundir";
	EXPECT_NE(dir.find("/session."), std::string::npos);

	struct vaccel_resource m;
	ASSERT_EQ(vaccel_resource_init(&m, path_.c_str(),
				       VACCEL_RESOURCE_MODEL),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_resource_register(&m, &s_), VACCEL_OK);
	EXPECT_EQ(vaccel_session_update(&s_, VACCEL_PLUGIN_DEBUG),
		  VACCEL_ENOTSUP)
		<< "no new plugin while resources are registered";
	ASSERT_EQ(vaccel_resource_release(&m), VACCEL_OK);
	EXPECT_EQ(vaccel_session_update(&s_, VACCEL_PLUGIN_DEBUG), VACCEL_OK);
	EXPECT_EQ(s_.hint, (unsigned)VACCEL_PLUGIN_DEBUG);
	EXPECT_EQ(vaccel_session_update(nullptr, 0), VACCEL_EINVAL);

	struct vaccel_session s2;
	ASSERT_EQ(vaccel_session_init(&s2, 1), VACCEL_OK);
	std::string dir2 = s2.rundir;
	ASSERT_EQ(vaccel_session_release(&s2), VACCEL_OK);
	EXPECT_EQ(s2.id, 0) << "a released session has no id (upstream)";
	EXPECT_EQ(s2.hint, 1u);
	EXPECT_NE(access(dir2.c_str(), F_OK), 0) << "its rundir is removed";
	EXPECT_EQ(vaccel_session_release(&s2), VACCEL_EINVAL);
}

TEST_F(UpstreamSession, ResourceKnowsItsSessions)
{
	struct vaccel_session s2;
	ASSERT_EQ(vaccel_session_init(&s2, 0), VACCEL_OK);
	struct vaccel_resource m;
	ASSERT_EQ(vaccel_resource_init(&m, path_.c_str(),
				       VACCEL_RESOURCE_MODEL),
		  VACCEL_OK);
	EXPECT_TRUE(vaccel_list_empty(&m.sessions));
	ASSERT_EQ(vaccel_resource_register(&m, &s_), VACCEL_OK);
	ASSERT_EQ(vaccel_resource_register(&m, &s2), VACCEL_OK);
	size_t links = 0;
	vaccel_list_entry_t *it;
	vaccel_list_for_each(it, &m.sessions) links++;
	EXPECT_EQ(links, 2u);
	EXPECT_EQ(vaccel_resource_refcount(&m), 2);
	ASSERT_EQ(vaccel_session_release(&s2), VACCEL_OK)
		<< "releasing a session unregisters what it holds";
	EXPECT_EQ(vaccel_resource_refcount(&m), 1);
	EXPECT_TRUE(vaccel_session_has_resource(&s_, &m));
	EXPECT_EQ(vaccel_resource_release(&m), VACCEL_OK)
		<< "releasing a registered resource unregisters it (upstream)";
	EXPECT_FALSE(vaccel_session_has_resource(&s_, &m));
	EXPECT_EQ(s_.resource_counts[VACCEL_RESOURCE_MODEL], 0u);
	EXPECT_EQ(vaccel_resource_release(&m), VACCEL_EINVAL)
		<< "released twice";
}

TEST(UpstreamBlob, BufferPersistAndRelease)
{
	const uint8_t bytes[] = { 1, 2, 3, 4 };
	struct vaccel_blob b;
	ASSERT_EQ(vaccel_blob_init_from_buf(&b, bytes, sizeof(bytes), false,
					    "x.bin", nullptr, false),
		  VACCEL_OK);
	EXPECT_EQ(b.type, VACCEL_BLOB_BUFFER);
	EXPECT_EQ(b.data, bytes) << "not owned: borrowed";
	EXPECT_EQ(vaccel_blob_path(&b), nullptr);
	EXPECT_TRUE(vaccel_blob_valid(&b));
	EXPECT_EQ(vaccel_blob_release(&b), VACCEL_OK);
	EXPECT_EQ(b.type, VACCEL_BLOB_MAX);
	EXPECT_EQ(vaccel_blob_release(&b), VACCEL_EINVAL);

	std::string dir = TmpPath("blobdir");
	ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
	ASSERT_EQ(vaccel_blob_init_from_buf(&b, bytes, sizeof(bytes), true,
					    "x.bin", dir.c_str(), false),
		  VACCEL_OK);
	EXPECT_EQ(b.type, VACCEL_BLOB_MAPPED);
	EXPECT_TRUE(b.path_owned);
	std::string p = vaccel_blob_path(&b);
	EXPECT_EQ(p, dir + "/x.bin");
	EXPECT_EQ(rt_test::ReadFile(p), std::string("\1\2\3\4", 4));
	EXPECT_EQ(vaccel_blob_persist(&b, dir.c_str(), "y.bin", false),
		  VACCEL_EEXIST)
		<< "a blob with a file is never overwritten";
	struct vaccel_blob b2;
	ASSERT_EQ(vaccel_blob_init_from_buf(&b2, bytes, sizeof(bytes), true,
					    "x.bin", dir.c_str(), false),
		  VACCEL_OK)
		<< "a taken name gets a random suffix";
	EXPECT_NE(std::string(vaccel_blob_path(&b2)), p);
	EXPECT_EQ(vaccel_blob_release(&b2), VACCEL_OK);
	EXPECT_EQ(vaccel_blob_release(&b), VACCEL_OK);
	EXPECT_NE(access(p.c_str(), F_OK), 0) << "an owned file is removed";

	struct vaccel_blob *f = nullptr;
	std::string fp = TmpPath("file.bin");
	std::ofstream(fp) << "abc";
	ASSERT_EQ(vaccel_blob_new(&f, fp.c_str()), VACCEL_OK);
	EXPECT_EQ(f->type, VACCEL_BLOB_FILE);
	EXPECT_EQ(fp.substr(fp.rfind('/') + 1), f->name);
	size_t size = 0;
	uint8_t *data = vaccel_blob_data(f, &size);
	ASSERT_NE(data, nullptr);
	EXPECT_EQ(size, 3u);
	EXPECT_EQ(memcmp(data, "abc", 3), 0);
	EXPECT_EQ(f->type, VACCEL_BLOB_MAPPED);
	EXPECT_EQ(vaccel_blob_delete(f), VACCEL_OK);
	EXPECT_EQ(access(fp.c_str(), F_OK), 0) << "a file not ours is kept";
	EXPECT_EQ(vaccel_blob_new(&f, dir.c_str()), VACCEL_EINVAL)
		<< "a directory is not a file";
	rmdir(dir.c_str());
}

TEST(UpstreamResource, FromBlobs)
{
	ASSERT_EQ(Boot(""), VACCEL_OK);
	const uint8_t bytes[] = { 9, 8, 7 };
	struct vaccel_blob b;
	ASSERT_EQ(vaccel_blob_init_from_buf(&b, bytes, sizeof(bytes), true,
					    "m.pt", nullptr, false),
		  VACCEL_OK);
	const struct vaccel_blob *list[] = { &b };
	struct vaccel_resource *r = nullptr;
	ASSERT_EQ(vaccel_resource_from_blobs(&r, list, 1,
					     VACCEL_RESOURCE_MODEL),
		  VACCEL_OK);
	ASSERT_EQ(r->nr_blobs, 1u);
	EXPECT_NE(r->blobs[0]->data, b.data) << "the resource has a copy";
	EXPECT_EQ(memcmp(r->blobs[0]->data, bytes, 3), 0);
	char dir[64];
	EXPECT_EQ(vaccel_resource_directory(r, dir, sizeof(dir), nullptr),
		  VACCEL_ENOTSUP)
		<< "only a resource made from a directory has one";
	EXPECT_EQ(vaccel_resource_delete(r), VACCEL_OK);
	EXPECT_EQ(vaccel_blob_release(&b), VACCEL_OK);
}

TEST(UpstreamResource, PathsFilesAndDirectories)
{
	ASSERT_EQ(Boot(""), VACCEL_OK);
	std::string dir = TmpPath("model_dir");
	ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
	std::ofstream(dir + "/b.pb") << "bb";
	std::ofstream(dir + "/a.pb") << "a";
	ASSERT_EQ(mkdir((dir + "/variables").c_str(), 0700), 0);

	struct vaccel_resource r;
	ASSERT_EQ(vaccel_resource_init(&r, dir.c_str(), VACCEL_RESOURCE_MODEL),
		  VACCEL_OK);
	EXPECT_EQ(r.path_type, VACCEL_PATH_LOCAL_DIR);
	ASSERT_EQ(r.nr_blobs, 2u) << "the directory's regular files";
	EXPECT_STREQ(r.blobs[0]->name, "a.pb");
	EXPECT_EQ(r.blobs[1]->size, 2u);
	char out[4096];
	ASSERT_EQ(vaccel_resource_directory(&r, out, sizeof(out), nullptr),
		  VACCEL_OK);
	EXPECT_EQ(dir, out);
	EXPECT_EQ(vaccel_resource_directory(&r, out, 4, nullptr),
		  VACCEL_EINVAL)
		<< "too small";
	EXPECT_EQ(vaccel_resource_release(&r), VACCEL_OK);

	std::string uri = "file://" + dir + "/a.pb";
	ASSERT_EQ(vaccel_resource_init(&r, uri.c_str(), VACCEL_RESOURCE_DATA),
		  VACCEL_OK);
	EXPECT_EQ(r.path_type, VACCEL_PATH_LOCAL_FILE);
	EXPECT_EQ(std::string(r.paths[0]), dir + "/a.pb");
	EXPECT_EQ(vaccel_resource_release(&r), VACCEL_OK);

	EXPECT_EQ(vaccel_resource_init(&r, (dir + "/none").c_str(),
				       VACCEL_RESOURCE_DATA),
		  VACCEL_EINVAL)
		<< "a path that does not exist (upstream: EINVAL)";
	EXPECT_EQ(vaccel_resource_init(&r, "https://example.com/m.pt",
				       VACCEL_RESOURCE_MODEL),
		  VACCEL_EINVAL)
		<< "no downloads here";
	std::string f = dir + "/a.pb";
	const char *mixed[2] = { f.c_str(), dir.c_str() };
	EXPECT_EQ(vaccel_resource_init_multi(&r, mixed, 2,
					     VACCEL_RESOURCE_DATA),
		  VACCEL_ENOTSUP);
	const char *holes[2] = { f.c_str(), nullptr };
	EXPECT_EQ(vaccel_resource_init_multi(&r, holes, 2,
					     VACCEL_RESOURCE_DATA),
		  VACCEL_EINVAL);
	EXPECT_EQ(r.paths, nullptr);
	EXPECT_EQ(r.nr_paths, 0u);
	unlink((dir + "/a.pb").c_str());
	unlink((dir + "/b.pb").c_str());
	rmdir((dir + "/variables").c_str());
	rmdir(dir.c_str());
}

TEST(UpstreamPlugin, RegisterOpsBounds)
{
	struct vaccel_op ops[VACCEL_OP_MAX + 1] = {};
	EXPECT_EQ(vaccel_plugin_register_ops(nullptr, 1), VACCEL_EINVAL);
	EXPECT_EQ(vaccel_plugin_register_ops(ops, 0), VACCEL_EINVAL);
	EXPECT_EQ(vaccel_plugin_register_ops(ops, VACCEL_OP_MAX + 1),
		  VACCEL_EINVAL)
		<< "more ops than op types";
}

TEST(UpstreamConfig, ReleaseResetsEveryField)
{
	struct vaccel_config c;
	ASSERT_EQ(vaccel_config_init(&c, "a.so", VACCEL_LOG_DEBUG, "/tmp/l",
				     true, true),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_config_release(&c), VACCEL_OK);
	EXPECT_EQ(c.plugins, nullptr);
	EXPECT_EQ(c.log_file, nullptr);
	EXPECT_EQ(c.log_level, VACCEL_LOG_ERROR);
	EXPECT_FALSE(c.profiling_enabled);
	EXPECT_FALSE(c.version_ignore);
}

TEST(UpstreamCore, RundirAndEnumNames)
{
	ASSERT_EQ(Boot(""), VACCEL_OK);
	const char *d = vaccel_rundir();
	ASSERT_NE(d, nullptr);
	EXPECT_EQ(access(d, W_OK), 0);
	char name[VACCEL_ENUM_STR_MAX];
	EXPECT_STREQ(vaccel_op_type_name(VACCEL_OP_IMAGE_CLASSIFY, name,
					 sizeof(name)),
		     "image_classify");
	EXPECT_STREQ(vaccel_arg_type_name(VACCEL_ARG_UINT8_ARRAY, name,
					  sizeof(name)),
		     "uint8_array");
	EXPECT_STREQ(vaccel_arg_type_to_str(VACCEL_ARG_BUFFER),
		     "VACCEL_ARG_BUFFER");
	EXPECT_STREQ(vaccel_resource_type_to_base_str(VACCEL_RESOURCE_MODEL),
		     "MODEL");
	EXPECT_STREQ(vaccel_op_type_to_str((vaccel_op_type_t)99),
		     "VACCEL_OP_MAX");
	char small[5];
	EXPECT_STREQ(vaccel_op_type_name(VACCEL_OP_BLAS_SGEMM, small,
					 sizeof(small)),
		     "blas") << "truncated, terminated";
	EXPECT_EQ(vaccel_op_type_name(VACCEL_OP_NOOP, nullptr, 4), nullptr);
	char *alloc = nullptr;
	ASSERT_EQ(vaccel_str_to_lower("ABC", nullptr, 0, &alloc), VACCEL_OK);
	EXPECT_STREQ(alloc, "abc");
	free(alloc);
	struct vaccel_list_entry e = LIST_ENTRY_INIT(e);
	EXPECT_EQ(e.next, &e);
}

} // namespace
