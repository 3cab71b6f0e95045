// SPDX-License-Identifier: Apache-2.0
// Image ops. The model, when the plugin needs one, is the session's
// registered MODEL resource. len_img is the image's size in bytes; each
// output is a caller buffer of len_out_* bytes that the plugin fills.
#pragma once

#include "vaccel/session.h"
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out_text: the label; out_imgname: the name of a result image. */
int vaccel_image_classification(struct vaccel_session *sess, const void *img,
				unsigned char *out_text,
				unsigned char *out_imgname, size_t len_img,
				size_t len_out_text, size_t len_out_imgname);
int vaccel_image_detection(struct vaccel_session *sess, const void *img,
			   unsigned char *out_imgname, size_t len_img,
			   size_t len_out_imgname);
int vaccel_image_segmentation(struct vaccel_session *sess, const void *img,
			      unsigned char *out_imgname, size_t len_img,
			      size_t len_out_imgname);
int vaccel_image_pose(struct vaccel_session *sess, const void *img,
		      unsigned char *out_imgname, size_t len_img,
		      size_t len_out_imgname);
int vaccel_image_depth(struct vaccel_session *sess, const void *img,
		       unsigned char *out_imgname, size_t len_img,
		       size_t len_out_imgname);

#ifdef __cplusplus
}
#endif
