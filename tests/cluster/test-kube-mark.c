/* SPDX-License-Identifier: Apache-2.0 */
/* The Node patches of src/cluster/kube-mark.c on Nodes as the API server returns them: what the stage
 * mark-control-plane and sync would send (control-plane mark, labels, taints), or that they send nothing. */
#include <jansson.h>
#include <errno.h>
#include <stdlib.h>

#include "kube-mark.h"
#include "tap.h"

#define CP "node-role.kubernetes.io/control-plane"

/* A Node as the API server returns it (resourceVersion 42), with the given labels and taints (JSON
 * fragments, "null" for none). */
static json_t *node_with(const char *labels, const char *taints) {
        char text[1024];
        snprintf(text, sizeof(text),
                 "{\"kind\":\"Node\",\"metadata\":{\"name\":\"m\",\"resourceVersion\":\"42\",\"labels\":%s},"
                 "\"spec\":{\"podCIDR\":\"10.244.0.0/24\",\"taints\":%s}}",
                 labels, taints);
        return json_loads(text, 0, NULL);
}

/* What a patch function returned for node: the patch as compact JSON with sorted keys, "none" for no patch,
 * NULL when it failed. Takes node and patch. */
static char *shown(json_t *node, int r, json_t *patch) {
        char *s = r < 0 ? NULL : patch ? json_dumps(patch, JSON_COMPACT | JSON_SORT_KEYS) : strdup("none");
        json_decref(patch);
        json_decref(node);
        return s;
}

/* The control-plane patch for a Node of the given labels and taints. */
static char *patch_for(const char *labels, const char *taints, const char *want) {
        json_t *node = node_with(labels, taints), *patch = NULL;
        int r = node ? mark_control_plane_patch(node, want, &patch) : -ENOMEM;
        return node ? shown(node, r, patch) : NULL;
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
        json_t *node = node_with(labels, "null"), *patch = NULL;
        int r = node ? node_labels_patch(node, now, gone, &patch) : -ENOMEM;
        return node ? shown(node, r, patch) : NULL;
}

static char *taints_patch_for(const char *taints, const char *const *now, const char *const *gone) {
        json_t *node = node_with("null", taints), *patch = NULL;
        int r = node ? node_taints_patch(node, now, gone, &patch) : -ENOMEM;
        return node ? shown(node, r, patch) : NULL;
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
                        "\"resourceVersion\":\"42\"}}");
        free(p);
        /* Everything in place: no patch. A label to remove that the Node does not have: nothing to do. */
        p = labels_patch_for("{\"topology.kubernetes.io/zone\":\"zone-9\"}", zone9, gone);
        ASSERT_STREQ(p, "none");
        free(p);
        /* A Node without labels at all. */
        p = labels_patch_for("null", zone9, NULL);
        ASSERT_STREQ(p, "{\"metadata\":{\"labels\":{\"topology.kubernetes.io/zone\":\"zone-9\"},\"resourceVersion\":\"42\"}}");
        free(p);
        json_t *notnode = json_loads("{\"kind\":\"Status\"}", 0, NULL), *patch = NULL;
        ASSERT_INT_EQ(node_labels_patch(notnode, zone9, NULL, &patch), -EBADMSG);
        json_decref(notnode);
}

TEST(test_taints) {
        static const char *const now[] = { "dedicated=kafka:NoSchedule", "example.com/maintenance:PreferNoSchedule", NULL };
        static const char *const gone[] = { "dedicated=storage:NoSchedule", "example.com/old=x:NoExecute", NULL };
        /* A value changed in place (same key and effect), an old one dropped, a new one added; the node
         * controller's and the control-plane taint stay where they are. */
        char *p = taints_patch_for("[{\"key\":\"node.kubernetes.io/not-ready\",\"effect\":\"NoSchedule\"},"
                                   "{\"key\":\"dedicated\",\"value\":\"storage\",\"effect\":\"NoSchedule\"},"
                                   "{\"key\":\"example.com/old\",\"value\":\"x\",\"effect\":\"NoExecute\"},"
                                   "{\"key\":\"" CP "\",\"effect\":\"NoSchedule\"}]",
                                   now, gone);
        ASSERT_STREQ(p, "{\"metadata\":{\"resourceVersion\":\"42\"},\"spec\":{\"taints\":["
                        "{\"effect\":\"NoSchedule\",\"key\":\"node.kubernetes.io/not-ready\"},"
                        "{\"effect\":\"NoSchedule\",\"key\":\"dedicated\",\"value\":\"kafka\"},"
                        "{\"effect\":\"NoSchedule\",\"key\":\"" CP "\"},"
                        "{\"effect\":\"PreferNoSchedule\",\"key\":\"example.com/maintenance\"}]}}");
        free(p);
        /* In place already, in another order: nothing to send. */
        p = taints_patch_for("[{\"key\":\"example.com/maintenance\",\"effect\":\"PreferNoSchedule\"},"
                             "{\"key\":\"dedicated\",\"value\":\"kafka\",\"effect\":\"NoSchedule\"}]",
                             now, gone);
        ASSERT_STREQ(p, "none");
        free(p);
        /* Every taint taken away: an empty list, which the merge patch sends as such. */
        p = taints_patch_for("[{\"key\":\"dedicated\",\"value\":\"kafka\",\"effect\":\"NoSchedule\"}]", NULL, now);
        ASSERT_STREQ(p, "{\"metadata\":{\"resourceVersion\":\"42\"},\"spec\":{\"taints\":[]}}");
        free(p);
        /* A Node without taints; a taint of another effect is another taint. */
        static const char *const execute[] = { "dedicated=kafka:NoExecute", NULL };
        p = taints_patch_for("null", execute, NULL);
        ASSERT_STREQ(p, "{\"metadata\":{\"resourceVersion\":\"42\"},\"spec\":{\"taints\":["
                        "{\"effect\":\"NoExecute\",\"key\":\"dedicated\",\"value\":\"kafka\"}]}}");
        free(p);
        static const char *const bad[] = { "no-effect", NULL };
        ASSERT_NULL(taints_patch_for("null", bad, NULL));
        json_t *notnode = json_loads("{\"kind\":\"Status\"}", 0, NULL), *patch = NULL;
        ASSERT_INT_EQ(node_taints_patch(notnode, now, NULL, &patch), -EBADMSG);
        json_decref(notnode);
}

int main(void) {
        RUN(test_new_master);
        RUN(test_marked_already);
        RUN(test_taint_added_others_kept);
        RUN(test_taint_removed_or_replaced);
        RUN(test_not_a_node);
        RUN(test_labels);
        RUN(test_taints);
        return tap_done();
}
