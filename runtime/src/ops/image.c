// SPDX-License-Identifier: Apache-2.0
// The image ops, and their genop form: read [img], write [out_imgname] or,
// for classification, [out_imgname, out_text] (out_text may be left out).
#include "../rt.h"
#include <inttypes.h>

typedef int (*rt_image_text_fn)(struct vaccel_session *sess, const void *img,
				unsigned char *out_text,
				unsigned char *out_imgname, size_t len_img,
				size_t len_out_text, size_t len_out_imgname);
typedef int (*rt_image_fn)(struct vaccel_session *sess, const void *img,
			   unsigned char *out_imgname, size_t len_img,
			   size_t len_out_imgname);

static int _image_op(vaccel_op_type_t type, struct vaccel_session *sess,
		     const void *img, unsigned char *out_text,
		     unsigned char *out_imgname, size_t len_img,
		     size_t len_out_text, size_t len_out_imgname)
{
	if (!sess || !sess->plugin)
		return VACCEL_EINVAL;
	void *fn = rt_op_lookup(sess, type);
	if (!fn)
		return VACCEL_ENOTSUP;
	int ret;
	vaccel_prof_region_start(&rt_op_prof[type]);
	/* classification always gets the text form, so a plugin never sees
	 * the short form through a 7-argument function */
	if (type == VACCEL_OP_IMAGE_CLASSIFY)
		ret = ((rt_image_text_fn)fn)(sess, img, out_text, out_imgname,
					     len_img, len_out_text,
					     len_out_imgname);
	else
		ret = ((rt_image_fn)fn)(sess, img, out_imgname, len_img,
					len_out_imgname);
	vaccel_prof_region_stop(&rt_op_prof[type]);
	return ret;
}

int vaccel_image_classification(struct vaccel_session *sess, const void *img,
				unsigned char *out_text,
				unsigned char *out_imgname, size_t len_img,
				size_t len_out_text, size_t len_out_imgname)
{
	return _image_op(VACCEL_OP_IMAGE_CLASSIFY, sess, img, out_text,
			 out_imgname, len_img, len_out_text, len_out_imgname);
}

int vaccel_image_detection(struct vaccel_session *sess, const void *img,
			   unsigned char *out_imgname, size_t len_img,
			   size_t len_out_imgname)
{
	return _image_op(VACCEL_OP_IMAGE_DETECT, sess, img, NULL, out_imgname,
			 len_img, 0, len_out_imgname);
}

int vaccel_image_segmentation(struct vaccel_session *sess, const void *img,
			      unsigned char *out_imgname, size_t len_img,
			      size_t len_out_imgname)
{
	return _image_op(VACCEL_OP_IMAGE_SEGMENT, sess, img, NULL, out_imgname,
			 len_img, 0, len_out_imgname);
}

int vaccel_image_pose(struct vaccel_session *sess, const void *img,
		      unsigned char *out_imgname, size_t len_img,
		      size_t len_out_imgname)
{
	return _image_op(VACCEL_OP_IMAGE_POSE, sess, img, NULL, out_imgname,
			 len_img, 0, len_out_imgname);
}

int vaccel_image_depth(struct vaccel_session *sess, const void *img,
		       unsigned char *out_imgname, size_t len_img,
		       size_t len_out_imgname)
{
	return _image_op(VACCEL_OP_IMAGE_DEPTH, sess, img, NULL, out_imgname,
			 len_img, 0, len_out_imgname);
}

/* A non-empty byte argument of type want (or RAW, as older callers send). */
static bool _bytes(const struct vaccel_arg *a, vaccel_arg_type_t want)
{
	return a->buf && a->size &&
	       (a->type == want || a->type == VACCEL_ARG_RAW);
}

int rt_image_unpack(vaccel_op_type_t type, struct vaccel_session *sess,
		    struct vaccel_arg *read, int nr_read,
		    struct vaccel_arg *write, int nr_write)
{
	const char *name = vaccel_op_type_to_str(type);
	int max_write = type == VACCEL_OP_IMAGE_CLASSIFY ? 2 : 1;
	if (nr_read != 1 || nr_write < 1 || nr_write > max_write) {
		vaccel_error("genop %s: expected 1 read and 1..%d write "
			     "arguments, got %d and %d",
			     name, max_write, nr_read, nr_write);
		return VACCEL_EINVAL;
	}
	if (!_bytes(&read[0], VACCEL_ARG_BUFFER)) {
		vaccel_error("genop %s: read[0] must be the image (BUFFER)",
			     name);
		return VACCEL_EINVAL;
	}
	for (int i = 0; i < nr_write; i++)
		if (!_bytes(&write[i], VACCEL_ARG_UCHAR_ARRAY)) {
			vaccel_error("genop %s: write[%d] must be an output "
				     "buffer (UCHAR_ARRAY)",
				     name, i);
			return VACCEL_EINVAL;
		}
	unsigned char *text = nr_write > 1 ? write[1].buf : NULL;
	size_t len_text = nr_write > 1 ? write[1].size : 0;
	return _image_op(type, sess, read[0].buf, text, write[0].buf,
			 read[0].size, len_text, write[0].size);
}
