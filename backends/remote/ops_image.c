/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The image ops across the transport, in upstream's genop layout: read [image (BUFFER)],
 * write [out_imgname, out_text (classify only, when given)] as UCHAR_ARRAYs. The image
 * travels by offset when it lives in the pool, else it is copied in once; the outputs are
 * copied back after the completion.
 */
#include <vaccel.h>

#include "backends/remote/ops.h"

static int _image(struct vaccel_session *sess, vaccel_op_type_t op, const void *img,
		  size_t len_img, unsigned char *out_imgname, size_t len_out_imgname,
		  unsigned char *out_text, size_t len_out_text)
{
	struct vtr_io in[1] = {{(void *)img, len_img, VACCEL_ARG_BUFFER}};
	struct vtr_io out[2] = {
		{out_imgname, len_out_imgname, VACCEL_ARG_UCHAR_ARRAY},
		{out_text, len_out_text, VACCEL_ARG_UCHAR_ARRAY},
	};

	if (!img || !len_img || !out_imgname || !len_out_imgname)
		return VACCEL_EINVAL;
	return shm_op_call(sess, op, in, 1, out, out_text && len_out_text ? 2 : 1);
}

int shm_image_classification(struct vaccel_session *sess, const void *img, unsigned char *out_text,
			     unsigned char *out_imgname, size_t len_img, size_t len_out_text,
			     size_t len_out_imgname)
{
	return _image(sess, VACCEL_OP_IMAGE_CLASSIFY, img, len_img, out_imgname, len_out_imgname,
		      out_text, len_out_text);
}

int shm_image_detection(struct vaccel_session *sess, const void *img, unsigned char *out_imgname,
			size_t len_img, size_t len_out_imgname)
{
	return _image(sess, VACCEL_OP_IMAGE_DETECT, img, len_img, out_imgname, len_out_imgname, NULL, 0);
}

int shm_image_segmentation(struct vaccel_session *sess, const void *img,
			   unsigned char *out_imgname, size_t len_img, size_t len_out_imgname)
{
	return _image(sess, VACCEL_OP_IMAGE_SEGMENT, img, len_img, out_imgname, len_out_imgname, NULL, 0);
}

int shm_image_pose(struct vaccel_session *sess, const void *img, unsigned char *out_imgname,
		   size_t len_img, size_t len_out_imgname)
{
	return _image(sess, VACCEL_OP_IMAGE_POSE, img, len_img, out_imgname, len_out_imgname, NULL, 0);
}

int shm_image_depth(struct vaccel_session *sess, const void *img, unsigned char *out_imgname,
		    size_t len_img, size_t len_out_imgname)
{
	return _image(sess, VACCEL_OP_IMAGE_DEPTH, img, len_img, out_imgname, len_out_imgname, NULL, 0);
}
