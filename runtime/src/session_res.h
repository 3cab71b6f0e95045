// SPDX-License-Identifier: Apache-2.0
// The link between a session and a registered resource (runtime-private).
#pragma once

#include "vaccel.h"

/* One registration: in the session's list for the resource's type and in
 * the resource's list of sessions. */
struct rt_res_link {
	vaccel_list_entry_t sess_entry;
	vaccel_list_entry_t res_entry;
	struct vaccel_resource *res;
	struct vaccel_session *sess;
};

struct rt_res_link *rt_session_find_link(struct vaccel_session *sess,
					 const struct vaccel_resource *res);
