/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>

/* The merge patch that marks the Node node (as the API server returns it) as a control-plane node: the label
 * node-role.kubernetes.io/control-plane, and of the taints with that key exactly want_taint
 * ("KEY[=VALUE]:EFFECT", or NULL for none); other taints kept. The patch carries the Node's resourceVersion.
 * *ret is NULL when the Node is marked already. -EBADMSG: node is not a Node. */
int mark_control_plane_patch(json_t *node, const char *want_taint, json_t **ret);
