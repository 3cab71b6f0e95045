// SPDX-License-Identifier: Apache-2.0
// The torch tensor and buffer helpers: argument checks and who frees what.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

extern "C" {
#include <vaccel.h>
}

TEST(TorchTensor, InitCopiesDimsAndRejectsNoDims)
{
	struct vaccel_torch_tensor t;
	int64_t dims[3] = {2, 3, 4};
	ASSERT_EQ(vaccel_torch_tensor_init(&t, 3, dims, VACCEL_TORCH_FLOAT),
		  VACCEL_OK);
	dims[0] = 99;
	EXPECT_EQ(t.nr_dims, 3);
	EXPECT_EQ(t.dims[0], 2);
	EXPECT_EQ(t.dims[2], 4);
	EXPECT_EQ(t.data, nullptr);
	EXPECT_FALSE(t.owned);
	EXPECT_EQ(t.data_type, VACCEL_TORCH_FLOAT);
	EXPECT_EQ(vaccel_torch_tensor_release(&t), VACCEL_OK);
	EXPECT_EQ(t.dims, nullptr);
	EXPECT_EQ(t.nr_dims, 0);

	EXPECT_EQ(vaccel_torch_tensor_init(&t, 0, dims, VACCEL_TORCH_FLOAT),
		  VACCEL_EINVAL);
	EXPECT_EQ(vaccel_torch_tensor_init(nullptr, 1, dims,
					   VACCEL_TORCH_FLOAT),
		  VACCEL_EINVAL);
	// NULL dims: zeroed dims of the given count (upstream's behaviour).
	ASSERT_EQ(vaccel_torch_tensor_init(&t, 2, nullptr, VACCEL_TORCH_INT),
		  VACCEL_OK);
	EXPECT_EQ(t.dims[0], 0);
	EXPECT_EQ(t.dims[1], 0);
	vaccel_torch_tensor_release(&t);
}

TEST(TorchTensor, AllocateOwnsZeroedDataDeleteFreesIt)
{
	struct vaccel_torch_tensor *t = nullptr;
	int64_t dims[1] = {16};
	ASSERT_EQ(vaccel_torch_tensor_allocate(&t, 1, dims, VACCEL_TORCH_BYTE,
					       16),
		  VACCEL_OK);
	ASSERT_NE(t, nullptr);
	EXPECT_TRUE(t->owned);
	EXPECT_EQ(t->size, 16u);
	for (int i = 0; i < 16; i++)
		EXPECT_EQ(static_cast<unsigned char *>(t->data)[i], 0);
	EXPECT_EQ(vaccel_torch_tensor_delete(t), VACCEL_OK); // ASan: no leak

	ASSERT_EQ(vaccel_torch_tensor_allocate(&t, 1, dims, VACCEL_TORCH_BYTE,
					       0),
		  VACCEL_OK);
	EXPECT_EQ(t->data, nullptr);
	EXPECT_FALSE(t->owned);
	vaccel_torch_tensor_delete(t);
	EXPECT_EQ(vaccel_torch_tensor_new(nullptr, 1, dims, VACCEL_TORCH_BYTE),
		  VACCEL_EINVAL);
	EXPECT_EQ(vaccel_torch_tensor_delete(nullptr), VACCEL_EINVAL);
}

TEST(TorchTensor, SetDataIsBorrowedTakeDataHandsOver)
{
	struct vaccel_torch_tensor *t = nullptr;
	int64_t dims[1] = {4};
	float borrowed[4] = {1, 2, 3, 4};
	ASSERT_EQ(vaccel_torch_tensor_new(&t, 1, dims, VACCEL_TORCH_FLOAT),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_torch_tensor_set_data(t, borrowed, sizeof(borrowed)),
		  VACCEL_OK);
	EXPECT_FALSE(t->owned);
	EXPECT_EQ(t->data, borrowed);
	// Deleting must not free the stack array (ASan would abort).
	EXPECT_EQ(vaccel_torch_tensor_delete(t), VACCEL_OK);

	ASSERT_EQ(vaccel_torch_tensor_allocate(&t, 1, dims, VACCEL_TORCH_FLOAT,
					       16),
		  VACCEL_OK);
	void *data = nullptr;
	size_t size = 0;
	EXPECT_EQ(vaccel_torch_tensor_take_data(t, &data, nullptr),
		  VACCEL_EINVAL);
	ASSERT_EQ(vaccel_torch_tensor_take_data(t, &data, &size), VACCEL_OK);
	EXPECT_EQ(size, 16u);
	EXPECT_EQ(t->data, nullptr);
	EXPECT_FALSE(t->owned);
	vaccel_torch_tensor_delete(t);
	free(data); // the caller owns it now
}

TEST(TorchBuffer, OwnsDataUntilTaken)
{
	struct vaccel_torch_buffer *b = nullptr;
	char *data = static_cast<char *>(malloc(8));
	ASSERT_NE(data, nullptr);
	ASSERT_EQ(vaccel_torch_buffer_new(&b, data, 8), VACCEL_OK);
	EXPECT_EQ(b->data, data);
	EXPECT_EQ(b->size, 8u);
	EXPECT_EQ(vaccel_torch_buffer_delete(b), VACCEL_OK); // frees data

	struct vaccel_torch_buffer s;
	data = static_cast<char *>(malloc(8));
	ASSERT_EQ(vaccel_torch_buffer_init(&s, data, 8), VACCEL_OK);
	void *got = nullptr;
	size_t size = 0;
	ASSERT_EQ(vaccel_torch_buffer_take_data(&s, &got, &size), VACCEL_OK);
	EXPECT_EQ(got, data);
	EXPECT_EQ(size, 8u);
	EXPECT_EQ(vaccel_torch_buffer_release(&s), VACCEL_OK); // nothing left
	free(got);

	EXPECT_EQ(vaccel_torch_buffer_init(nullptr, nullptr, 0), VACCEL_EINVAL);
	EXPECT_EQ(vaccel_torch_buffer_new(nullptr, nullptr, 0), VACCEL_EINVAL);
	EXPECT_EQ(vaccel_torch_buffer_release(nullptr), VACCEL_EINVAL);
}
