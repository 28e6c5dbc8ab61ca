/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "identity.h"
#include "render.h"

/* node-identity and current-node.yaml for a detected identity. */
int render_identity(const Identity *id, RenderSet *out);
