// The host's checks of tensor records (transport/tensor.h): every malformed record a guest
// can write is refused with its own code, and output packing never leaves the area.
#include <gtest/gtest.h>

#include <errno.h>
#include <stdint.h>

#include <cstring>
#include <vector>

extern "C" {
#include "transport/tensor.h"
}

namespace {

// Element sizes of a family with types 1 (1 byte), 2 (4 bytes) and 3 (8 bytes); 0 is none.
const uint8_t kEsize[] = {0, 1, 4, 8};

vtr_tensor Rec(uint32_t dtype, std::vector<int64_t> dims, uint64_t size)
{
	vtr_tensor t{};
	t.dtype = dtype;
	t.nr_dims = (uint32_t)dims.size();
	t.size = size;
	for (size_t i = 0; i < dims.size() && i < VTR_TENSOR_MAX_DIMS; i++)
		t.dims[i] = dims[i];
	return t;
}

TEST(TensorRecords, AWellFormedRecordPasses)
{
	vtr_tensor t = Rec(2, {3, 224, 224}, 3ull * 224 * 224 * 4);
	EXPECT_EQ(vtr_tensor_check(&t, kEsize, 4, 1), 0);
	vtr_tensor empty = Rec(3, {4, 0}, 0);
	EXPECT_EQ(vtr_tensor_check(&empty, kEsize, 4, 1), 0) << "a zero dim makes an empty tensor";
}

TEST(TensorRecords, DtypesOutOfRangeOrUnknownAreRefused)
{
	vtr_tensor t = Rec(0, {2}, 2);
	EXPECT_EQ(vtr_tensor_check(&t, kEsize, 4, 1), -EINVAL) << "type 0 has no size";
	t.dtype = 4;
	EXPECT_EQ(vtr_tensor_check(&t, kEsize, 4, 1), -EINVAL) << "beyond the table";
	t.dtype = 0xffffffffu;
	EXPECT_EQ(vtr_tensor_check(&t, kEsize, 4, 1), -EINVAL);
}

TEST(TensorRecords, DimCountsOutsideTheBoundsAreRefused)
{
	vtr_tensor t = Rec(1, {}, 1);
	EXPECT_EQ(vtr_tensor_check(&t, kEsize, 4, 1), -EINVAL) << "fewer dims than the minimum";
	EXPECT_EQ(vtr_tensor_check(&t, kEsize, 4, 0), 0) << "a scalar where 0 dims are allowed";
	t.nr_dims = VTR_TENSOR_MAX_DIMS + 1;
	EXPECT_EQ(vtr_tensor_check(&t, kEsize, 4, 0), -EINVAL);
	t.nr_dims = 0xffffffffu;
	EXPECT_EQ(vtr_tensor_check(&t, kEsize, 4, 0), -EINVAL);
}

TEST(TensorRecords, NegativeDimsAreRefused)
{
	vtr_tensor t = Rec(1, {-2, -3}, 6);
	EXPECT_EQ(vtr_tensor_check(&t, kEsize, 4, 1), -EINVAL) << "(-2)*(-3) == 6 must not pass";
	t = Rec(1, {INT64_MIN}, 0);
	EXPECT_EQ(vtr_tensor_check(&t, kEsize, 4, 1), -EINVAL);
}

TEST(TensorRecords, OverflowingProductsAreRefused)
{
	vtr_tensor t = Rec(3, {1ll << 31, 1ll << 31, 4}, 0); // 2^64 * 8 bytes
	EXPECT_EQ(vtr_tensor_check(&t, kEsize, 4, 1), -EOVERFLOW);
	t = Rec(3, {INT64_MAX}, (uint64_t)INT64_MAX * 8); // wraps to a small number
	EXPECT_EQ(vtr_tensor_check(&t, kEsize, 4, 1), -EOVERFLOW);
	t = Rec(1, {1ll << 32, 1ll << 32}, 0); // exactly 2^64: wraps to 0, which the size claims
	EXPECT_EQ(vtr_tensor_check(&t, kEsize, 4, 1), -EOVERFLOW);
}

TEST(TensorRecords, ASizeThatIsNotTheProductIsRefused)
{
	vtr_tensor t = Rec(2, {2, 3}, 24 - 4);
	EXPECT_EQ(vtr_tensor_check(&t, kEsize, 4, 1), -EMSGSIZE);
	t.size = 24 + 1;
	EXPECT_EQ(vtr_tensor_check(&t, kEsize, 4, 1), -EMSGSIZE);
}

TEST(TensorRecords, TheCopyTakesWholeRecordsUpToTheLimit)
{
	std::vector<vtr_tensor> src(VTR_TENSOR_MAX + 1, Rec(1, {1}, 1));
	vtr_tensor out[VTR_TENSOR_MAX];
	uint32_t n = 99;
	EXPECT_EQ(vtr_tensors_copy(src.data(), 2 * sizeof(vtr_tensor), out, VTR_TENSOR_MAX, &n), 0);
	EXPECT_EQ(n, 2u);
	EXPECT_EQ(vtr_tensors_copy(src.data(), sizeof(vtr_tensor) + 1, out, VTR_TENSOR_MAX, &n), -EINVAL);
	EXPECT_EQ(n, 0u);
	EXPECT_EQ(vtr_tensors_copy(src.data(), src.size() * sizeof(vtr_tensor), out, VTR_TENSOR_MAX, &n),
		  -E2BIG);
	EXPECT_EQ(vtr_tensors_copy(src.data(), 0, out, VTR_TENSOR_MAX, &n), 0);
	EXPECT_EQ(n, 0u);
}

TEST(TensorRecords, OutputsArePackedOnLinesInsideTheArea)
{
	uint64_t cursor = 0, off = 1;
	ASSERT_EQ(vtr_tensor_place(&cursor, 10, 256, &off), 0);
	EXPECT_EQ(off, 0u);
	ASSERT_EQ(vtr_tensor_place(&cursor, 100, 256, &off), 0);
	EXPECT_EQ(off, 64u) << "the next output starts on the next line";
	ASSERT_EQ(vtr_tensor_place(&cursor, 64, 256, &off), 0);
	EXPECT_EQ(off, 192u);
	EXPECT_EQ(vtr_tensor_place(&cursor, 1, 256, &off), -ENOSPC) << "the area is full";
	EXPECT_EQ(vtr_tensor_place(&cursor, 0, 256, &off), 0) << "an empty output still fits";
	cursor = 0;
	EXPECT_EQ(vtr_tensor_place(&cursor, UINT64_MAX, 256, &off), -ENOSPC);
	cursor = 250;
	EXPECT_EQ(vtr_tensor_place(&cursor, UINT64_MAX - 100, 256, &off), -ENOSPC) << "no overflow";
	cursor = 300;
	EXPECT_EQ(vtr_tensor_place(&cursor, 0, 256, &off), -ENOSPC) << "a cursor past the area";
}

TEST(TensorRecords, NodeNamesMustEndInsideTheirRecord)
{
	vtr_node src[2] = {};
	src[0].id = 3;
	strcpy(src[0].name, "input_1");
	strcpy(src[1].name, "output");
	vtr_node out[2];
	uint32_t n = 0;
	ASSERT_EQ(vtr_nodes_copy(src, sizeof(src), out, 2, &n), 0);
	EXPECT_EQ(n, 2u);
	EXPECT_EQ(out[0].id, 3);
	EXPECT_STREQ(out[1].name, "output");
	memset(src[1].name, 'x', sizeof(src[1].name)); // no NUL: a host strlen would run off
	EXPECT_EQ(vtr_nodes_copy(src, sizeof(src), out, 2, &n), -EINVAL);
	EXPECT_EQ(n, 0u);
	EXPECT_EQ(vtr_nodes_copy(src, sizeof(src) - 1, out, 2, &n), -EINVAL);
	EXPECT_EQ(vtr_nodes_copy(src, sizeof(src), out, 1, &n), -E2BIG);
}

} // namespace
