/* SPDX-License-Identifier: Apache-2.0 */
/* mark_control_plane_patch() (src/cluster/kube-mark.c) on Nodes as the API server returns them: what the
 * stage mark-control-plane would send, or that it sends nothing. */
#include <jansson.h>
#include <errno.h>
#include <stdlib.h>

#include "kube-mark.h"
#include "tap.h"

#define CP "node-role.kubernetes.io/control-plane"

/* The patch for a Node of the given labels and taints (JSON fragments), as compact JSON; "none" for no patch. */
static char *patch_for(const char *labels, const char *taints, const char *want) {
        char text[1024];
        snprintf(text, sizeof(text),
                 "{\"kind\":\"Node\",\"metadata\":{\"name\":\"m\",\"resourceVersion\":\"42\",\"labels\":%s},"
                 "\"spec\":{\"podCIDR\":\"10.244.0.0/24\",\"taints\":%s}}",
                 labels, taints);
        json_t *node = json_loads(text, 0, NULL), *patch = NULL;
        if (!node || mark_control_plane_patch(node, want, &patch) < 0) {
                json_decref(node);
                return NULL;
        }
        char *s = patch ? json_dumps(patch, JSON_COMPACT | JSON_SORT_KEYS) : strdup("none");
        json_decref(patch);
        json_decref(node);
        return s;
}

TEST(test_new_master) {
        /* As the kubelet registered it: the taint from --register-with-taints, no label. */
        char *p = patch_for("{\"kubernetes.io/hostname\":\"m\"}", "[{\"key\":\"" CP "\",\"effect\":\"NoSchedule\"}]",
                            CP ":NoSchedule");
        ASSERT_STREQ(p, "{\"metadata\":{\"labels\":{\"" CP "\":\"\"},\"resourceVersion\":\"42\"},"
                        "\"spec\":{\"taints\":[{\"effect\":\"NoSchedule\",\"key\":\"" CP "\"}]}}");
        free(p);
}

TEST(test_marked_already) {
        char *p = patch_for("{\"" CP "\":\"\"}", "[{\"key\":\"" CP "\",\"effect\":\"NoSchedule\"}]", CP ":NoSchedule");
        ASSERT_STREQ(p, "none");
        free(p);
        /* schedule_on_masters: the label, no taint of the key. */
        p = patch_for("{\"" CP "\":\"\"}", "[{\"key\":\"gpu\",\"value\":\"a\",\"effect\":\"NoExecute\"}]", NULL);
        ASSERT_STREQ(p, "none");
        free(p);
}

TEST(test_taint_added_others_kept) {
        /* A Node registered before: no taints field at all, then one with another taint. */
        char *p = patch_for("{}", "null", CP ":NoSchedule");
        ASSERT_STREQ(p, "{\"metadata\":{\"labels\":{\"" CP "\":\"\"},\"resourceVersion\":\"42\"},"
                        "\"spec\":{\"taints\":[{\"effect\":\"NoSchedule\",\"key\":\"" CP "\"}]}}");
        free(p);
        p = patch_for("{\"" CP "\":\"\"}", "[{\"key\":\"gpu\",\"value\":\"a\",\"effect\":\"NoExecute\"}]",
                      CP ":NoSchedule");
        ASSERT_STREQ(p, "{\"metadata\":{\"labels\":{\"" CP "\":\"\"},\"resourceVersion\":\"42\"},"
                        "\"spec\":{\"taints\":[{\"effect\":\"NoExecute\",\"key\":\"gpu\",\"value\":\"a\"},"
                        "{\"effect\":\"NoSchedule\",\"key\":\"" CP "\"}]}}");
        free(p);
}

TEST(test_taint_removed_or_replaced) {
        /* schedule_on_masters turned on after registration: the taint goes, the other stays. */
        char *p = patch_for("{\"" CP "\":\"\"}",
                            "[{\"key\":\"" CP "\",\"effect\":\"NoSchedule\"},{\"key\":\"gpu\",\"effect\":\"NoSchedule\"}]",
                            NULL);
        ASSERT_STREQ(p, "{\"metadata\":{\"labels\":{\"" CP "\":\"\"},\"resourceVersion\":\"42\"},"
                        "\"spec\":{\"taints\":[{\"effect\":\"NoSchedule\",\"key\":\"gpu\"}]}}");
        free(p);
        /* The inventory's own taint of the key, with another effect and a value. */
        p = patch_for("{\"" CP "\":\"\"}", "[{\"key\":\"" CP "\",\"effect\":\"NoSchedule\"}]",
                      CP "=infra:PreferNoSchedule");
        ASSERT_STREQ(p, "{\"metadata\":{\"labels\":{\"" CP "\":\"\"},\"resourceVersion\":\"42\"},"
                        "\"spec\":{\"taints\":[{\"effect\":\"PreferNoSchedule\",\"key\":\"" CP "\",\"value\":\"infra\"}]}}");
        free(p);
}

TEST(test_not_a_node) {
        json_t *patch = NULL, *bad = json_loads("{\"kind\":\"Status\",\"code\":404}", 0, NULL);
        ASSERT_INT_EQ(mark_control_plane_patch(bad, CP ":NoSchedule", &patch), -EBADMSG);
        ASSERT_NULL(patch);
        json_decref(bad);
}

/* node_labels_patch(): the inventory's labels onto a registered Node. */
static char *labels_patch_for(const char *labels, const char *const *now, const char *const *gone) {
        char text[1024];
        snprintf(text, sizeof(text), "{\"kind\":\"Node\",\"metadata\":{\"name\":\"w\",\"resourceVersion\":\"7\",\"labels\":%s}}",
                 labels);
        json_t *node = json_loads(text, 0, NULL), *patch = NULL;
        if (!node || node_labels_patch(node, now, gone, &patch) < 0) {
                json_decref(node);
                return NULL;
        }
        char *s = patch ? json_dumps(patch, JSON_COMPACT | JSON_SORT_KEYS) : strdup("none");
        json_decref(patch);
        json_decref(node);
        return s;
}

TEST(test_labels) {
        static const char *const zone9[] = { "topology.kubernetes.io/zone", "zone-9", NULL };
        static const char *const gone[] = { "topology.kubernetes.io/zone", "team", NULL };
        /* A label changed: set; one the earlier inventory gave and this one does not: removed (null); the
         * kubelet's own and the node-role label stay. */
        char *p = labels_patch_for("{\"kubernetes.io/hostname\":\"w\",\"" CP "\":\"\",\"topology.kubernetes.io/zone\":\"zone-1\","
                                   "\"team\":\"a\"}",
                                   zone9, gone);
        ASSERT_STREQ(p, "{\"metadata\":{\"labels\":{\"team\":null,\"topology.kubernetes.io/zone\":\"zone-9\"},"
                        "\"resourceVersion\":\"7\"}}");
        free(p);
        /* Everything in place: no patch. A label to remove that the Node does not have: nothing to do. */
        p = labels_patch_for("{\"topology.kubernetes.io/zone\":\"zone-9\"}", zone9, gone);
        ASSERT_STREQ(p, "none");
        free(p);
        /* A Node without labels at all. */
        p = labels_patch_for("null", zone9, NULL);
        ASSERT_STREQ(p, "{\"metadata\":{\"labels\":{\"topology.kubernetes.io/zone\":\"zone-9\"},\"resourceVersion\":\"7\"}}");
        free(p);
        json_t *notnode = json_loads("{\"kind\":\"Status\"}", 0, NULL), *patch = NULL;
        ASSERT_INT_EQ(node_labels_patch(notnode, zone9, NULL, &patch), -EBADMSG);
        json_decref(notnode);
}

int main(void) {
        RUN(test_new_master);
        RUN(test_marked_already);
        RUN(test_taint_added_others_kept);
        RUN(test_taint_removed_or_replaced);
        RUN(test_not_a_node);
        RUN(test_labels);
        return tap_done();
}
