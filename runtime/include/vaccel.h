// SPDX-License-Identifier: Apache-2.0
// Umbrella header of the vAccel API (source-compatible with upstream v0.7).
#pragma once

#include "vaccel/arg.h"
#include "vaccel/async.h"
#include "vaccel/buffer.h"
#include "vaccel/config.h"
#include "vaccel/core.h"
#include "vaccel/error.h"
#include "vaccel/id.h"
#include "vaccel/log.h"
#include "vaccel/op.h"
#include "vaccel/plugin.h"
#include "vaccel/prof.h"
#include "vaccel/resource.h"
#include "vaccel/session.h"
#include "vaccel/version.h"
#include "vaccel/ops/blas.h"
#include "vaccel/ops/exec.h"
#include "vaccel/ops/genop.h"
#include "vaccel/ops/noop.h"
#include "vaccel/ops/torch.h"
