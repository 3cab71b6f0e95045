// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stdint.h>

typedef int64_t vaccel_id_t;
