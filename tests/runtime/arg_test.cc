// SPDX-License-Identifier: Apache-2.0
// struct vaccel_arg and the vaccel_arg_array helpers.
#include <cstdlib>
#include <cstring>

#include <gtest/gtest.h>

extern "C" {
#include <vaccel.h>
}

namespace {

TEST(Arg, InitCopiesAndFromBufBorrows)
{
	int v = 7;
	struct vaccel_arg a;
	ASSERT_EQ(vaccel_arg_init(&a, &v, sizeof(v), VACCEL_ARG_INT32, 0),
		  VACCEL_OK);
	EXPECT_TRUE(a.owned);
	EXPECT_NE(a.buf, &v);
	EXPECT_EQ(*(int *)a.buf, 7);
	EXPECT_EQ(vaccel_arg_release(&a), VACCEL_OK);
	EXPECT_EQ(a.buf, nullptr);

	ASSERT_EQ(vaccel_arg_init_from_buf(&a, &v, sizeof(v), VACCEL_ARG_INT32,
					   0),
		  VACCEL_OK);
	EXPECT_FALSE(a.owned);
	EXPECT_EQ(a.buf, &v);
	EXPECT_EQ(vaccel_arg_release(&a), VACCEL_OK);

	struct vaccel_arg *p = nullptr;
	ASSERT_EQ(vaccel_arg_new(&p, &v, sizeof(v), VACCEL_ARG_CUSTOM, 9),
		  VACCEL_OK);
	EXPECT_EQ(p->custom_type_id, 9u);
	EXPECT_EQ(vaccel_arg_delete(p), VACCEL_OK);
	EXPECT_EQ(vaccel_arg_init(nullptr, &v, 4, VACCEL_ARG_RAW, 0),
		  VACCEL_EINVAL);
	EXPECT_EQ(vaccel_arg_init(&a, &v, 4, (vaccel_arg_type_t)999, 0),
		  VACCEL_EINVAL);
}

TEST(ArgArray, TypedRoundTrip)
{
	struct vaccel_arg_array arr;
	ASSERT_EQ(vaccel_arg_array_init(&arr, 1), VACCEL_OK);
	int8_t i8 = -5;
	uint16_t u16 = 65000;
	int32_t i32 = -123456;
	uint64_t u64 = 1ull << 40;
	float f = 2.5f;
	double d = -1.25;
	bool b = true;
	char c = 'x';
	unsigned char uc = 200;
	char str[] = "hello";
	float fa[3] = { 1, 2, 3 };
	ASSERT_EQ(vaccel_arg_array_add_int8(&arr, &i8), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_uint16(&arr, &u16), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_int32(&arr, &i32), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_uint64(&arr, &u64), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_float(&arr, &f), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_double(&arr, &d), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_bool(&arr, &b), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_char(&arr, &c), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_uchar(&arr, &uc), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_string(&arr, str), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_float_array(&arr, fa, 3), VACCEL_OK);
	EXPECT_EQ(vaccel_arg_array_count(&arr), 11u);
	EXPECT_GE(arr.capacity, 11u) << "array grows past initial capacity";
	EXPECT_EQ(arr.args[9].type, VACCEL_ARG_STRING);
	EXPECT_EQ(arr.args[9].size, 6u) << "string size includes the NUL";

	int8_t oi8;
	uint16_t ou16;
	int32_t oi32;
	uint64_t ou64;
	float of;
	double od;
	bool ob;
	char oc;
	unsigned char ouc;
	char *ostr;
	float *ofa;
	size_t n;
	EXPECT_EQ(vaccel_arg_array_get_int8(&arr, &oi8), VACCEL_OK);
	EXPECT_EQ(vaccel_arg_array_get_uint16(&arr, &ou16), VACCEL_OK);
	EXPECT_EQ(vaccel_arg_array_get_int32(&arr, &oi32), VACCEL_OK);
	EXPECT_EQ(vaccel_arg_array_get_uint64(&arr, &ou64), VACCEL_OK);
	EXPECT_EQ(vaccel_arg_array_get_float(&arr, &of), VACCEL_OK);
	EXPECT_EQ(vaccel_arg_array_get_double(&arr, &od), VACCEL_OK);
	EXPECT_EQ(vaccel_arg_array_get_bool(&arr, &ob), VACCEL_OK);
	EXPECT_EQ(vaccel_arg_array_get_char(&arr, &oc), VACCEL_OK);
	EXPECT_EQ(vaccel_arg_array_get_uchar(&arr, &ouc), VACCEL_OK);
	EXPECT_EQ(vaccel_arg_array_get_string(&arr, &ostr), VACCEL_OK);
	EXPECT_EQ(vaccel_arg_array_get_float_array(&arr, &ofa, &n), VACCEL_OK);
	EXPECT_EQ(oi8, i8);
	EXPECT_EQ(ou16, u16);
	EXPECT_EQ(oi32, i32);
	EXPECT_EQ(ou64, u64);
	EXPECT_EQ(of, f);
	EXPECT_EQ(od, d);
	EXPECT_EQ(ob, b);
	EXPECT_EQ(oc, c);
	EXPECT_EQ(ouc, uc);
	EXPECT_STREQ(ostr, "hello");
	EXPECT_EQ(n, 3u);
	EXPECT_EQ(ofa[2], 3.0f);
	EXPECT_EQ(vaccel_arg_array_get_int8(&arr, &oi8), VACCEL_ERANGE)
		<< "reading past the end";
	EXPECT_EQ(vaccel_arg_array_release(&arr), VACCEL_OK);
}

TEST(ArgArray, TypeAndSizeMismatch)
{
	struct vaccel_arg_array arr;
	ASSERT_EQ(vaccel_arg_array_init(&arr, 0), VACCEL_OK);
	int32_t v = 1;
	ASSERT_EQ(vaccel_arg_array_add_int32(&arr, &v), VACCEL_OK);
	int64_t o;
	EXPECT_EQ(vaccel_arg_array_get_int64(&arr, &o), VACCEL_EINVAL);
	EXPECT_EQ(vaccel_arg_array_position(&arr), 0u)
		<< "a failed get does not advance";
	float fo;
	EXPECT_EQ(vaccel_arg_array_get_float(&arr, &fo), VACCEL_EINVAL);
	int32_t ok;
	EXPECT_EQ(vaccel_arg_array_get_int32(&arr, &ok), VACCEL_OK);
	vaccel_arg_array_release(&arr);
}

TEST(ArgArray, StringWithoutTerminatorIsRejected)
{
	char raw[3] = { 'a', 'b', 'c' };
	struct vaccel_arg args[1] = { { raw, 3, VACCEL_ARG_STRING, 0, false } };
	struct vaccel_arg_array arr;
	ASSERT_EQ(vaccel_arg_array_wrap(&arr, args, 1), VACCEL_OK);
	char *s;
	EXPECT_EQ(vaccel_arg_array_get_string(&arr, &s), VACCEL_EINVAL);
}

TEST(ArgArray, SetWritesIntoCallerBuffers)
{
	int32_t out = 0;
	float outv[2] = { 0, 0 };
	char outs[8] = { 0 };
	struct vaccel_arg_array arr;
	ASSERT_EQ(vaccel_arg_array_init(&arr, 2), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_int32(&arr, &out), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_float_array(&arr, outv, 2), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_raw(&arr, outs, sizeof(outs)), VACCEL_OK);
	// A plugin sees a wrapped copy of the args and writes through it.
	struct vaccel_arg_array view;
	ASSERT_EQ(vaccel_arg_array_wrap(&view, vaccel_arg_array_raw(&arr),
					vaccel_arg_array_count(&arr)),
		  VACCEL_OK);
	int32_t v = 99;
	float vv[2] = { 1.5f, -2.0f };
	EXPECT_EQ(vaccel_arg_array_set_int32(&view, &v), VACCEL_OK);
	EXPECT_EQ(vaccel_arg_array_set_float_array(&view, vv, 2), VACCEL_OK);
	char hi[] = "hi";
	EXPECT_EQ(vaccel_arg_array_set_raw(&view, hi, sizeof(hi)), VACCEL_OK);
	EXPECT_EQ(out, 99);
	EXPECT_EQ(outv[1], -2.0f);
	EXPECT_STREQ(outs, "hi");
	vaccel_arg_array_reset_position(&view);
	float big[3] = { 0, 0, 0 };
	EXPECT_EQ(vaccel_arg_array_set_int32(&view, &v), VACCEL_OK);
	EXPECT_EQ(vaccel_arg_array_set_float_array(&view, big, 3),
		  VACCEL_EINVAL)
		<< "set must not overflow the caller's buffer";
	int extra = 1;
	EXPECT_EQ(vaccel_arg_array_add_int32(&view, &extra), VACCEL_ERANGE)
		<< "a wrapped array cannot grow (upstream: ERANGE)";
	vaccel_arg_array_release(&arr);
}

struct pair {
	int32_t a;
	int32_t b;
};

bool PairValid(const void *buf, size_t size, uint32_t id)
{
	return buf && size == sizeof(pair) && id == 77;
}

int PairSer(const void *data, size_t data_size, uint32_t, void **buf,
	    size_t *size)
{
	if (data_size != sizeof(pair))
		return VACCEL_EINVAL;
	const pair *p = static_cast<const pair *>(data);
	int32_t *out = static_cast<int32_t *>(malloc(2 * sizeof(int32_t)));
	out[0] = p->b; // swapped, to see the serializer ran
	out[1] = p->a;
	*buf = out;
	*size = 2 * sizeof(int32_t);
	return VACCEL_OK;
}

int PairDeser(const void *buf, size_t size, uint32_t, size_t data_size,
	      void *data)
{
	if (size != 2 * sizeof(int32_t) || data_size != sizeof(pair))
		return VACCEL_EINVAL;
	const int32_t *in = static_cast<const int32_t *>(buf);
	pair *p = static_cast<pair *>(data);
	p->a = in[1];
	p->b = in[0];
	return VACCEL_OK;
}

TEST(ArgArray, CustomAndSerialized)
{
	pair p = { 1, 2 };
	struct vaccel_arg_array arr;
	ASSERT_EQ(vaccel_arg_array_init(&arr, 0), VACCEL_OK);
	EXPECT_EQ(vaccel_arg_array_add_custom(&arr, 78, &p, sizeof(p),
					      PairValid),
		  VACCEL_EINVAL)
		<< "validator rejects the wrong id";
	ASSERT_EQ(vaccel_arg_array_add_custom(&arr, 77, &p, sizeof(p),
					      PairValid),
		  VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_serialized(&arr, VACCEL_ARG_CUSTOM, 77,
						  &p, sizeof(p), PairSer),
		  VACCEL_OK);
	EXPECT_TRUE(arr.args[1].owned);
	EXPECT_EQ(((int32_t *)arr.args[1].buf)[0], 2);

	void *buf;
	size_t size;
	EXPECT_EQ(vaccel_arg_array_get_custom(&arr, 76, &buf, &size, nullptr),
		  VACCEL_EINVAL);
	ASSERT_EQ(vaccel_arg_array_get_custom(&arr, 77, &buf, &size, PairValid),
		  VACCEL_OK);
	EXPECT_EQ(buf, &p);
	pair q = { 0, 0 };
	ASSERT_EQ(vaccel_arg_array_get_serialized(&arr, VACCEL_ARG_CUSTOM, 77,
						  &q, sizeof(q), PairDeser),
		  VACCEL_OK);
	EXPECT_EQ(q.a, 1);
	EXPECT_EQ(q.b, 2);
	EXPECT_EQ(vaccel_arg_array_release(&arr), VACCEL_OK)
		<< "owned serialized buffer freed (ASan checks)";
}

TEST(ArgArray, RangesRemainingAndCopies)
{
	int v[4] = { 10, 11, 12, 13 };
	struct vaccel_arg_array src, dst, cpy;
	ASSERT_EQ(vaccel_arg_array_init(&src, 0), VACCEL_OK);
	for (int &x : v)
		ASSERT_EQ(vaccel_arg_array_add_int32(&src, &x), VACCEL_OK);
	int32_t first;
	ASSERT_EQ(vaccel_arg_array_get_int32(&src, &first), VACCEL_OK);
	EXPECT_EQ(vaccel_arg_array_remaining_count(&src), 3u);

	ASSERT_EQ(vaccel_arg_array_init(&dst, 0), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_remaining(&dst, &src, false), VACCEL_OK);
	EXPECT_EQ(vaccel_arg_array_count(&dst), 3u);
	EXPECT_EQ(dst.args[0].buf, &v[1]) << "shallow add shares buffers";

	ASSERT_EQ(vaccel_arg_array_init(&cpy, 0), VACCEL_OK);
	ASSERT_EQ(vaccel_arg_array_add_all(&cpy, &src, true), VACCEL_OK);
	EXPECT_EQ(vaccel_arg_array_count(&cpy), 4u);
	EXPECT_NE(cpy.args[0].buf, &v[0]) << "copying add duplicates";
	EXPECT_EQ(*(int *)cpy.args[3].buf, 13);
	EXPECT_EQ(vaccel_arg_array_add_range(&cpy, &src, 3, 2, false),
		  VACCEL_ERANGE)
		<< "a range outside the source (upstream: ERANGE)";

	struct vaccel_arg *rest;
	size_t n;
	ASSERT_EQ(vaccel_arg_array_get_remaining(&src, &rest, &n), VACCEL_OK);
	EXPECT_EQ(n, 3u);
	EXPECT_EQ(*(int *)rest[0].buf, 11);
	EXPECT_EQ(vaccel_arg_array_remaining_count(&src), 3u)
		<< "get_remaining does not move the position (upstream)";

	vaccel_arg_array_clear(&cpy);
	EXPECT_EQ(vaccel_arg_array_count(&cpy), 0u);
	vaccel_arg_array_release(&src);
	vaccel_arg_array_release(&dst);
	vaccel_arg_array_release(&cpy);

	struct vaccel_arg_array *heap = nullptr;
	ASSERT_EQ(vaccel_arg_array_new(&heap, 2), VACCEL_OK);
	EXPECT_TRUE(heap->owned) << "owned: the args storage is the array's";
	EXPECT_EQ(vaccel_arg_array_delete(heap), VACCEL_OK);
}

TEST(ArgArray, OlderSerialHelpers)
{
	int in = 21, out = 0;
	struct vaccel_arg args[2] = { { &in, sizeof(in), VACCEL_ARG_RAW, 0,
					false },
				      { &out, sizeof(out), VACCEL_ARG_RAW, 0,
					false } };
	EXPECT_EQ(*(int *)vaccel_extract_serial_arg(args, 0), 21);
	int v = 42;
	EXPECT_EQ(vaccel_write_serial_arg(args, 1, &v), VACCEL_OK);
	EXPECT_EQ(out, 42);
}

} // namespace
