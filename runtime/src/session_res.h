// SPDX-License-Identifier: Apache-2.0
// The link between a session and a registered resource (runtime-private).
#pragma once

#include "vaccel.h"

struct rt_res_link {
	vaccel_list_entry_t sess_entry;
	struct vaccel_resource *res;
};

struct rt_res_link *rt_session_find_link(struct vaccel_session *sess,
					 const struct vaccel_resource *res);
