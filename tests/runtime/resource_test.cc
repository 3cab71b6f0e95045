// SPDX-License-Identifier: Apache-2.0
// Resource lifecycle: creation, registration, refcounts, and ops refusing
// resources that are not registered.
#include <cstring>
#include <fstream>
#include <string>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "tests/runtime/test_util.h"

using rt_test::Boot;
using rt_test::Path;

namespace {

class Resource : public ::testing::Test {
    protected:
	void SetUp() override
	{
		ASSERT_EQ(Boot(Path("PLUGIN_EXEC")), VACCEL_OK);
		ASSERT_EQ(vaccel_session_init(&s1, 0), VACCEL_OK);
		ASSERT_EQ(vaccel_session_init(&s2, 0), VACCEL_OK);
		lib = Path("MYTESTLIB");
	}
	void TearDown() override
	{
		vaccel_session_release(&s1);
		vaccel_session_release(&s2);
	}
	struct vaccel_session s1, s2;
	std::string lib;
};

TEST_F(Resource, InitFromMissingPathFails)
{
	struct vaccel_resource r;
	EXPECT_EQ(vaccel_resource_init(&r, "/nonexistent/lib.so",
				       VACCEL_RESOURCE_LIB),
		  VACCEL_EINVAL)
		<< "upstream: a path that is neither a file nor a directory";
	EXPECT_EQ(vaccel_resource_init(&r, nullptr, VACCEL_RESOURCE_LIB),
		  VACCEL_EINVAL);
	EXPECT_EQ(vaccel_resource_init(&r, lib.c_str(),
				       (vaccel_resource_type_t)7),
		  VACCEL_EINVAL);
}

TEST_F(Resource, RegisterUnregisterRefcount)
{
	struct vaccel_resource r;
	ASSERT_EQ(vaccel_resource_init(&r, lib.c_str(), VACCEL_RESOURCE_LIB),
		  VACCEL_OK);
	EXPECT_GT(r.id, 0);
	EXPECT_EQ(r.nr_paths, 1u);
	ASSERT_EQ(r.nr_blobs, 1u);
	EXPECT_GT(r.blobs[0]->size, 0u) << "blob size is the file size";
	EXPECT_EQ(vaccel_resource_refcount(&r), 0);
	EXPECT_FALSE(vaccel_session_has_resource(&s1, &r));

	ASSERT_EQ(vaccel_resource_register(&r, &s1), VACCEL_OK);
	EXPECT_EQ(vaccel_resource_refcount(&r), 1);
	EXPECT_EQ(vaccel_resource_register(&r, &s1), VACCEL_OK)
		<< "registering again is a no-op (upstream)";
	EXPECT_EQ(vaccel_resource_refcount(&r), 1);
	ASSERT_EQ(vaccel_resource_register(&r, &s2), VACCEL_OK);
	EXPECT_EQ(vaccel_resource_refcount(&r), 2);
	EXPECT_TRUE(vaccel_session_has_resource(&s1, &r));
	EXPECT_TRUE(vaccel_session_has_resource(&s2, &r));

	struct vaccel_resource *found = nullptr;
	EXPECT_EQ(vaccel_resource_get_by_id(&found, r.id), VACCEL_OK);
	EXPECT_EQ(found, &r);
	EXPECT_EQ(vaccel_session_resource_by_type(&s1, &found,
						  VACCEL_RESOURCE_LIB),
		  VACCEL_OK);
	EXPECT_EQ(found, &r);
	EXPECT_EQ(vaccel_resource_sync(&r, &s1), VACCEL_OK);

	EXPECT_EQ(vaccel_resource_unregister(&r, &s1), VACCEL_OK);
	EXPECT_EQ(vaccel_resource_unregister(&r, &s1), VACCEL_EINVAL)
		<< "not registered (upstream: EINVAL)";
	EXPECT_EQ(vaccel_resource_refcount(&r), 1);
	EXPECT_EQ(vaccel_resource_unregister(&r, &s2), VACCEL_OK);
	EXPECT_EQ(vaccel_resource_refcount(&r), 0);
	EXPECT_EQ(vaccel_resource_release(&r), VACCEL_OK);
	EXPECT_EQ(vaccel_resource_get_by_id(&found, r.id), VACCEL_ENOENT);
}

TEST_F(Resource, SessionReleaseDropsRegistrations)
{
	struct vaccel_resource *r = nullptr;
	ASSERT_EQ(vaccel_resource_new(&r, lib.c_str(), VACCEL_RESOURCE_LIB),
		  VACCEL_OK);
	struct vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, 0), VACCEL_OK);
	ASSERT_EQ(vaccel_resource_register(r, &s), VACCEL_OK);
	EXPECT_EQ(vaccel_session_release(&s), VACCEL_OK);
	EXPECT_EQ(vaccel_resource_refcount(r), 0);
	EXPECT_EQ(vaccel_resource_delete(r), VACCEL_OK);
}

TEST_F(Resource, OpsRefuseUnregisteredResources)
{
	struct vaccel_resource r;
	ASSERT_EQ(vaccel_resource_init(&r, lib.c_str(), VACCEL_RESOURCE_LIB),
		  VACCEL_OK);
	int in = 5, out = 0;
	struct vaccel_arg read[1] = { { &in, sizeof(in), VACCEL_ARG_INT32, 0,
					false } };
	struct vaccel_arg write[1] = { { &out, sizeof(out), VACCEL_ARG_INT32,
					 0, false } };
	EXPECT_EQ(vaccel_exec_with_resource(&s1, &r, "mytestfunc", read, 1,
					    write, 1),
		  VACCEL_EPERM);
	ASSERT_EQ(vaccel_resource_register(&r, &s2), VACCEL_OK);
	EXPECT_EQ(vaccel_exec_with_resource(&s1, &r, "mytestfunc", read, 1,
					    write, 1),
		  VACCEL_EPERM)
		<< "registered with another session is not enough";
	EXPECT_EQ(out, 0);
	ASSERT_EQ(vaccel_resource_register(&r, &s1), VACCEL_OK);
	EXPECT_EQ(vaccel_exec_with_resource(&s1, &r, "mytestfunc", read, 1,
					    write, 1),
		  VACCEL_OK);
	EXPECT_EQ(out, 10);
	EXPECT_EQ(vaccel_resource_unregister(&r, &s1), VACCEL_OK);
	EXPECT_EQ(vaccel_resource_unregister(&r, &s2), VACCEL_OK);
	EXPECT_EQ(vaccel_resource_release(&r), VACCEL_OK);

	struct vaccel_resource data;
	ASSERT_EQ(vaccel_resource_init(&data, lib.c_str(),
				       VACCEL_RESOURCE_DATA),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_resource_register(&data, &s1), VACCEL_OK);
	EXPECT_EQ(vaccel_exec_with_resource(&s1, &data, "mytestfunc", read, 1,
					    write, 1),
		  VACCEL_EINVAL)
		<< "exec_with_resource needs a LIB resource";
	EXPECT_EQ(vaccel_resource_unregister(&data, &s1), VACCEL_OK);
	EXPECT_EQ(vaccel_resource_release(&data), VACCEL_OK);
}

std::string Slurp(const std::string &path)
{
	return rt_test::ReadFile(path);
}

TEST_F(Resource, FromBufferWritesFileOrStaysInMemory)
{
	std::string bytes = Slurp(lib);
	ASSERT_GT(bytes.size(), 0u);

	struct vaccel_resource onfile, inmem;
	ASSERT_EQ(vaccel_resource_init_from_buf(&onfile, bytes.data(),
						bytes.size(), VACCEL_RESOURCE_LIB,
						"lib.so", false),
		  VACCEL_OK);
	ASSERT_EQ(onfile.nr_paths, 1u);
	std::string path = onfile.paths[0];
	EXPECT_EQ(Slurp(path), bytes) << "bytes written to " << path;
	ASSERT_EQ(vaccel_resource_init_from_buf(&inmem, bytes.data(),
						bytes.size(), VACCEL_RESOURCE_LIB,
						"lib.so", true),
		  VACCEL_OK);
	EXPECT_EQ(inmem.nr_paths, 0u);
	ASSERT_EQ(inmem.nr_blobs, 1u);
	EXPECT_EQ(memcmp(inmem.blobs[0]->data, bytes.data(), bytes.size()), 0);

	int in = 21, out = 0;
	struct vaccel_arg read[1] = { { &in, sizeof(in), VACCEL_ARG_INT32, 0,
					false } };
	struct vaccel_arg write[1] = { { &out, sizeof(out), VACCEL_ARG_INT32,
					 0, false } };
	for (struct vaccel_resource *r : { &onfile, &inmem }) {
		out = 0;
		ASSERT_EQ(vaccel_resource_register(r, &s1), VACCEL_OK);
		EXPECT_EQ(vaccel_exec_with_resource(&s1, r, "mytestfunc", read,
						    1, write, 1),
			  VACCEL_OK);
		EXPECT_EQ(out, 42);
		EXPECT_EQ(vaccel_resource_unregister(r, &s1), VACCEL_OK);
	}
	EXPECT_EQ(vaccel_resource_release(&onfile), VACCEL_OK);
	struct stat st;
	EXPECT_NE(stat(path.c_str(), &st), 0) << "file removed on release";
	EXPECT_EQ(vaccel_resource_release(&inmem), VACCEL_OK);

	struct vaccel_resource bad;
	EXPECT_EQ(vaccel_resource_init_from_buf(&bad, bytes.data(),
						bytes.size(), VACCEL_RESOURCE_LIB,
						"../escape.so", false),
		  VACCEL_EINVAL);
}

TEST_F(Resource, MultiPath)
{
	const char *paths[2] = { lib.c_str(), lib.c_str() };
	struct vaccel_resource *r = nullptr;
	ASSERT_EQ(vaccel_resource_multi_new(&r, paths, 2, VACCEL_RESOURCE_MODEL),
		  VACCEL_OK);
	EXPECT_EQ(r->nr_paths, 2u);
	EXPECT_EQ(r->nr_blobs, 2u);
	EXPECT_EQ(r->type, VACCEL_RESOURCE_MODEL);
	EXPECT_EQ(vaccel_resource_delete(r), VACCEL_OK);
}

TEST(ResourceVirtio, PluginHooksSeeResources)
{
	ASSERT_EQ(Boot(Path("PLUGIN_FAKEVIRTIO")), VACCEL_OK);
	struct vaccel_session s;
	ASSERT_EQ(vaccel_session_init(&s, VACCEL_PLUGIN_REMOTE), VACCEL_OK);
	struct vaccel_resource r;
	ASSERT_EQ(vaccel_resource_init(&r, Path("MYTESTLIB").c_str(),
				       VACCEL_RESOURCE_LIB),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_resource_register(&r, &s), VACCEL_OK);
	EXPECT_EQ(r.remote_id, 5000 + r.id) << "resource_register hook ran";
	EXPECT_EQ(vaccel_resource_unregister(&r, &s), VACCEL_OK);
	EXPECT_EQ(r.remote_id, 0) << "resource_unregister hook ran";
	EXPECT_EQ(vaccel_resource_release(&r), VACCEL_OK);
	EXPECT_EQ(vaccel_session_release(&s), VACCEL_OK);
}

} // namespace
