/* SPDX-License-Identifier: Apache-2.0 */
/* The stage mark-control-plane: what kubeadm's phase of that name does to a master's Node, which the kubelet
 * cannot do itself (the NodeRestriction admission forbids it the node-role label): the label
 * node-role.kubernetes.io/control-plane, and the control-plane taint as node_taints() says (present unless
 * kubernetes.schedule_on_masters, or the inventory's own taint of that key). The kubelet registered the taint
 * already; this converges a Node registered before the inventory changed. One merge patch with the Node's
 * resourceVersion, so a concurrent writer makes it try again rather than lose its change. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap.h"
#include "checks.h"
#include "inventory.h"
#include "kube-mark.h"
#include "kubeconfig.h"
#include "string-util.h"
#include "banned.h"

/* "KEY[=VALUE]:EFFECT" as the API's {key, value, effect}. */
static json_t *taint_json(const char *t) {
        const char *colon = strrchr(t, ':');
        size_t key = taint_key_length(t);
        if (!colon || key == 0)
                return NULL;
        json_t *o = json_pack("{s:s%,s:s}", "key", t, key, "effect", colon + 1);
        if (o && t[key] == '=' &&
            json_object_set_new(o, "value", json_stringn(t + key + 1, (size_t) (colon - t - key - 1))) < 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static bool taint_equal(json_t *a, json_t *b) {
        const char *va = json_string_value(json_object_get(a, "value")), *vb = json_string_value(json_object_get(b, "value"));
        return streq_ptr(json_string_value(json_object_get(a, "key")), json_string_value(json_object_get(b, "key"))) &&
               streq_ptr(json_string_value(json_object_get(a, "effect")), json_string_value(json_object_get(b, "effect"))) &&
               streq(strempty(va), strempty(vb));
}

int mark_control_plane_patch(json_t *node, const char *want_taint, json_t **ret) {
        json_t *meta = json_object_get(node, "metadata"), *labels = json_object_get(meta, "labels");
        json_t *taints = json_object_get(json_object_get(node, "spec"), "taints");
        const char *version = json_string_value(json_object_get(meta, "resourceVersion"));
        _cleanup_(json_decrefp) json_t *want = want_taint ? taint_json(want_taint) : NULL;
        if (!json_is_object(meta) || !version)
                return -EBADMSG;
        if (want_taint && !want)
                return -EINVAL;

        bool label_ok = json_is_string(json_object_get(labels, CONTROL_PLANE_LABEL));
        /* Every taint but those of the control-plane key, then the one we want of it. */
        _cleanup_(json_decrefp) json_t *next = json_array();
        bool have_want = false, dropped = false;
        size_t i;
        json_t *t;
        if (!next)
                return -ENOMEM;
        json_array_foreach(taints, i, t) {
                if (!streq_ptr(json_string_value(json_object_get(t, "key")), CONTROL_PLANE_LABEL)) {
                        json_array_append(next, t);
                        continue;
                }
                if (want && !have_want && taint_equal(t, want)) {
                        have_want = true;
                        json_array_append(next, t);
                } else
                        dropped = true;
        }
        if (want && !have_want)
                json_array_append(next, want);
        if (label_ok && !dropped && (!want || have_want)) {
                *ret = NULL;
                return 0;
        }
        json_t *patch = json_pack("{s:{s:s,s:{s:s}},s:{s:O}}", "metadata", "resourceVersion", version, "labels",
                                  CONTROL_PLANE_LABEL, "", "spec", "taints", next);
        if (!patch)
                return -ENOMEM;
        *ret = patch;
        return 0;
}

int node_labels_patch(json_t *node, const char *const *now, const char *const *gone, json_t **ret) {
        json_t *meta = json_object_get(node, "metadata"), *labels = json_object_get(meta, "labels");
        const char *version = json_string_value(json_object_get(meta, "resourceVersion"));
        if (!json_is_object(meta) || !version || (labels && !json_is_object(labels) && !json_is_null(labels)))
                return -EBADMSG;
        _cleanup_(json_decrefp) json_t *set = json_object();
        if (!set)
                return -ENOMEM;
        for (size_t i = 0; now && now[i]; i += 2)
                if (!streq_ptr(json_string_value(json_object_get(labels, now[i])), now[i + 1]) &&
                    json_object_set_new(set, now[i], json_string(now[i + 1])) < 0)
                        return -ENOMEM;
        for (size_t i = 0; gone && gone[i]; i++) {
                bool still = false;
                for (size_t j = 0; now && now[j] && !still; j += 2)
                        still = streq(now[j], gone[i]);
                if (!still && json_object_get(labels, gone[i]) && json_object_set_new(set, gone[i], json_null()) < 0)
                        return -ENOMEM;
        }
        if (json_object_size(set) == 0) {
                *ret = NULL;
                return 0;
        }
        json_t *patch = json_pack("{s:{s:O,s:s}}", "metadata", "labels", set, "resourceVersion", version);
        if (!patch)
                return -ENOMEM;
        *ret = patch;
        return 0;
}

static bool taint_same_slot(json_t *a, json_t *b) {
        return streq_ptr(json_string_value(json_object_get(a, "key")), json_string_value(json_object_get(b, "key"))) &&
               streq_ptr(json_string_value(json_object_get(a, "effect")), json_string_value(json_object_get(b, "effect")));
}

/* The taints as the API's objects, into a new array; NULL on a bad taint or no memory. */
static json_t *taints_json(const char *const *v) {
        json_t *a = json_array();
        for (size_t i = 0; a && v && v[i]; i++) {
                json_t *t = taint_json(v[i]);
                if (!t || json_array_append_new(a, t) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

int node_taints_patch(json_t *node, const char *const *now, const char *const *gone, json_t **ret) {
        json_t *meta = json_object_get(node, "metadata"), *spec = json_object_get(node, "spec");
        json_t *taints = json_object_get(spec, "taints");
        const char *version = json_string_value(json_object_get(meta, "resourceVersion"));
        if (!json_is_object(meta) || !version || (taints && !json_is_array(taints) && !json_is_null(taints)))
                return -EBADMSG;
        _cleanup_(json_decrefp) json_t *want = taints_json(now), *old = taints_json(gone), *next = json_array();
        if (!want || !old || !next)
                return (now && !want) || (gone && !old) ? -EINVAL : -ENOMEM;

        /* Each taint of the Node: kept, replaced in place by the one of its key and effect the inventory
         * wants now, or dropped when only an earlier inventory gave it. */
        bool changed = false;
        size_t i, j;
        json_t *t, *w;
        json_t *placed = json_array();
        if (!placed)
                return -ENOMEM;
        json_array_foreach(taints, i, t) {
                json_t *replacement = NULL;
                json_array_foreach(want, j, w)
                        if (taint_same_slot(t, w)) {
                                replacement = w;
                                break;
                        }
                bool was_ours = false;
                json_array_foreach(old, j, w)
                        was_ours = was_ours || taint_same_slot(t, w);
                if (replacement) {
                        changed = changed || !taint_equal(t, replacement);
                        json_array_append(next, taint_equal(t, replacement) ? t : replacement);
                        json_array_append(placed, replacement);
                } else if (was_ours)
                        changed = true;
                else
                        json_array_append(next, t);
        }
        json_array_foreach(want, j, w) {
                bool there = false;
                json_array_foreach(placed, i, t)
                        there = there || t == w;
                if (!there) {
                        json_array_append(next, w);
                        changed = true;
                }
        }
        json_decref(placed);
        if (!changed) {
                *ret = NULL;
                return 0;
        }
        json_t *patch = json_pack("{s:{s:s},s:{s:O}}", "metadata", "resourceVersion", version, "spec", "taints", next);
        if (!patch)
                return -ENOMEM;
        *ret = patch;
        return 0;
}

/* The control-plane taint node_taints() gives n ("KEY[=VALUE]:EFFECT"), or NULL for none; malloc()ed into
 * *ret. */
static int wanted_taint(const Inventory *inv, const Node *n, char **ret) {
        char **t = NULL;
        size_t k = 0;
        int r = node_taints(inv, n, &t, &k);
        if (r < 0)
                return r;
        *ret = NULL;
        for (size_t i = 0; i < k; i++) {
                if (!*ret && taint_has_key(t[i], CONTROL_PLANE_LABEL))
                        *ret = TAKE_PTR(t[i]);
                free(t[i]);
        }
        free(t);
        return 0;
}

int bootstrap_mark_control_plane(BootstrapContext *c) {
        _cleanup_free_ char *path = strprintf("/api/v1/nodes/%s", c->node->name), *want = NULL;
        _cleanup_free_ char *body = NULL, *why = NULL, *patch_text = NULL;
        _cleanup_(json_decrefp) json_t *node = NULL, *patch = NULL;
        Kubeconfig k = {};
        if (!path)
                return -ENOMEM;
        int r = wanted_taint(c->inv, c->node, &want);
        r = r ?: kube_admin_load(c, "clusterboot:mark-control-plane", &k);
        if (r < 0)
                return r;
        int status = kubeconfig_get(&k, path, c->timeout_ms, &body, &why);
        if (status == 404) {
                bootstrap_message(c, "Node %s is not registered yet (its kubelet registers it)", c->node->name);
                r = -EAGAIN;
        } else if (status < 0 || status != 200) {
                bootstrap_message(c, "kube-apiserver does not answer GET %s yet (%s)", path,
                                  status < 0 ? strempty(why) : "an HTTP error");
                r = status == -ENOMEM ? status : -EAGAIN;
        } else if (!(node = json_loads(body, 0, NULL)))
                r = -EBADMSG;
        else
                r = mark_control_plane_patch(node, want, &patch);
        if (r >= 0 && !patch) {
                bootstrap_message(c, "Node %s is marked as a control-plane node already (label%s%s)", c->node->name,
                                  want ? ", taint " : "", strempty(want));
                kubeconfig_done(&k);
                return 0;
        }
        if (r >= 0 && !(patch_text = json_dumps(patch, JSON_COMPACT)))
                r = -ENOMEM;
        if (r >= 0) {
                free(body);
                body = NULL;
                free(why);
                why = NULL;
                status = kubeconfig_request(&k, "PATCH", path, "application/merge-patch+json", patch_text,
                                            c->timeout_ms, &body, &why);
                if (status == 200)
                        bootstrap_message(c, "Node %s marked as a control-plane node: label %s%s%s", c->node->name,
                                          CONTROL_PLANE_LABEL, want ? ", taint " : ", no taint (schedule_on_masters)",
                                          strempty(want));
                else if (status == 409) {
                        bootstrap_message(c, "Node %s changed while it was being marked; trying again", c->node->name);
                        r = -EAGAIN;
                } else {
                        bootstrap_message(c, "kube-apiserver refused PATCH %s: %s", path,
                                          status < 0 ? strempty(why) : "HTTP error");
                        r = status < 0 ? status : -EACCES;
                }
        }
        kubeconfig_done(&k);
        return r;
}
