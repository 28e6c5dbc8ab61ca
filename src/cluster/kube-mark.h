/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>

/* The merge patch that marks the Node node (as the API server returns it) as a control-plane node: the label
 * node-role.kubernetes.io/control-plane, and of the taints with that key exactly want_taint
 * ("KEY[=VALUE]:EFFECT", or NULL for none); other taints kept. The patch carries the Node's resourceVersion.
 * *ret is NULL when the Node is marked already. -EBADMSG: node is not a Node. */
int mark_control_plane_patch(json_t *node, const char *want_taint, json_t **ret);

/* The merge patch that gives the Node node (as the API server returns it) the labels the inventory gives it
 * now (pairs key, value, NULL-terminated) and removes those an earlier inventory gave it that now lacks
 * (keys, NULL-terminated; NULL: none): the kubelet's --node-labels take effect only when it registers. Other
 * labels (the kubelet's own, node-role) are left alone. The patch carries the Node's resourceVersion. *ret is
 * NULL when the Node has them all already. -EBADMSG: node is not a Node. */
int node_labels_patch(json_t *node, const char *const *now, const char *const *gone, json_t **ret);

/* The merge patch that gives the Node node (as the API server returns it) the taints the inventory gives it
 * now ("KEY[=VALUE]:EFFECT", NULL-terminated; node_taints()) and removes those an earlier inventory gave it
 * that now lacks (same form; NULL: none). A taint is known by its key and effect, as `kubectl taint` knows
 * it: one of now replaces a taint of the same key and effect. Other taints (the node controller's, an
 * operator's) are kept in place. The whole list goes in the patch (a merge patch replaces a list), with the
 * Node's resourceVersion. *ret is NULL when the Node has them all already. -EBADMSG: node is not a Node;
 * -EINVAL: a taint is not of that form. */
int node_taints_patch(json_t *node, const char *const *now, const char *const *gone, json_t **ret);
